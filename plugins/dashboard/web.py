"""The dashboard's HTTP side: FastAPI routes under /dashboard, Jinja2 pages, JSON.

No NoneBot here: plugins/dashboard mounts `build_router(current)` on NoneBot's FastAPI app, and
the benchmark can mount it on a bare one. Every page, download and JSON answer checks the
session cookie first (JSON also accepts the read-only API token); without one, pages redirect
to the sign-in page and JSON answers 401. Changes (withdraw, restore, score, FAQ) are POSTs
carrying the session's CSRF token; judges may score, only organisers may change entries or
the FAQ (403 otherwise).

Pages are plain HTML with inline SVG charts and one small script from /dashboard/static:
nothing is fetched from elsewhere (the machine may be offline), and the Content-Security-Policy
forbids it anyway.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from loguru import logger

from bot.dashboard.auth import (
    LoginLinks,
    Session,
    SessionCodec,
    bearer_matches,
    load_secret,
)
from bot.dashboard.charts import day_columns, unit_bars
from bot.dashboard.scores import ScoreBook, ScoreError
from bot.dashboard.views import (
    SORTS,
    STATUS_FILTERS,
    UNIT_STATUS_TEXT,
    DashboardViews,
    EntryFilter,
    EntryRow,
    UnitRow,
)
from bot.faq.service import FaqError
from bot.runtime import Runtime
from bot.submissions.book import EntryError
from bot.submissions.export import FLAG_TEXT, VERIFY_TEXT, write_exports

PREFIX = "/dashboard"
COOKIE = "dashboard_session"
HERE = Path(__file__).parent
STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
MAX_FORM_BYTES = 16_384
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Entries link to outside sites: they must not learn the dashboard's address (or a token).
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

MSG_SIGN_IN = "请在 QQ 私聊机器人发送 /后台 获取登录链接。"
MSG_LINK_INVALID = "此登录链接已使用或已过期（有效期 10 分钟，只能使用一次）。" + MSG_SIGN_IN
MSG_JUDGE_READ_ONLY = "评委可以查看和评分，但不能更改作品状态、单位或常见问题。"
MSG_NOT_JUDGE = "只有评委可以评分。"
MSG_CSRF = "页面已过期，请返回刷新后再试。"
MSG_NOT_FOUND = "没有这个页面。"
MSG_FAQ_OFF = "常见问题功能未启用。"
DONE = {
    "withdrawn": "已撤回 #{r}。",
    "restored": "已恢复 #{r}。",
    "scored": "已保存对 #{r} 的评分。",
    "learned": "已把问题归入常见问题条目。",
}


_TOKEN_IN_URL = re.compile(r"([?&]t=)[^&\s\"]+")


class _RedactLoginTokens(logging.Filter):
    """Keeps one-time tokens out of the HTTP access log (`GET /dashboard/login?t=***`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def redact_access_log() -> None:
    """Install the token filter on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactLoginTokens) for f in access.filters):
        access.addFilter(_RedactLoginTokens())


@dataclass
class _Dashboard:
    """What the routes share, built on the first request (the runtime opens at start-up)."""

    runtime: Runtime
    codec: SessionCodec
    links: LoginLinks
    scores: ScoreBook
    views: DashboardViews
    pages: Environment

    @property
    def secure_cookie(self) -> bool:
        return self.runtime.deployment.dashboard_url.startswith("https://")

    def now(self) -> datetime:
        return self.runtime.clock()


def make_pages() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        prefix=PREFIX,
        status_text=UNIT_STATUS_TEXT,
        verify_text=VERIFY_TEXT,
        flag_text=FLAG_TEXT,
        sorts=SORTS,
        status_filters=STATUS_FILTERS,
        unit_bars=unit_bars,
        day_columns=day_columns,
    )
    env.filters["qs"] = lambda params: urlencode(params)
    env.filters["score"] = lambda v: "—" if v is None else f"{v:.1f}"
    return env


def build_state(runtime: Runtime) -> _Dashboard:
    return _Dashboard(
        runtime=runtime,
        codec=SessionCodec(load_secret(runtime.deployment)),
        links=LoginLinks(runtime.sessions),
        scores=ScoreBook(runtime.sessions),
        views=DashboardViews(
            runtime.sessions, runtime.units, runtime.entries, runtime.contest, runtime.faq
        ),
        pages=make_pages(),
    )


def build_router(runtime: Callable[[], Runtime]) -> APIRouter:
    """The dashboard's routes; `runtime()` gives the open runtime at request time."""
    router = APIRouter()
    holder: dict[str, _Dashboard] = {}

    def state() -> _Dashboard:
        current = runtime()
        found = holder.get("state")
        if found is None or found.runtime is not current:
            found = holder["state"] = build_state(current)
        return found

    # ------------------------------------------------------------------ helpers

    def render(
        d: _Dashboard,
        template: str,
        status: int = 200,
        viewer: Session | None = None,
        cookie: str | None = None,
        **values: Any,
    ) -> Response:
        html = d.pages.get_template(template).render(
            contest=d.runtime.contest,
            viewer=viewer,
            csrf=d.codec.csrf(cookie) if cookie else "",
            local=d.runtime.contest.local,
            **values,
        )
        return _secure(HTMLResponse(html, status_code=status))

    def message(d: _Dashboard, text: str, status: int, viewer: Session | None = None) -> Response:
        return render(d, "message.html", status, viewer, text=text)

    def signed_in(d: _Dashboard, request: Request) -> tuple[Session | None, str]:
        value = request.cookies.get(COOKIE, "")
        return d.codec.decode(value, d.now()), value

    async def form_of(request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return {}
        parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    async def changing(
        request: Request, *, organizer: bool = False, judge: bool = False
    ) -> tuple[_Dashboard, Session, dict[str, str]] | Response:
        """A POST's session, role and CSRF checks; the form, or the refusal to send."""
        d = state()
        viewer, cookie = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        form = await form_of(request)
        if not d.codec.csrf_ok(cookie, form.get("csrf")):
            return message(d, MSG_CSRF, 403, viewer)
        if organizer and not viewer.organizer:
            return message(d, MSG_JUDGE_READ_ONLY, 403, viewer)
        if judge and not viewer.judge:
            return message(d, MSG_NOT_JUDGE, 403, viewer)
        return d, viewer, form

    # ------------------------------------------------------------------ sign-in

    @router.get(PREFIX)
    async def root() -> Response:
        return _redirect(f"{PREFIX}/")

    @router.get(f"{PREFIX}/login")
    async def login_page(request: Request, t: str = "") -> Response:
        d = state()
        if not t:
            viewer, _ = signed_in(d, request)
            if viewer is not None:
                return _redirect(f"{PREFIX}/")
            return render(d, "login.html", 401, token="", text=MSG_SIGN_IN)
        # Only look: QQ's scanner opens the link before the person does.
        if not await d.links.peek(t, d.now()):
            return render(d, "login.html", 400, token="", text=MSG_LINK_INVALID)
        return render(d, "login.html", token=t, text="")

    @router.post(f"{PREFIX}/login")
    async def login(request: Request) -> Response:
        d = state()
        form = await form_of(request)
        grant = await d.links.redeem(form.get("t", ""), d.now())
        if grant is None:
            return render(d, "login.html", 400, token="", text=MSG_LINK_INVALID)
        hours = d.runtime.deployment.dashboard_session_hours
        _, value = d.codec.start(grant, d.now(), hours)
        response = _redirect(f"{PREFIX}/")
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
    async def logout(request: Request) -> Response:
        checked = await changing(request)
        if isinstance(checked, Response):
            return checked
        response = _redirect(f"{PREFIX}/login")
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @router.get(f"{PREFIX}/static/{{name}}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            return Response(status_code=404)
        response = FileResponse(HERE / "static" / name, media_type=STATIC[name])
        response.headers["Cache-Control"] = "max-age=3600"
        return _secure(response)

    # ------------------------------------------------------------------ pages

    @router.get(f"{PREFIX}/")
    async def overview(request: Request) -> Response:
        d = state()
        viewer, cookie = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        data = await d.views.overview(d.now())
        return render(d, "overview.html", viewer=viewer, cookie=cookie, page="overview", o=data)

    @router.get(f"{PREFIX}/units")
    async def units(request: Request) -> Response:
        d = state()
        viewer, cookie = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        rows = await d.views.unit_rows()
        return render(d, "units.html", viewer=viewer, cookie=cookie, page="units", rows=rows)

    @router.get(f"{PREFIX}/entries")
    async def entries(request: Request) -> Response:
        d = state()
        viewer, cookie = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        wanted = EntryFilter.from_params(request.query_params)
        found = await d.views.entry_page(wanted, viewer.user_id)
        done = DONE.get(request.query_params.get("done", ""))
        receipt = request.query_params.get("r", "")
        return render(
            d,
            "entries.html",
            viewer=viewer,
            cookie=cookie,
            page="entries",
            found=found,
            units=d.runtime.units.list_units(),
            platforms=d.views.platforms(),
            back=_path_with_query(request),
            done=done.format(r=receipt if receipt.isdigit() else "") if done else None,
        )

    @router.post(f"{PREFIX}/entries/{{receipt}}/withdraw")
    async def withdraw(request: Request, receipt: int) -> Response:
        checked = await changing(request, organizer=True)
        if isinstance(checked, Response):
            return checked
        d, viewer, form = checked
        try:
            await d.runtime.entries.withdraw(
                receipt, actor=viewer.user_id, unit_id=None, now=d.now()
            )
        except EntryError as error:
            return message(d, str(error), 400, viewer)
        return _back(form, "withdrawn", receipt)

    @router.post(f"{PREFIX}/entries/{{receipt}}/restore")
    async def restore(request: Request, receipt: int) -> Response:
        checked = await changing(request, organizer=True)
        if isinstance(checked, Response):
            return checked
        d, viewer, form = checked
        entry = await d.runtime.entries.get(receipt)
        if entry is None:
            return message(d, f"没有找到回执 #{receipt}。", 404, viewer)
        if not entry.withdrawn:
            return message(d, f"#{receipt} 没有撤回，无需恢复。", 400, viewer)
        unit = d.runtime.units.get(entry.unit_id)
        if unit is None:
            return message(d, f"#{receipt} 所属单位已不存在，请先在群里处理。", 400, viewer)
        # `move` to its own unit is how an organiser restores an entry (bot/entries.py).
        await d.runtime.entries.move(receipt, unit, actor=viewer.user_id, now=d.now())
        return _back(form, "restored", receipt)

    @router.post(f"{PREFIX}/entries/{{receipt}}/score")
    async def score(request: Request, receipt: int) -> Response:
        checked = await changing(request, judge=True)
        if isinstance(checked, Response):
            return checked
        d, viewer, form = checked
        quality = form.get("quality", "").strip()
        try:
            if not quality.isdigit():
                raise ScoreError("质量分应为 1 到 10 的整数。")
            await d.scores.set(
                receipt,
                judge_id=viewer.user_id,
                quality=int(quality),
                comment=form.get("comment", ""),
                now=d.now(),
            )
        except (ScoreError, EntryError) as error:
            return message(d, str(error), 400, viewer)
        return _back(form, "scored", receipt)

    @router.get(f"{PREFIX}/faq")
    async def faq(request: Request) -> Response:
        d = state()
        viewer, cookie = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        view = await d.views.faq()
        done = DONE.get(request.query_params.get("done", ""))
        return render(d, "faq.html", viewer=viewer, cookie=cookie, page="faq", faq=view, done=done)

    @router.post(f"{PREFIX}/faq/learn")
    async def learn(request: Request) -> Response:
        checked = await changing(request, organizer=True)
        if isinstance(checked, Response):
            return checked
        d, viewer, form = checked
        if d.runtime.faq is None:
            return message(d, MSG_FAQ_OFF, 400, viewer)
        question = form.get("unanswered", "")
        entry_id = form.get("entry", "")
        if not question.isdigit() or not entry_id:
            return message(d, "请选择要归入的常见问题条目。", 400, viewer)
        try:
            await d.runtime.faq.learn(int(question), entry_id, actor=viewer.user_id, now=d.now())
        except FaqError as error:
            return message(d, str(error), 400, viewer)
        return _redirect(f"{PREFIX}/faq?done=learned")

    @router.get(f"{PREFIX}/downloads")
    async def downloads(request: Request) -> Response:
        d = state()
        viewer, cookie = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        return render(d, "downloads.html", viewer=viewer, cookie=cookie, page="downloads")

    @router.get(f"{PREFIX}/downloads/{{kind}}")
    async def download(request: Request, kind: str) -> Response:
        d = state()
        viewer, _ = signed_in(d, request)
        if viewer is None:
            return _redirect(f"{PREFIX}/login")
        if kind not in ("xlsx", "csv"):
            return message(d, MSG_NOT_FOUND, 404, viewer)
        rt = d.runtime
        progress = await rt.entries.progress_all()
        every = await rt.entries.all_entries()
        files = await asyncio.to_thread(
            write_exports, rt.deployment.data_dir, progress, every, rt.contest, d.now()
        )
        path = files.xlsx if kind == "xlsx" else files.csv
        logger.info("{} 从后台下载了 {}", viewer.user_id, path.name)
        media = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if kind == "xlsx"
            else "text/csv; charset=utf-8"
        )
        response = FileResponse(path, media_type=media, filename=path.name)
        response.headers["Cache-Control"] = "no-store"
        return _secure(response)

    # ------------------------------------------------------------------ JSON

    def api_allowed(d: _Dashboard, request: Request) -> bool:
        viewer, _ = signed_in(d, request)
        if viewer is not None:
            return True
        token = d.runtime.deployment.dashboard_api_token
        return bearer_matches(request.headers.get("authorization"), token)

    def unauthorized() -> Response:
        return _secure(
            JSONResponse(
                {"error": "unauthorized", "message": MSG_SIGN_IN},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        )

    @router.get(f"{PREFIX}/api/units")
    async def api_units(request: Request) -> Response:
        d = state()
        if not api_allowed(d, request):
            return unauthorized()
        rows = await d.views.unit_rows()
        return _json({"contest": d.runtime.contest.name, "units": [_unit_json(r) for r in rows]})

    @router.get(f"{PREFIX}/api/entries")
    async def api_entries(request: Request) -> Response:
        d = state()
        if not api_allowed(d, request):
            return unauthorized()
        wanted = EntryFilter.from_params(request.query_params)
        found = await d.views.entry_page(wanted)
        return _json(
            {
                "total": found.total,
                "page": found.filter.page,
                "pages": found.pages,
                "per_page": found.filter.per_page,
                "entries": [_entry_json(r) for r in found.rows],
            }
        )

    @router.get(f"{PREFIX}/api/faq")
    async def api_faq(request: Request) -> Response:
        d = state()
        if not api_allowed(d, request):
            return unauthorized()
        view = await d.views.faq()
        return _json(
            {
                "available": view.available,
                "counts_answers": view.counts_answers,
                "entries": len(view.entries),
                "most_asked": [
                    {
                        "id": a.entry_id,
                        "question": a.question,
                        "count": a.count,
                        "last_at": a.last_at.isoformat(),
                    }
                    for a in view.most_asked
                ],
                "unanswered": [
                    {
                        "id": u.id,
                        "text": u.text,
                        "count": u.count,
                        "first_at": u.first_at.isoformat(),
                        "last_at": u.last_at.isoformat(),
                    }
                    for u in view.unanswered
                ],
            }
        )

    return router


# ------------------------------------------------------------------------ responses


def _secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _redirect(url: str) -> Response:
    return _secure(RedirectResponse(url, status_code=303))


def _json(data: Mapping[str, Any]) -> Response:
    return _secure(JSONResponse(data))


def _path_with_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _back(form: Mapping[str, str], done: str, receipt: int) -> Response:
    """Back to the page the form was on (only ever a dashboard page), saying what was done."""
    back = form.get("back", "")
    if not back.startswith(f"{PREFIX}/") or "//" in back or "\\" in back:
        back = f"{PREFIX}/entries"
    path, _, query = back.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items() if k not in ("done", "r")}
    params.update(done=done, r=str(receipt))
    return _redirect(f"{path}?{urlencode(params)}")


def _unit_json(row: UnitRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "category": row.category,
        "category_name": row.category_name,
        "quota": row.quota,
        "accepted": row.accepted,
        "late": row.late,
        "flagged": row.flagged,
        "completion": round(row.completion, 4) if row.quota else None,
        "status": row.status,
        "avg_quality": round(row.avg_quality, 2) if row.avg_quality is not None else None,
        "scored_entries": row.scored,
    }


def _entry_json(row: EntryRow) -> dict[str, Any]:
    return {
        "receipt": row.receipt,
        "unit_id": row.unit_id,
        "unit": row.unit_name,
        "author": row.author,
        "url": row.url,
        "platform": row.platform,
        "platform_name": row.platform_name,
        "title": row.title,
        "text_length": row.text_length,
        "verify_status": row.verify_status,
        "flags": list(row.flags),
        "status": row.status,
        "late": row.late,
        "submitted_at": row.submitted_at.isoformat(),
        "avg_quality": round(row.avg_quality, 2) if row.avg_quality is not None else None,
        "scores": row.scores,
    }
