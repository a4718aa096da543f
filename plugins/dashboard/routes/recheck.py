"""复核 on the dashboard (organizers): start a re-check, see the flagged posts, keep or withdraw.

The same use case as `/复核` in chat (bot.runtime.recheck_now, bot/submissions/recheck.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from loguru import logger

from bot.dashboard.params import receipt_of
from bot.runtime import Runtime, recheck_now, recheck_running
from bot.submissions.recheck import Decision, RecheckBook, RecheckBusy
from bot.submissions.states import EntryStatus
from plugins.dashboard.deps import Forbidden, OrganizerChange, PageDep
from plugins.dashboard.pages import MSG_JUDGE_READ_ONLY, PREFIX, redirect

router = APIRouter()

DONE = {
    "started": "已开始复核，完成后刷新本页查看结果。",
    "busy": "复核正在进行，请稍后刷新本页。",
    "empty": "目前没有已登记的作品，不需要复核。",
    "keep": "已保留 #{r}。",
    "withdraw": "已撤回 #{r}。",
}


@router.get(f"{PREFIX}/recheck")
async def recheck(request: Request, page: PageDep) -> Response:
    if not page.viewer.organizer:
        raise Forbidden(MSG_JUDGE_READ_ONLY, page.viewer)
    runtime = page.d.runtime
    store = RecheckBook(runtime.sessions)
    latest = await store.latest_run()
    outcomes = await store.outcomes(latest.id) if latest is not None else []
    entries = {e.receipt: e for e in await runtime.entries.all_entries()} if outcomes else {}
    done = DONE.get(request.query_params.get("done", ""), "")
    receipt = request.query_params.get("r", "")
    return page.render(
        "recheck.html",
        page="recheck",
        latest=latest,
        running=await recheck_running(runtime),
        outcomes=[(o, entries.get(o.receipt)) for o in outcomes],
        done=done.format(r=receipt if receipt.isascii() and receipt.isdigit() else "")
        if done
        else None,
    )


async def _run(runtime: Runtime, actor: int) -> None:
    try:
        await recheck_now(runtime, actor)
    except RecheckBusy:
        pass
    except Exception:
        logger.exception("re-check from the dashboard failed")


@router.post(f"{PREFIX}/recheck/start")
async def start(change: OrganizerChange) -> Response:
    runtime = change.d.runtime
    if await recheck_running(runtime) is not None:
        return redirect(f"{PREFIX}/recheck?done=busy")
    accepted = [e for e in await runtime.entries.all_entries() if e.status is EntryStatus.ACCEPTED]
    if not accepted:
        return redirect(f"{PREFIX}/recheck?done=empty")
    runtime.spawn(_run(runtime, change.viewer.user_id))
    return redirect(f"{PREFIX}/recheck?done=started")


@router.post(f"{PREFIX}/recheck/{{path_receipt}}/{{action}}")
async def decide(path_receipt: str, action: str, change: OrganizerChange) -> Response:
    receipt = receipt_of(path_receipt)
    decision = {"keep": Decision.KEEP, "withdraw": Decision.WITHDRAW}.get(action)
    if decision is None:
        raise Forbidden("没有这个操作。", change.viewer)
    runtime = change.d.runtime
    await RecheckBook(runtime.sessions).decide(
        receipt, decision, entries=runtime.entries, actor=change.viewer.user_id, now=change.d.now()
    )
    return redirect(f"{PREFIX}/recheck?done={decision.value}&r={receipt}")
