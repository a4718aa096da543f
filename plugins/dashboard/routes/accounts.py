"""账号 on the dashboard (organizers): each QQ account the bot runs as — connected, muted or gone,
when last seen, its served groups and which of them it answers in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from plugins.dashboard.deps import Forbidden, LivePageDep
from plugins.dashboard.pages import MSG_JUDGE_READ_ONLY, PREFIX

router = APIRouter()
STATES = {"connected": "在线", "muted": "禁言中", "gone": "离线"}


@router.get(f"{PREFIX}/accounts")
async def accounts_page(page: LivePageDep) -> Response:
    if not page.viewer.organizer:
        raise Forbidden(MSG_JUDGE_READ_ONLY, page.viewer)
    runtime = page.d.runtime
    contest = runtime.contest
    rows = []
    if runtime.bots is not None:
        await runtime.bots.load()  # another process may hold the accounts: read them fresh
        for view in runtime.bots.views(contest.groups, page.d.now()):
            rows.append(
                {
                    "name": view.nickname or "（未取得昵称）",
                    "qq": view.self_id,
                    "state": STATES[view.state],
                    "state_key": view.state,
                    "here": view.local,
                    "last_seen": f"{contest.local(view.last_seen):%m-%d %H:%M}",
                    "groups": [
                        {
                            "id": group,
                            "serving": serving,
                            "muted": f"{contest.local(until):%m-%d %H:%M}" if until else None,
                        }
                        for group, until, serving in view.groups
                    ],
                    "known": view.groups_known,
                }
            )
    orphans = sorted(
        g
        for g in contest.groups
        if runtime.bots is None or runtime.bots.serving(g, page.d.now()) is None
    )
    return page.render("accounts.html", page="accounts", accounts=rows, orphans=orphans)
