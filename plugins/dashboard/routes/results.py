"""评奖 on the dashboard: the published results (or the live preview, for organizers), award
lists and certificates to download, and a print view of the certificates for A4 stock."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from bot.dashboard.params import plain_int
from bot.judging.outputs import certificates, result_files
from bot.judging.results import Published, ResultsBook, compute
from bot.refusal import NotFound, Refusal
from bot.runtime import Runtime, announce_results
from plugins.dashboard.deps import Forbidden, OrganizerChange, PageDep
from plugins.dashboard.pages import (
    MSG_JUDGE_READ_ONLY,
    PREFIX,
    SECURITY_HEADERS,
    paged,
    redirect,
)
from plugins.router import deliver

router = APIRouter()
PER_PAGE = 50
TABS = {"people": "个人奖", "units": "单位奖", "entries": "全部作品"}
DONE = {
    "published": "已发布新的一版评审结果，并已在群里公告。",
    "silent": "已发布新的一版评审结果；机器人目前没有连接 QQ，未能在群里公告。",
}
MSG_NO_VERSION = "没有这一版评审结果。"
MSG_NOT_PUBLISHED = "还没有发布评审结果。"
MSG_NOTHING_JUDGED = "还没有任何作品完成评分，暂不能发布。"
# Certificate margins in millimetres, and the name's size in points: what fits A4.
MARGIN_MAX = 80
SIZE_RANGE = (12, 48)


async def _version(request: Request, book: ResultsBook) -> Published | None:
    raw = request.query_params.get("v")
    if raw is None:
        return await book.current()
    number = plain_int(raw)
    found = await book.version(number) if number else None
    if found is None:
        raise NotFound(MSG_NO_VERSION)
    return found


@router.get(f"{PREFIX}/results")
async def results(request: Request, page: PageDep) -> Response:
    runtime = page.d.runtime
    book = ResultsBook(runtime.sessions)
    published = await _version(request, book)
    preview = page.viewer.organizer and (
        published is None or request.query_params.get("preview") == "1"
    )
    if preview:
        shown = await compute(runtime.sessions, runtime.entries, runtime.contest, page.d.now())
    elif published is not None:
        shown = published.results
    else:
        return page.render("results.html", page="results", shown=None, versions=[])
    tab = request.query_params.get("tab", "people")
    tab = tab if tab in TABS else "people"
    rows = {"people": shown.people, "units": shown.units, "entries": shown.entries}[tab]
    page_rows, number, pages = paged(rows, request.query_params.get("page", "1"), PER_PAGE)
    return page.render(
        "results.html",
        page="results",
        shown=shown,
        published=None if preview else published,
        preview=preview,
        versions=await book.versions(),
        tab=tab,
        tabs=TABS,
        rows=page_rows,
        number=number,
        pages=pages,
        done=DONE.get(request.query_params.get("done", "")),
    )


@router.post(f"{PREFIX}/results/publish")
async def publish(change: OrganizerChange) -> Response:
    runtime = change.d.runtime
    result = await compute(runtime.sessions, runtime.entries, runtime.contest, change.d.now())
    if not result.judged:
        raise Refusal(MSG_NOTHING_JUDGED)
    note = " ".join(change.form.get("note", "").split())[:100] or None
    published = await ResultsBook(runtime.sessions).publish(
        result, actor=change.viewer.user_id, now=change.d.now(), note=note
    )
    announced = await _announce(runtime, published)
    return redirect(f"{PREFIX}/results?done={'published' if announced else 'silent'}")


async def _announce(runtime: Runtime, published: Published) -> bool:
    """The announcement in every served group, each through an account in it (from this
    process or handed over to another); False if it reached none."""
    return await announce_results(runtime, partial(deliver, runtime), published) > 0


async def _published(request: Request, page: PageDep) -> Published:
    found = await _version(request, ResultsBook(page.d.runtime.sessions))
    if found is None:
        raise NotFound(MSG_NOT_PUBLISHED)
    return found


@router.get(f"{PREFIX}/results/{{name}}.xlsx")
async def workbook(name: str, request: Request, page: PageDep) -> Response:
    if name not in ("awards", "certificates"):
        raise NotFound("没有这个文件。")
    published = await _published(request, page)
    runtime = page.d.runtime
    awards_path, certificates_path = result_files(
        published, runtime.contest, runtime.deployment.data_dir
    )
    path = awards_path if name == "awards" else certificates_path
    return FileResponse(path, filename=path.name, headers=SECURITY_HEADERS)


def _mm(request: Request, key: str, default: int, low: int = 0, high: int = MARGIN_MAX) -> int:
    value = plain_int(request.query_params.get(key, ""), 10**10)
    return default if value is None else min(max(value, low), high)


@router.get(f"{PREFIX}/results/certificates")
async def print_view(request: Request, page: PageDep) -> Response:
    if not page.viewer.organizer:
        raise Forbidden(MSG_JUDGE_READ_ONLY, page.viewer)
    published = await _published(request, page)
    layout = {
        "top": _mm(request, "top", 95),
        "left": _mm(request, "left", 30),
        "size": _mm(request, "size", 28, *SIZE_RANGE),
    }
    query = "&".join(f"{k}={v}" for k, v in layout.items())
    return page.render(
        "certificates.html",
        published=published,
        certificates=certificates(published, page.d.runtime.contest),
        layout=layout,
        css=f"{PREFIX}/results/certificates.css?{query}",
        issued=page.d.runtime.contest.local(published.published_at),
    )


@router.get(f"{PREFIX}/results/certificates.css")
async def print_css(request: Request, page: PageDep) -> Response:
    """The margins chosen on the print view (inline styles are forbidden by the CSP)."""
    top, left = _mm(request, "top", 95), _mm(request, "left", 30)
    size = _mm(request, "size", 28, *SIZE_RANGE)
    css = (
        f".certificate {{ padding: {top}mm {left}mm 20mm {left}mm; }}\n"
        f".certificate .name {{ font-size: {size}pt; }}\n"
    )
    return Response(css, media_type="text/css", headers=SECURITY_HEADERS)
