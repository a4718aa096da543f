"""全省 on the dashboard (PROVINCE_VIEWERS): every contest of the deployment side by side —
units behind, entries accepted, entries per day — and choosing which contest's pages to read
(read-only: every change is refused to a province viewer)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from bot.dashboard.views import PROVINCE_DAYS, Summary
from bot.refusal import NotFound
from bot.runtime import runtime_by_id, runtimes
from plugins.dashboard.deps import CONTEST_COOKIE, Forbidden, PageDep, states
from plugins.dashboard.pages import PREFIX, redirect

router = APIRouter()
MSG_PROVINCE_ONLY = "全省总览仅限省级账号（.env 的 PROVINCE_VIEWERS）查看。"
MSG_NO_CONTEST = "没有这个大赛。"
COOKIE_SECONDS = 366 * 24 * 3600


@router.get(f"{PREFIX}/province")
async def province_page(page: PageDep) -> Response:
    if not page.viewer.province:
        raise Forbidden(MSG_PROVINCE_ONLY, page.viewer)
    now = page.d.now()
    everyone = runtimes()
    views = [states.for_contest(r.contest_id).views for r in everyone]
    summaries: list[Summary] = await asyncio.gather(*(v.summary(now, PROVINCE_DAYS) for v in views))
    rows = []
    for runtime, o in zip(everyone, summaries, strict=True):
        days = o.days
        rows.append(
            {
                "id": runtime.contest_id or "main",
                "name": o.contest_name,
                "phase": o.time_left,
                "units": o.totals.units,
                "met": o.totals.met,
                "behind": o.totals.behind,
                "accepted": o.totals.accepted,
                "withdrawn": o.totals.withdrawn,
                "percent": o.totals.percent,
                "days": [(f"{d.day:%m-%d}", d.count) for d in days],
            }
        )
    totals = {
        key: sum(getattr(o.totals, key) for o in summaries)
        for key in ("units", "met", "behind", "accepted", "withdrawn")
    }
    return page.render("province.html", page="province", rows=rows, totals=totals)


@router.get(f"{PREFIX}/contest/{{which}}")
async def choose_contest(which: str, page: PageDep) -> Response:
    """Read contest `which` ("main": the first) on every page."""
    if not page.viewer.province:
        raise Forbidden(MSG_PROVINCE_ONLY, page.viewer)
    key = "" if which == "main" else which
    if key and (not key.isascii() or len(key) > 30 or runtime_by_id(key) is None):
        raise NotFound(MSG_NO_CONTEST)
    response = redirect(f"{PREFIX}/")
    response.set_cookie(
        CONTEST_COOKIE,
        key,
        max_age=COOKIE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=page.d.secure_cookie,
    )
    return response
