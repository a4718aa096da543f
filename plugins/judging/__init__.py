"""/评审: organizers open judging after the deadline, see its progress, let a judge drop out,
and remind judges privately of what they have left (bot/judging/workflow.py)."""

from __future__ import annotations

import re

from nonebot import require
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.judging.workflow import coverage, drop_judge, open_judging
from bot.messages.parts import Target, Text
from bot.refusal import Refusal
from bot.units.roles import Need
from plugins.router import OneBotTransport, Request, command_group

__plugin_meta__ = PluginMetadata(
    name="评审",
    description="截止后开始评审（作品分给评委）、查看评审进度、评委退出、提醒评委",
    usage="/评审 开始 | 进度 | 退出 @评委 | 提醒",
)

OPENED = (
    "评审已开始：{n} 篇作品已分给 {judges} 位评委，每篇 {per} 位。"
    "评委私聊机器人发送 /后台，在“评审”页打分。"
)
CAUGHT_UP = "评审已在进行：新分配 {n} 篇作品。"
SHORT = "另有 {n} 篇作品可回避的评委太多，评委人数不足 {per} 位。"
REMIND = (
    "【{contest}】您好！评审作品还剩 {left} 篇（共 {total} 篇）。"
    "请私聊机器人发送 /后台，在“评审”页继续打分。谢谢！"
)
REMINDED = "已私聊提醒 {n} 位还有作品未评的评委。"
NOBODY_LEFT = "所有评委都已评完，不需要提醒。"
_QQ = re.compile(r"^\d{5,12}$")

judging = command_group(
    "评审",
    "judging",
    need=Need.ORGANIZER,
    summary="截止后开始评审、查看评审进度、评委退出、提醒评委",
    example="/评审 进度",
    order=88,
)


@judging.sub(
    "开始", "open", need=Need.ORGANIZER, summary="把作品分给评委，开始评审", example="/评审 开始"
)
async def _open(request: Request) -> None:
    runtime = request.runtime
    try:
        opened = await open_judging(
            runtime.sessions,
            runtime.entries,
            runtime.units,
            runtime.contest,
            actor=request.identity.user_id,
            now=runtime.clock(),
        )
    except Refusal as refusal:
        await request.reply(str(refusal))
        return
    per = runtime.contest.judging.judges_per_entry
    text = (CAUGHT_UP if opened.already_open else OPENED).format(
        n=opened.assigned, judges=len(runtime.contest.panel), per=per
    )
    if opened.short:
        text += "\n" + SHORT.format(n=len(opened.short), per=per)
    await request.reply(text)


@judging.sub(
    "进度", "progress", need=Need.ORGANIZER, summary="各位评委的评分进度", example="/评审 进度"
)
async def _progress(request: Request) -> None:
    runtime = request.runtime
    found = await coverage(runtime.sessions, runtime.contest)
    if not any(j.assigned for j in found.judges):
        await request.reply("评审还没有开始；截止后发送 /评审 开始。")
        return
    lines = ["评审进度（已评/分到）："]
    lines += [
        f"{runtime.people.shown(j.judge)} {j.done}/{j.assigned}"
        + (f"，还剩 {j.left}" if j.left else "，已完成")
        for j in found.judges
    ]
    lines.append(f"评分人数不足的作品 {len(found.below_quorum)} 篇。")
    if found.spread:
        top = "、".join(f"#{r}（差 {gap}）" for r, gap in found.spread[:5])
        lines.append(f"评委分歧最大：{top}")
    await request.reply_list("\n".join(lines))


@judging.sub(
    "退出",
    "drop",
    need=Need.ORGANIZER,
    summary="让一位评委退出，改分其作品",
    example="/评审 退出 @评委",
)
async def _drop(request: Request) -> None:
    runtime = request.runtime
    mentioned = request.mentioned()
    words = request.args.split()
    judge = mentioned[0] if len(mentioned) == 1 else None
    if judge is None and len(words) == 1 and _QQ.match(words[0]):
        judge = int(words[0])
    if judge is None or runtime.contest.judge(judge) is None:
        await request.ask_for("请 @ 要退出的评委，或写上评委的 QQ 号")
        return
    try:
        moved, stranded = await drop_judge(
            runtime.sessions,
            runtime.entries,
            runtime.units,
            runtime.contest,
            judge,
            reason="评委退出",
            actor=request.identity.user_id,
            now=runtime.clock(),
        )
    except Refusal as refusal:
        await request.reply(str(refusal))
        return
    text = f"{runtime.people.shown(judge)} 已退出评审，{moved} 篇作品已改分给其他评委。"
    if stranded:
        text += f"另有 {stranded} 篇没有可改分的评委。"
    await request.reply(text)


@judging.sub(
    "提醒",
    "remind",
    need=Need.ORGANIZER,
    summary="私聊提醒还有作品未评的评委",
    example="/评审 提醒",
)
async def _remind(request: Request) -> None:
    runtime = request.runtime
    found = await coverage(runtime.sessions, runtime.contest)
    behind = [j for j in found.judges if j.left]
    if not behind:
        await request.reply(NOBODY_LEFT)
        return
    transport = OneBotTransport(request.bot)
    for load in behind:
        text = REMIND.format(contest=runtime.contest.name, left=load.left, total=load.assigned)
        await runtime.outbox.send(transport, Target.private(load.judge), [Text(text)])
    await request.reply(REMINDED.format(n=len(behind)))
