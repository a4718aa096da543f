"""The dashboard's typed dependencies: the shared state, "signed in", "a page", "a change".

A route asks for what it needs and gets it, or never runs:
- `DashboardDep`: the state every route shares (built for the open runtime);
- `ViewerDep` / `PageDep`: a signed-in person (else the browser goes to the sign-in page);
- `OrganizerChange` / `JudgeChange` / `AnyChange`: a POST with a valid CSRF token from a person
  with that role (else 403 with the reason), its form at most MAX_FORM_BYTES (else 413);
- `ApiDep`: JSON for a session or the read-only `Authorization: Bearer` API token (else 401).
Refusals are raised as exceptions; `errors.py` turns them, and the contest's own refusals
(`bot.refusal`), into responses in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.responses import Response
from jinja2 import Environment

from bot.dashboard.auth import (
    CsrfTokens,
    LoginLinks,
    Session,
    SessionBook,
    bearer_matches,
    load_secret,
)
from bot.dashboard.scores import COMMENT_TOO_LONG, ScoreBook
from bot.dashboard.views import DashboardViews
from bot.runtime import Runtime, current
from plugins.dashboard.pages import (
    COOKIE,
    MSG_CSRF,
    MSG_JUDGE_READ_ONLY,
    MSG_NOT_JUDGE,
    MSG_TOO_LARGE,
    html,
    make_pages,
)

MAX_FORM_BYTES = 16_384


@dataclass
class Dashboard:
    """What the routes share, built on the first request (the runtime opens at start-up)."""

    runtime: Runtime
    codec: CsrfTokens
    book: SessionBook
    links: LoginLinks
    scores: ScoreBook
    views: DashboardViews
    pages: Environment

    @property
    def secure_cookie(self) -> bool:
        return self.runtime.deployment.dashboard_url.startswith("https://")

    def now(self) -> datetime:
        return self.runtime.clock()

    async def viewer(self, request: Request) -> tuple[Session | None, str]:
        """The session of the request's cookie (None: not signed in) and the cookie itself."""
        value = request.cookies.get(COOKIE, "")
        return await self.book.find(value, self.now()), value

    def render(
        self,
        template: str,
        status: int = 200,
        viewer: Session | None = None,
        cookie: str | None = None,
        **values: Any,
    ) -> Response:
        page = self.pages.get_template(template).render(
            contest=self.runtime.contest,
            viewer=viewer,
            csrf=self.codec.csrf(cookie) if cookie else "",
            local=self.runtime.contest.local,
            people=self.runtime.people,
            **values,
        )
        return html(page, status)

    def message(self, text: str, status: int, viewer: Session | None = None) -> Response:
        return self.render("message.html", status, viewer, text=text)


def build_state(runtime: Runtime) -> Dashboard:
    return Dashboard(
        runtime=runtime,
        codec=CsrfTokens(load_secret(runtime.deployment)),
        book=SessionBook(
            runtime.sessions,
            runtime.contest,
            runtime.deployment.superusers,
            runtime.group_roles,
        ),
        links=LoginLinks(runtime.sessions),
        scores=ScoreBook(runtime.sessions),
        views=DashboardViews(
            runtime.sessions, runtime.units, runtime.entries, runtime.contest, runtime.faq
        ),
        pages=make_pages(),
    )


@dataclass
class _States:
    """The state for the runtime now open (rebuilt when tests open a new one)."""

    runtime: Callable[[], Runtime] = current
    built: Dashboard | None = field(default=None)

    def __call__(self) -> Dashboard:
        runtime = self.runtime()
        if self.built is None or self.built.runtime is not runtime:
            self.built = build_state(runtime)
        return self.built


states = _States()


def dashboard() -> Dashboard:
    return states()


DashboardDep = Annotated[Dashboard, Depends(dashboard)]


# --- refusals the routes raise (errors.py answers them) -------------------------------------


class SignInNeeded(Exception):
    """No valid session: a page sends the browser to the sign-in page."""


class ApiSignInNeeded(Exception):
    """No session and no API token: JSON answers 401."""


class FormTooLarge(Exception):
    """A posted form over MAX_FORM_BYTES: 413 with the reason (not mistaken for a stale page)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Forbidden(Exception):
    """Signed in, but not allowed (wrong role, stale form): 403 with the reason."""

    def __init__(self, text: str, viewer: Session) -> None:
        super().__init__(text)
        self.text = text
        self.viewer = viewer


# --- signed in, a page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    session: Session
    cookie: str


async def viewer(request: Request, d: DashboardDep) -> Viewer:
    session, cookie = await d.viewer(request)
    if session is None:
        raise SignInNeeded
    return Viewer(session, cookie)


ViewerDep = Annotated[Viewer, Depends(viewer)]


@dataclass(frozen=True)
class Page:
    """A signed-in page: the state, the viewer, and rendering with the viewer's CSRF token."""

    d: Dashboard
    viewer: Session
    cookie: str

    def render(self, template: str, **values: Any) -> Response:
        return self.d.render(template, viewer=self.viewer, cookie=self.cookie, **values)


def page(d: DashboardDep, signed: ViewerDep) -> Page:
    return Page(d, signed.session, signed.cookie)


PageDep = Annotated[Page, Depends(page)]


# --- a change: POST, CSRF, role ---------------------------------------------------------------


async def form_of(request: Request, too_large: str = MSG_TOO_LARGE) -> dict[str, str]:
    """The posted form's fields (first value of each); `FormTooLarge` over MAX_FORM_BYTES.

    The body is read only up to the limit: a huge upload is not held in memory first.
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise FormTooLarge(too_large)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge(too_large)
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


@dataclass(frozen=True)
class Change:
    d: Dashboard
    viewer: Session
    form: dict[str, str]


def change(
    role: Literal["organizer", "judge"] | None, too_large: str = MSG_TOO_LARGE
) -> Callable[[Request, Dashboard, Viewer], Awaitable[Change]]:
    """A dependency: a POST with a valid CSRF token from someone with `role` (None: anyone);
    `too_large` is what an oversized form is told."""

    async def checked(request: Request, d: DashboardDep, signed: ViewerDep) -> Change:
        form = await form_of(request, too_large)
        if not d.codec.csrf_ok(signed.cookie, form.get("csrf")):
            raise Forbidden(MSG_CSRF, signed.session)
        if role == "organizer" and not signed.session.organizer:
            raise Forbidden(MSG_JUDGE_READ_ONLY, signed.session)
        if role == "judge" and not signed.session.judge:
            raise Forbidden(MSG_NOT_JUDGE, signed.session)
        return Change(d, signed.session, form)

    return checked


AnyChange = Annotated[Change, Depends(change(None))]
OrganizerChange = Annotated[Change, Depends(change("organizer"))]
# Judges post only scores: what makes their form too large is the comment.
JudgeChange = Annotated[Change, Depends(change("judge", COMMENT_TOO_LONG))]


# --- JSON -------------------------------------------------------------------------------------


async def api_access(request: Request, d: DashboardDep) -> Dashboard:
    session, _ = await d.viewer(request)
    token = d.runtime.deployment.dashboard_api_token
    if session is None and not bearer_matches(request.headers.get("authorization"), token):
        raise ApiSignInNeeded
    return d


ApiDep = Annotated[Dashboard, Depends(api_access)]
