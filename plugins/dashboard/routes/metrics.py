"""Reach figures on the dashboard: each with its date and source; organizers add one by hand.

The spreadsheet import is `python -m bot import-metrics FILE` (bot/judging/metrics.py).
"""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.params import receipt_of
from bot.judging.metrics import (
    METRIC_LABELS,
    METRICS,
    SOURCE_MAX,
    MetricBook,
    MetricError,
    parse_figure,
)
from bot.submissions.book import EntryNotFound
from plugins.dashboard.deps import OrganizerChange, PageDep
from plugins.dashboard.pages import PREFIX, paged, redirect

router = APIRouter()
PER_PAGE = 50
DONE = {"saved": "已记录 #{r} 的数据。", "same": "#{r} 的这条数据已经记录过。"}


@router.get(f"{PREFIX}/metrics")
async def metrics(request: Request, page: PageDep) -> Response:
    runtime = page.d.runtime
    latest = await MetricBook(runtime.sessions).latest()
    entries = {e.receipt: e for e in await runtime.entries.all_entries()}
    rows = [(entries[r], figures) for r, figures in sorted(latest.items()) if r in entries]
    shown, number, pages = paged(rows, request.query_params.get("page", "1"), PER_PAGE)
    done = DONE.get(request.query_params.get("done", ""))
    receipt = request.query_params.get("r", "")
    return page.render(
        "metrics.html",
        page="metrics",
        rows=shown,
        total=len(rows),
        number=number,
        pages=pages,
        metrics=[(m.value, METRIC_LABELS[m]) for m in METRICS],
        today=runtime.contest.local(page.d.now()).date().isoformat(),
        done=done.format(r=receipt if receipt.isascii() and receipt.isdigit() else "")
        if done
        else None,
    )


def _measured(text: str, runtime_now: datetime, zone: object) -> datetime:
    text = text.strip()
    if not text:
        return runtime_now
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise MetricError("日期请写成 2027-07-05 的样子。") from error
    moment = datetime.combine(day, time(0, 0), tzinfo=zone)  # type: ignore[arg-type]
    if moment > runtime_now:
        raise MetricError("日期在今天之后，请核对。")
    return moment


@router.post(f"{PREFIX}/metrics")
async def add(change: OrganizerChange) -> Response:
    d, form = change.d, change.form
    runtime = d.runtime
    receipt = receipt_of(form.get("receipt", "").strip().lstrip("#＃"))
    entry = await runtime.entries.get(receipt)
    if entry is None:
        raise EntryNotFound(receipt)
    if entry.withdrawn:
        raise MetricError(f"#{receipt} 已撤回，不记录它的数据。")
    value = parse_figure(form.get("value", ""))
    measured = _measured(form.get("date", ""), d.now(), runtime.contest.timezone)
    who = runtime.people.name(change.viewer.user_id) or str(change.viewer.user_id)
    note = " ".join(form.get("note", "").split())[:60]
    source = (f"后台 {who}" + (f"（{note}）" if note else ""))[:SOURCE_MAX]
    added = await MetricBook(runtime.sessions).record(
        receipt,
        form.get("metric", ""),
        value,
        measured_at=measured,
        source=source,
        actor=change.viewer.user_id,
        now=d.now(),
    )
    return redirect(f"{PREFIX}/metrics?done={'saved' if added else 'same'}&r={receipt}")
