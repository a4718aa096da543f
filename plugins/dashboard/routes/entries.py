"""Every entry (search, filters, paging) and what may be done to one: withdraw, restore, score."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.params import receipt_of
from bot.dashboard.scores import parse_quality
from bot.dashboard.views import EntryFilter
from bot.refusal import Refusal
from bot.submissions.book import EntryNotFound
from plugins.dashboard.deps import JudgeChange, OrganizerChange, PageDep
from plugins.dashboard.pages import DONE, PREFIX, back

router = APIRouter()


@router.get(f"{PREFIX}/entries")
async def entries(request: Request, page: PageDep) -> Response:
    d = page.d
    wanted = EntryFilter.from_params(request.query_params)
    found = await d.views.entry_page(wanted, page.viewer.user_id)
    done = DONE.get(request.query_params.get("done", ""))
    receipt = request.query_params.get("r", "")
    query = request.url.query
    return page.render(
        "entries.html",
        page="entries",
        found=found,
        units=d.runtime.units.list_units(),
        platforms=d.views.platforms(),
        back=request.url.path + (f"?{query}" if query else ""),
        done=done.format(r=receipt if receipt.isascii() and receipt.isdigit() else "")
        if done
        else None,
    )


@router.post(f"{PREFIX}/entries/{{path_receipt}}/withdraw")
async def withdraw(path_receipt: str, change: OrganizerChange) -> Response:
    d = change.d
    receipt = receipt_of(path_receipt)
    await d.runtime.entries.withdraw(
        receipt, actor=change.viewer.user_id, unit_id=None, now=d.now()
    )
    return back(change.form, "withdrawn", receipt)


@router.post(f"{PREFIX}/entries/{{path_receipt}}/restore")
async def restore(path_receipt: str, change: OrganizerChange) -> Response:
    d = change.d
    receipt = receipt_of(path_receipt)
    entry = await d.runtime.entries.get(receipt)
    if entry is None:
        raise EntryNotFound(receipt)
    if not entry.withdrawn:
        raise Refusal(f"#{receipt} 没有撤回，无需恢复。")
    unit = d.runtime.units.get(entry.unit_id)
    if unit is None:
        raise Refusal(f"#{receipt} 所属单位已不存在，请先在群里处理。")
    # `move` to its own unit is how an organizer restores an entry (bot/submissions/book.py).
    await d.runtime.entries.move(receipt, unit, actor=change.viewer.user_id, now=d.now())
    return back(change.form, "restored", receipt)


@router.post(f"{PREFIX}/entries/{{path_receipt}}/score")
async def score(path_receipt: str, change: JudgeChange) -> Response:
    receipt = receipt_of(path_receipt)
    quality = parse_quality(change.form.get("quality", ""))
    await change.d.scores.set(
        receipt,
        judge_id=change.viewer.user_id,
        quality=quality,
        comment=change.form.get("comment", ""),
        now=change.d.now(),
    )
    return back(change.form, "scored", receipt)
