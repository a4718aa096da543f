"""Who is signed in to the dashboard, and ending a person's sessions (organizers only)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.params import plain_int
from bot.refusal import NotFound
from plugins.dashboard.deps import Forbidden, LiveOrganizerChange, LivePageDep
from plugins.dashboard.pages import COOKIE, MSG_JUDGE_READ_ONLY, PREFIX, redirect

# QQ numbers are at most ten digits (uint32).
QQ_MAX = 2**32 - 1
MSG_NO_PERSON = "没有这个人的登录记录。"
MSG_ENDED = "已注销 {who} 的 {count} 个后台登录。"
MSG_NONE_OPEN = "{who} 目前没有登录后台。"

router = APIRouter()


@router.get(f"{PREFIX}/sessions")
async def sessions(request: Request, page: LivePageDep) -> Response:
    if not page.viewer.organizer:
        raise Forbidden(MSG_JUDGE_READ_ONLY, page.viewer)
    d = page.d
    contest = d.runtime.contest
    signed_in = [
        {
            "user_id": o.user_id,
            "count": o.count,
            "role": o.role_name or "已无权限",
            "started": f"{contest.local(o.last_started):%m-%d %H:%M}",
            "expires": f"{contest.local(o.expires_at):%m-%d %H:%M}",
            "me": o.user_id == page.viewer.user_id,
        }
        for o in await d.book.open_sessions(d.now())
    ]
    # Only numbers travel in the address; the sentence is made here, never taken from it.
    who = plain_int(request.query_params.get("u", ""), QQ_MAX)
    count = plain_int(request.query_params.get("n", ""))
    done = None
    if who is not None and count is not None:
        done = MSG_ENDED.format(who=who, count=count) if count else MSG_NONE_OPEN.format(who=who)
    return page.render("sessions.html", page="sessions", signed_in=signed_in, done=done)


@router.post(f"{PREFIX}/sessions/{{path_user}}/end")
async def end(path_user: str, change: LiveOrganizerChange) -> Response:
    d = change.d
    user_id = plain_int(path_user, QQ_MAX)
    if user_id is None or user_id < 1:
        raise NotFound(MSG_NO_PERSON)
    count = await d.book.end_all(user_id, d.now())
    if user_id == change.viewer.user_id:
        response = redirect(f"{PREFIX}/login")
        response.delete_cookie(COOKIE, path=PREFIX)
        return response
    return redirect(f"{PREFIX}/sessions?{urlencode({'u': user_id, 'n': count})}")
