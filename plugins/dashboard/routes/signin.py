"""Signing in with the one-time link from /后台, signing out, the static files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from bot.dashboard.auth import PROVINCE_KEY, contest_key
from plugins.dashboard.deps import AnyChange, DashboardDep, form_of, states
from plugins.dashboard.pages import (
    COOKIE,
    HERE,
    MSG_LINK_INVALID,
    MSG_NO_FILE,
    MSG_SIGN_IN,
    PREFIX,
    html,
    redirect,
    secure,
)

STATIC = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
    "certificates.css": "text/css",
}

router = APIRouter()


@router.get(PREFIX)
async def root() -> Response:
    return redirect(f"{PREFIX}/")


@router.get(f"{PREFIX}/login")
async def login_page(request: Request, d: DashboardDep, t: str = "") -> Response:
    if not t:
        viewer, _ = await d.viewer(request)
        if viewer is not None:
            return redirect(f"{PREFIX}/")
        return d.render("login.html", 401, token="", text=MSG_SIGN_IN)
    # Only look: QQ's scanner opens the link before the person does.
    if not await d.links.peek(t, d.now()):
        return d.render("login.html", 400, token="", text=MSG_LINK_INVALID)
    return d.render("login.html", token=t, text="")


@router.post(f"{PREFIX}/login")
async def login(request: Request) -> Response:
    form = await form_of(request)
    key = contest_key(form.get("t", ""))  # the link's contest, or a province viewer's link
    d = states.for_province("") if key == PROVINCE_KEY else states.for_contest(key)
    grant = await d.links.redeem(form.get("t", ""), d.now())
    if grant is None:
        return d.render("login.html", 400, token="", text=MSG_LINK_INVALID)
    hours = d.runtime.deployment.dashboard_session_hours
    _, value = await d.book.start(grant, d.now(), hours)
    response = redirect(f"{PREFIX}/")
    response.set_cookie(
        COOKIE,
        value,
        max_age=hours * 3600,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=d.secure_cookie,
    )
    return response


@router.post(f"{PREFIX}/logout")
async def logout(request: Request, change: AnyChange) -> Response:
    # Ends the session itself, not only this browser's cookie: a copy opens nothing either.
    await change.d.book.end(request.cookies.get(COOKIE, ""), change.d.now())
    response = redirect(f"{PREFIX}/login")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get(f"{PREFIX}/static/{{name}}")
async def static(name: str) -> Response:
    if name not in STATIC:
        return html(MSG_NO_FILE, 404)
    response = FileResponse(HERE / "static" / name, media_type=STATIC[name])
    response.headers["Cache-Control"] = "max-age=3600"
    return secure(response)
