"""评审 on the dashboard: a judge's scoring screen (one entry per phone screen, every judged
criterion, a comment, "保存并下一篇", "还剩 N 篇"), and for organizers opening judging, a judge
dropping out and coverage (bot/judging/workflow.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.params import plain_int, receipt_of
from bot.judging.metrics import METRIC_LABELS, METRICS, MetricBook
from bot.judging.workflow import JudgingDesk, coverage, current_round, drop_judge, open_judging
from bot.refusal import NotFound
from plugins.dashboard.deps import Forbidden, JudgeChange, OrganizerChange, PageDep
from plugins.dashboard.pages import MSG_NOT_JUDGE, PREFIX, redirect

router = APIRouter()
QQ_MAX = 2**32 - 1
DONE = {
    "saved": "已保存对 #{r} 的评分。",
    "opened": "评审已开始，作品已分给各位评委。",
    "dropped": "已让这位评委退出，其未评的作品已改分给其他评委。",
}


@router.get(f"{PREFIX}/judge")
async def judge_page(request: Request, page: PageDep) -> Response:
    viewer, d = page.viewer, page.d
    runtime = d.runtime
    if not (viewer.judge or viewer.organizer):
        raise Forbidden(MSG_NOT_JUDGE, viewer)
    values: dict[str, object] = {"page": "judge", "round": await current_round(runtime.sessions)}
    if viewer.organizer:
        values["coverage"] = await coverage(runtime.sessions, runtime.contest)
    if viewer.judge:
        desk = JudgingDesk(runtime.sessions, runtime.contest)
        queue = await desk.queue(viewer.user_id)
        wanted = plain_int(request.query_params.get("e", ""))
        receipt = wanted if wanted in queue.assigned else (queue.left[0] if queue.left else None)
        values["queue"] = queue
        if receipt is not None:
            entry = await runtime.entries.get(receipt)
            figures = (await MetricBook(runtime.sessions).latest([receipt])).get(receipt, {})
            values.update(
                entry=entry,
                mine=await desk.mine(viewer.user_id, receipt),
                figures=[(METRIC_LABELS[m], figures[m]) for m in METRICS if m in figures],
            )
    done = DONE.get(request.query_params.get("done", ""))
    shown = plain_int(request.query_params.get("r", "")) or 0
    values["done"] = done.format(r=shown) if done else None
    values["criteria"] = runtime.contest.judging.judged
    values["blind"] = runtime.contest.judging.blind
    return page.render("judge.html", **values)


@router.post(f"{PREFIX}/judge/{{path_receipt}}/score")
async def score(path_receipt: str, change: JudgeChange) -> Response:
    receipt = receipt_of(path_receipt)
    runtime = change.d.runtime
    desk = JudgingDesk(runtime.sessions, runtime.contest)
    await desk.save(
        change.viewer.user_id,
        receipt,
        {c.id: change.form.get(c.id, "") for c in runtime.contest.judging.judged},
        change.form.get("comment", ""),
        now=change.d.now(),
    )
    return redirect(f"{PREFIX}/judge?{urlencode({'done': 'saved', 'r': receipt})}")


@router.post(f"{PREFIX}/judge/open")
async def open_(change: OrganizerChange) -> Response:
    runtime = change.d.runtime
    await open_judging(
        runtime.sessions,
        runtime.entries,
        runtime.units,
        runtime.contest,
        actor=change.viewer.user_id,
        now=change.d.now(),
    )
    return redirect(f"{PREFIX}/judge?done=opened")


@router.post(f"{PREFIX}/judge/drop")
async def drop(change: OrganizerChange) -> Response:
    runtime = change.d.runtime
    judge = plain_int(change.form.get("judge", ""), QQ_MAX)
    if judge is None or runtime.contest.judge(judge) is None:
        raise NotFound("没有这位评委。")
    await drop_judge(
        runtime.sessions,
        runtime.entries,
        runtime.units,
        runtime.contest,
        judge,
        reason=" ".join(change.form.get("reason", "").split())[:100] or "评委退出",
        actor=change.viewer.user_id,
        now=change.d.now(),
    )
    return redirect(f"{PREFIX}/judge?done=dropped")
