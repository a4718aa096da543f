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

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.responses import Response
from jinja2 import Environment
from loguru import logger
from sqlalchemy.exc import SQLAlchemyError

from bot.dashboard.auth import (
    KEY_MARK,
    PROVINCE_KEY,
    CsrfTokens,
    LoginLinks,
    Session,
    SessionBook,
    bearer_matches,
    contest_key,
    load_secret,
)
from bot.dashboard.scores import COMMENT_TOO_LONG, ScoreBook
from bot.dashboard.views import DashboardViews
from bot.refusal import Refusal
from bot.rounds.archive import ArchiveMissing, open_archive
from bot.rounds.book import RoundView
from bot.runtime import Runtime, current, runtime_by_id
from bot.submissions.export import Exporter
from plugins.dashboard.pages import (
    COOKIE,
    MSG_ARCHIVED,
    MSG_CSRF,
    MSG_JUDGE_READ_ONLY,
    MSG_NOT_JUDGE,
    MSG_PROVINCE_READ_ONLY,
    MSG_TOO_LARGE,
    html,
    make_pages,
)

MAX_FORM_BYTES = 16_384
# Which contest a province viewer is looking at (a contest's id; absent: the first).
CONTEST_COOKIE = "dashboard_contest"


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
    # A province viewer's state: every page read-only, the sessions kept by the first contest.
    province: bool = False
    # A closed round's archive shown read-only (None: the round open now).
    archived: RoundView | None = None
    # The archives' states, kept by the live state (opened once each).
    archive_states: dict[int, Dashboard] = field(default_factory=dict)

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
            rounds=self.runtime.rounds.rounds if self.runtime.rounds else [],
            archived=self.archived,
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
            prefix=runtime.token_prefix,
        ),
        links=LoginLinks(runtime.sessions, prefix=runtime.token_prefix),
        scores=ScoreBook(runtime.sessions),
        views=DashboardViews(
            runtime.sessions, runtime.units, runtime.entries, runtime.contest, runtime.faq
        ),
        pages=make_pages(),
    )


async def build_archive_state(live: Dashboard, found: RoundView) -> Dashboard:
    """The state for browsing closed round `found`: its archive's books, read-only; sign-in,
    sessions and pages stay the live ones."""
    runtime = live.runtime
    assert runtime.rounds is not None
    archive = runtime.archives.get(found.id)
    if archive is None:
        archive = await open_archive(runtime.rounds, found, runtime.contest)
        runtime.archives[found.id] = archive
    shown = Runtime(
        deployment=runtime.deployment,
        contest=archive.contest,
        engine=archive.engine,
        sessions=archive.sessions,
        units=archive.units,
        outbox=runtime.outbox,
        entries=archive.entries,
        clock=runtime.clock,
        notify=runtime.notify,
        group_roles=runtime.group_roles,
        exporter=Exporter(
            runtime.deployment.data_dir / "rounds" / str(found.id),
            keep=timedelta(days=runtime.deployment.exports_keep_days),
        ),
        people=archive.people,
        bots=runtime.bots,
        rounds=runtime.rounds,
    )
    return Dashboard(
        runtime=shown,
        codec=live.codec,
        book=live.book,
        links=live.links,
        scores=ScoreBook(archive.sessions),
        views=DashboardViews(
            archive.sessions, archive.units, archive.entries, archive.contest, runtime.faq
        ),
        pages=live.pages,
        archived=found,
    )


@dataclass
class _States:
    """The state for the runtime now open (rebuilt when tests open a new one)."""

    runtime: Callable[[], Runtime] = current
    built: Dashboard | None = field(default=None)
    # The other contests' states (config/contests/), by contest id.
    others: dict[str, Dashboard] = field(default_factory=dict)
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __call__(self) -> Dashboard:
        runtime = self.runtime()
        if self.built is None or self.built.runtime is not runtime:
            self.built = build_state(runtime)
        return self.built

    def for_contest(self, key: str) -> Dashboard:
        """The state of contest `key` (a link's or a cookie's prefix); the first contest's for
        "" or a contest this deployment does not have."""
        runtime = runtime_by_id(key) if key else None
        if runtime is None or not key:
            return self()
        shown = self.others.get(key)
        if shown is None or shown.runtime is not runtime:
            shown = self.others[key] = build_state(runtime)
        return shown

    def for_request(self, request: Request) -> Dashboard:
        """The contest a request is for: its sign-in link's, else its session cookie's (a
        province viewer's: the contest they chose, CONTEST_COOKIE)."""
        token = request.query_params.get("t", "") or request.cookies.get(COOKIE, "")
        key = contest_key(token)
        if key == PROVINCE_KEY:
            return self.for_province(request.cookies.get(CONTEST_COOKIE, ""))
        return self.for_contest(key)

    def for_province(self, chosen: str) -> Dashboard:
        """A province viewer's state for contest `chosen` ("" or unknown: the first)."""
        live = self.for_contest(chosen)
        key = f"{PROVINCE_KEY}:{live.runtime.contest_id}"
        shown = self.others.get(key)
        if shown is None or shown.runtime is not live.runtime:
            first = self()
            book = SessionBook(
                first.runtime.sessions,
                first.runtime.contest,
                frozenset(),
                prefix=f"{PROVINCE_KEY}{KEY_MARK}",
                province=first.runtime.deployment.province_viewers,
            )
            links = LoginLinks(first.runtime.sessions, prefix=f"{PROVINCE_KEY}{KEY_MARK}")
            shown = dataclasses.replace(
                live, book=book, links=links, province=True, archive_states={}
            )
            self.others[key] = shown
        return shown

    async def viewing(self, live: Dashboard, wanted: str) -> Dashboard:
        """The state for the round the browser chose (ROUND_COOKIE): an archived round's, or
        the live one (no choice, the open round, or a round that does not exist)."""
        rounds = live.runtime.rounds
        if rounds is None or not (wanted.isascii() and wanted.isdigit()) or len(wanted) > 9:
            return live
        found = rounds.get(int(wanted))
        if found is None or found.open:
            return live
        shown = live.archive_states.get(found.id)
        if shown is not None:
            return shown
        async with self._opening:
            shown = live.archive_states.get(found.id)
            if shown is None:
                try:
                    shown = await build_archive_state(live, found)
                except (ArchiveMissing, SQLAlchemyError, OSError) as error:
                    logger.error("打不开「{}」的归档：{}", found.label, error)
                    raise Refusal(
                        f"「{found.label}」的归档暂时打不开，请联系管理员；"
                        "点页面上方的“回到本轮”可继续使用。"
                    ) from None
                live.archive_states[found.id] = shown
        return shown


states = _States()


def dashboard(request: Request) -> Dashboard:
    return states.for_request(request)


DashboardDep = Annotated[Dashboard, Depends(dashboard)]
# Which round the browser is looking at (a closed round's id; absent: the open round).
ROUND_COOKIE = "dashboard_round"


async def round_dashboard(request: Request, d: DashboardDep) -> Dashboard:
    return await states.viewing(d, request.cookies.get(ROUND_COOKIE, ""))


# The state of the round being viewed: every page about entries, judging and results.
RoundDep = Annotated[Dashboard, Depends(round_dashboard)]


# --- refusals the routes raise (errors.py answers them) -------------------------------------


class SignInNeeded(Exception):
    """No valid session: a page sends the browser to the sign-in page."""


class ApiSignInNeeded(Exception):
    """No session and no API token: JSON answers 401."""


class ApiContestUnknown(Exception):
    """An API token request for a contest this deployment does not run: JSON answers 404."""


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


def page(d: RoundDep, signed: ViewerDep) -> Page:
    return Page(d, signed.session, signed.cookie)


def live_page(d: DashboardDep, signed: ViewerDep) -> Page:
    return Page(d, signed.session, signed.cookie)


# A page of the round being viewed; a page about what every round shares (the FAQ, sign-ins,
# the accounts, the rounds themselves).
PageDep = Annotated[Page, Depends(page)]
LivePageDep = Annotated[Page, Depends(live_page)]


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
    role: Literal["organizer", "judge"] | None,
    too_large: str = MSG_TOO_LARGE,
    *,
    live: bool = False,
) -> Callable[[Request, Dashboard, Viewer], Awaitable[Change]]:
    """A dependency: a POST with a valid CSRF token from someone with `role` (None: anyone);
    `too_large` is what an oversized form is told. A change to the round being viewed is
    refused while that is an archived round; `live`: a change to what every round shares."""

    async def checked(request: Request, d: DashboardDep, signed: ViewerDep) -> Change:
        form = await form_of(request, too_large)
        if not d.codec.csrf_ok(signed.cookie, form.get("csrf")):
            raise Forbidden(MSG_CSRF, signed.session)
        if d.province and role is not None:
            raise Forbidden(MSG_PROVINCE_READ_ONLY, signed.session)
        if not live:
            d = await round_dashboard(request, d)
            if d.archived is not None:
                raise Forbidden(MSG_ARCHIVED.format(label=d.archived.label), signed.session)
        if role == "organizer" and not signed.session.organizer:
            raise Forbidden(MSG_JUDGE_READ_ONLY, signed.session)
        if role == "judge" and not signed.session.judge:
            raise Forbidden(MSG_NOT_JUDGE, signed.session)
        return Change(d, signed.session, form)

    return checked


AnyChange = Annotated[Change, Depends(change(None, live=True))]
OrganizerChange = Annotated[Change, Depends(change("organizer"))]
LiveOrganizerChange = Annotated[Change, Depends(change("organizer", live=True))]
# Judges post only scores: what makes their form too large is the comment.
JudgeChange = Annotated[Change, Depends(change("judge", COMMENT_TOO_LONG))]


# --- JSON -------------------------------------------------------------------------------------


# The longest contest id a request may name (config/contests/<id>.toml).
CONTEST_ID_MAX = 64


def contest_named(wanted: str) -> Runtime | None:
    """The contest a request names by id (`?contest=`); None for an unknown or oversized id."""
    return runtime_by_id(wanted) if len(wanted) <= CONTEST_ID_MAX else None


async def api_access(request: Request, d: DashboardDep) -> Dashboard:
    """A session reads its own contest. The API token is the deployment's: it reads the first
    contest, or `?contest=<id>` (config/contests/<id>.toml)."""
    session, _ = await d.viewer(request)
    if session is not None:
        return d
    token = d.runtime.deployment.dashboard_api_token
    if not bearer_matches(request.headers.get("authorization"), token):
        raise ApiSignInNeeded
    wanted = request.query_params.get("contest", "")
    if not wanted:
        return d
    if contest_named(wanted) is None:
        raise ApiContestUnknown
    return states.for_contest(wanted)


ApiDep = Annotated[Dashboard, Depends(api_access)]
