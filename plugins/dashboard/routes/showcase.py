"""The public showcase at /showcase (only with `[judging] public_showcase = true`): the latest
published results' awarded posts, read-only, for anyone, cached per version and rate-limited
per address. Off, it answers 404 as if it did not exist.

One deployment may run several contests (config/contests/<id>.toml): `/showcase?contest=<id>`
is that contest's showcase; without it, the first contest's (or the signed-in viewer's)."""

from __future__ import annotations

import time
from collections import OrderedDict
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.judging.results import ResultsBook
from bot.judging.showcase import FILES, render_showcase
from bot.runtime import Runtime
from plugins.dashboard.deps import DashboardDep, contest_named
from plugins.dashboard.pages import SECURITY_HEADERS

router = APIRouter()
PER_MINUTE = 60
ADDRESSES_KEPT = 10_000
MSG_OFF = "没有这个页面。"
MSG_NONE = "评审结果尚未发布，请稍后再来。"
MSG_SLOW_DOWN = "访问太频繁，请稍后再试。"

_pages: dict[tuple[int, int, str], str] = {}  # (database, version, as asked) -> page
_visits: OrderedDict[str, list[float]] = OrderedDict()


def _allowed(address: str, now: float) -> bool:
    """At most PER_MINUTE pages a minute per address (a sliding window)."""
    recent = [t for t in _visits.pop(address, []) if now - t < 60]
    allowed = len(recent) < PER_MINUTE
    if allowed:
        recent.append(now)
    _visits[address] = recent
    while len(_visits) > ADDRESSES_KEPT:
        _visits.popitem(last=False)
    return allowed


def _text(message: str, status: int) -> Response:
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><p>{message}</p>",
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def _shown(d: DashboardDep, contest: str) -> Runtime | None:
    """The contest whose showcase is asked for (None: no such contest, or its showcase is off:
    the page does not exist)."""
    runtime = contest_named(contest) if contest else d.runtime
    if runtime is None or not runtime.contest.judging.public_showcase:
        return None
    return runtime


@router.get("/showcase")
@router.get("/showcase/")
async def showcase(request: Request, d: DashboardDep, contest: str = "") -> Response:
    runtime = _shown(d, contest)
    if runtime is None:
        return _text(MSG_OFF, 404)
    if not _allowed(request.client.host if request.client else "?", time.monotonic()):
        return _text(MSG_SLOW_DOWN, 429)
    published = await ResultsBook(runtime.sessions).current()
    if published is None:
        return _text(MSG_NONE, 404)
    key = (id(runtime.sessions), published.version, contest)
    page = _pages.get(key)
    if page is None:
        entries = {e.receipt: e for e in await runtime.entries.all_entries()}
        page, _count = render_showcase(published, entries, runtime.contest)
        style = "/showcase/style.css" + (f"?contest={quote(contest)}" if contest else "")
        page = page.replace('href="style.css"', f'href="{style}"')
        for old in [k for k in _pages if k[0] == key[0] and k[1] != key[1]]:
            del _pages[old]  # only each contest's latest version is ever served
        _pages[key] = page
    return HTMLResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"})


@router.get("/showcase/style.css")
async def style(d: DashboardDep, contest: str = "") -> Response:
    if _shown(d, contest) is None:
        return _text(MSG_OFF, 404)
    return FileResponse(FILES / "style.css", media_type="text/css", headers=SECURITY_HEADERS)
