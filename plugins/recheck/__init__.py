"""/复核: before judging, organizers re-check every accepted post (bot/submissions/recheck.py).

`/复核 开始` starts a run in the background and reports its summary in the same chat when it is
done; `/复核 结果` lists the flagged posts; `/复核 保留 17` and `/复核 撤回 17` decide one.
Nothing is withdrawn without an organizer's word.
"""

from __future__ import annotations

import re

from loguru import logger
from nonebot import require
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.messages.commands import split_args
from bot.refusal import Refusal
from bot.runtime import Runtime, recheck_now, recheck_running
from bot.submissions.recheck import Decision, RecheckBook, RecheckBusy, RunView
from bot.submissions.states import EntryStatus
from bot.units.roles import Need
from plugins.router import Request, command_group

__plugin_meta__ = PluginMetadata(
    name="复核",
    description="评审前重新检查全部作品：已删除、不再公开、内容有变，由组织者逐篇决定保留或撤回",
    usage="/复核 开始 | 结果 | 保留 编号 | 撤回 编号",
)

STARTED = "已开始复核 {total} 篇作品（逐篇重新打开链接），完成后在这里告诉您。"
NOTHING = "目前没有已登记的作品，不需要复核。"
DONE_FLAGGED = (
    "有问题的作品请发送 /复核 结果 查看，逐篇用 /复核 保留 编号 或 /复核 撤回 编号 决定。"
)
DONE_CLEAN = "没有发现已删除、不再公开或内容有变的作品。"
NEVER_RUN = "还没有复核过；请先发送 /复核 开始。"
NO_FLAGS = "最近一次复核（{when}）没有发现问题。"
RESULTS_HEAD = "最近一次复核的问题作品（{count} 篇）："
RESULTS_FOOT = "用 /复核 保留 编号 或 /复核 撤回 编号 逐篇决定；“无法检查”的不必决定。"
DECIDED = "#{receipt} 已{label}。"
FAILED = "复核中途出错，已记下日志；请稍后再发送 /复核 开始。"
_RECEIPT = re.compile(r"^[#＃]?(\d{1,9})$")

recheck = command_group(
    "复核",
    "recheck",
    need=Need.ORGANIZER,
    summary="评审前重新检查全部作品（已删除、不再公开、内容有变），逐篇决定保留或撤回",
    example="/复核 开始",
    order=87,
)


def _store(runtime: Runtime) -> RecheckBook:
    return RecheckBook(runtime.sessions)


@recheck.sub("开始", "start", need=Need.ORGANIZER, summary="开始复核全部作品", example="/复核 开始")
async def _start(request: Request) -> None:
    runtime = request.runtime
    accepted = [e for e in await runtime.entries.all_entries() if e.status is EntryStatus.ACCEPTED]
    if not accepted:
        await request.reply(NOTHING)
        return
    running = await recheck_running(runtime)
    if running is not None:
        await request.reply(str(RecheckBusy(running)))
        return
    await request.reply(STARTED.format(total=len(accepted)))
    runtime.spawn(_run(request))


async def _run(request: Request) -> None:
    try:
        finished = await recheck_now(request.runtime, request.identity.user_id)
    except RecheckBusy as busy:
        await request.reply(str(busy))
        return
    except Exception:
        logger.exception("re-check failed")
        await request.reply(FAILED)
        return
    await request.reply(_summary(finished))


def _summary(run: RunView) -> str:
    flagged = sum(run.counts.get(k, 0) for k in ("gone", "private", "changed"))
    return run.summary() + "\n" + (DONE_FLAGGED if flagged else DONE_CLEAN)


@recheck.sub(
    "结果",
    "results",
    need=Need.ORGANIZER,
    summary="查看最近一次复核的问题作品",
    example="/复核 结果",
)
async def _results(request: Request) -> None:
    store = _store(request.runtime)
    latest = await store.latest_run()
    if latest is None:
        await request.reply(NEVER_RUN)
        return
    flagged = await store.outcomes(latest.id)
    if not flagged:
        when = request.runtime.contest.local(latest.started_at).strftime("%m月%d日 %H:%M")
        await request.reply(latest.summary() + "\n" + NO_FLAGS.format(when=when))
        return
    lines = [latest.summary(), RESULTS_HEAD.format(count=len(flagged))]
    lines += [view.line for view in flagged]
    lines.append(RESULTS_FOOT)
    await request.reply_list("\n".join(lines))


async def _decide(request: Request, decision: Decision) -> None:
    words = split_args(request.args)
    found = _RECEIPT.match(words[0]) if len(words) == 1 else None
    if found is None:
        await request.ask_for("请写明作品编号")
        return
    runtime = request.runtime
    try:
        view = await _store(runtime).decide(
            int(found[1]),
            decision,
            entries=runtime.entries,
            actor=request.identity.user_id,
            now=runtime.clock(),
        )
    except Refusal as refusal:
        await request.reply(str(refusal))
        return
    await request.reply(DECIDED.format(receipt=view.receipt, label=decision.label))


@recheck.sub(
    "保留", "keep", need=Need.ORGANIZER, summary="保留一篇有问题的作品", example="/复核 保留 17"
)
async def _keep(request: Request) -> None:
    await _decide(request, Decision.KEEP)


@recheck.sub(
    "撤回", "withdraw", need=Need.ORGANIZER, summary="撤回一篇有问题的作品", example="/复核 撤回 17"
)
async def _withdraw(request: Request) -> None:
    await _decide(request, Decision.WITHDRAW)
