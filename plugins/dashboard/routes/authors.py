"""作者 on the dashboard (organizers, before judging): authors as the awards will count them,
names that may be one person (merge), single entries to rename (split), unsigned entries."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.params import plain_int, receipt_of
from bot.judging.authors import alike, authors, merge
from bot.refusal import NotFound
from plugins.dashboard.deps import Forbidden, OrganizerChange, PageDep
from plugins.dashboard.pages import MSG_JUDGE_READ_ONLY, PREFIX, paged, redirect

router = APIRouter()
PER_PAGE = 50
MSG_NO_UNIT = "没有这个单位。"
DONE = {
    "merged": "已把 {n} 篇作品的作者改为「{name}」。",
    "renamed": "已把 #{r} 的作者改为「{name}」。",
}


@router.get(f"{PREFIX}/authors")
async def authors_page(request: Request, page: PageDep) -> Response:
    if not page.viewer.organizer:
        raise Forbidden(MSG_JUDGE_READ_ONLY, page.viewer)
    found, unsigned = authors(await page.d.runtime.entries.all_entries())
    shown, number, pages = paged(found, request.query_params.get("page", "1"), PER_PAGE)
    query = request.query_params
    done = DONE.get(query.get("done", ""))
    name = query.get("name", "")[:20]
    count = plain_int(query.get("n", "")) or 0
    receipt = plain_int(query.get("r", "")) or 0
    return page.render(
        "authors.html",
        page="authors",
        alike=alike(found),
        unsigned=unsigned[:200],
        unsigned_total=len(unsigned),
        shown=shown,
        total=len(found),
        number=number,
        pages=pages,
        done=done.format(n=count, name=name, r=receipt) if done else None,
    )


@router.post(f"{PREFIX}/authors/merge")
async def merge_authors(change: OrganizerChange) -> Response:
    form = change.form
    unit_id = plain_int(form.get("unit", ""))
    if unit_id is None or change.d.runtime.units.get(unit_id) is None:
        raise NotFound(MSG_NO_UNIT)
    target = form.get("target", "")
    changed = await merge(
        change.d.runtime.entries,
        unit_id,
        form.get("source", ""),
        target,
        actor=change.viewer.user_id,
        now=change.d.now(),
    )
    query = urlencode({"done": "merged", "n": len(changed), "name": target.strip()[:20]})
    return redirect(f"{PREFIX}/authors?{query}")


@router.post(f"{PREFIX}/entries/{{path_receipt}}/author")
async def rename(path_receipt: str, change: OrganizerChange) -> Response:
    receipt = receipt_of(path_receipt)
    entry = await change.d.runtime.entries.set_author(
        receipt,
        change.form.get("author", ""),
        actor=change.viewer.user_id,
        unit_id=None,
        now=change.d.now(),
    )
    query = urlencode({"done": "renamed", "r": receipt, "name": entry.author or ""})
    return redirect(f"{PREFIX}/authors?{query}")
