"""轮次 on the dashboard: the contest's rounds, choosing which one the pages show (a closed
round's archive is read-only), and starting the next round (organizers)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from bot.refusal import NotFound, Refusal
from bot.rounds.service import start_round
from plugins.dashboard.deps import (
    ROUND_COOKIE,
    DashboardDep,
    Forbidden,
    LiveOrganizerChange,
    LivePageDep,
    ViewerDep,
)
from plugins.dashboard.pages import MSG_JUDGE_READ_ONLY, PREFIX, redirect

router = APIRouter()
MSG_NO_ROUND = "没有这一轮。"
MSG_CONFIRM = "请在确认框里输入本轮的名称「{label}」，再开始新一轮。"
MSG_STARTED = "已开始「{opened}」；「{closed}」已归档，可在下面查看、导出。"
# A year of contests at most: the cookie lasts a year.
COOKIE_SECONDS = 366 * 24 * 3600


@router.get(f"{PREFIX}/round/{{which}}")
async def choose(which: str, d: DashboardDep, signed: ViewerDep) -> Response:
    """Show round `which` (its number, or "now": the open round) on every page."""
    rounds = d.runtime.rounds
    found = None
    if rounds is not None and which.isascii() and which.isdigit() and len(which) <= 9:
        found = rounds.get(int(which))
    if which != "now" and found is None:
        raise NotFound(MSG_NO_ROUND)
    response = redirect(f"{PREFIX}/")
    if found is None or found.open:
        response.delete_cookie(ROUND_COOKIE, path=PREFIX)
    else:
        response.set_cookie(
            ROUND_COOKIE,
            str(found.id),
            max_age=COOKIE_SECONDS,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=d.secure_cookie,
        )
    return response


@router.get(f"{PREFIX}/rounds")
async def rounds_page(page: LivePageDep, done: str = "") -> Response:
    d = page.d
    book = d.runtime.rounds
    listed = []
    if book is not None:
        await book.load()  # another process (or the command line) may have started one
        for found in reversed(book.rounds):
            listed.append(
                {
                    "id": found.id,
                    "label": found.label,
                    "open": found.open,
                    "started": f"{d.runtime.contest.local(found.started_at):%Y-%m-%d}",
                    "closed": f"{d.runtime.contest.local(found.closed_at):%Y-%m-%d}"
                    if found.closed_at
                    else "",
                    "entries": found.entries,
                }
            )
    started = None
    if done == "1" and book is not None and len(book.rounds) > 1:
        started = MSG_STARTED.format(opened=book.current.label, closed=book.rounds[-2].label)
    current = book.current.label if book is not None else ""
    return page.render(
        "rounds.html", page="rounds", listed=listed, current=current, started=started
    )


@router.post(f"{PREFIX}/rounds/new")
async def new_round(change: LiveOrganizerChange) -> Response:
    d = change.d
    book = d.runtime.rounds
    if book is None:
        raise Forbidden(MSG_JUDGE_READ_ONLY, change.viewer)
    await book.load()
    current = book.current
    if change.form.get("confirm", "").strip() != current.label:
        raise Refusal(MSG_CONFIRM.format(label=current.label))
    await start_round(
        book,
        d.runtime.deployment,
        d.runtime.contest,
        label=change.form.get("label", "")[:100],
        actor=change.viewer.user_id,
    )
    return redirect(f"{PREFIX}/rounds?done=1")
