"""/提醒: organizers preview, send, pause and resume reminders; secretaries ask for their status.

Also the automatic reminders' clock: `wake()` starts the runner (bot.reminders.runner) the
first time and ticks it afterwards, then arms an APScheduler date job for the moment the runner
asks for (the next slot, or the next retry of a failed send). A heartbeat job and the OneBot
connect hook call `wake()` too, so a bot that connects late, a runtime that opens after this
plugin's start-up hook, or a second process sharing the database are all caught up with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from loguru import logger
from nonebot import get_driver, require
from nonebot.adapters.onebot.v11 import Bot
from nonebot.plugin import PluginMetadata

require("plugins.router")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_apscheduler import scheduler

from bot.messages.history import Verdict
from bot.messages.outbox import Delivery, SendFailed
from bot.messages.parts import Mention, Part, Target, Text
from bot.reminders.runner import ReminderRunner
from bot.runtime import Rotation, current, is_open, runtimes, serving, spread
from bot.units.roles import Need
from plugins.router import (
    OneBotTransport,
    Request,
    bot_for_group,
    command_group,
    deliver,
    private_bot,
    target_deliverable,
)

__plugin_meta__ = PluginMetadata(
    name="进度提醒",
    description="截止前自动提醒未完成任务的单位；组织者预览、立即发送、暂停、恢复；联络员私聊查看进度",
    usage="/提醒 预览 | 立即 | 暂停 | 恢复 | 我",
)

NOT_RUNNING = "自动提醒未启用，请联系管理员。"
PAUSED = "已暂停自动提醒，到期的提醒将被跳过。发送 /提醒 恢复 可恢复。"
ALREADY_PAUSED = "自动提醒已处于暂停状态。发送 /提醒 恢复 可恢复。"
RESUMED = "已恢复自动提醒。发送 /提醒 预览 可查看下一次提醒。"
ALREADY_RUNNING = "自动提醒正在运行，无需恢复。"
SENT_TO_GROUPS = "已发送进度提醒到 {count} 个群。"
SEND_FAILED = "群 {group} 的提醒发送失败（{error}），请稍后再试。"
SEND_UNCONFIRMED = (
    "群 {group} 的提醒没有收到 QQ 端的回应，可能已经发出。为避免重复 @，机器人没有重发；"
    "如群里没有这条提醒，请一分钟后再发送 /提醒 立即。"
)
NOTHING_SENT = "没有可发送的提醒：目前没有参赛单位。"
TOO_SOON = "刚刚已发送过提醒，请 {seconds} 秒后再试。"
NO_UNIT = "您没有绑定单位。组织者可用 /提醒 预览 查看下一次提醒。"
PRIVATE_SENT = "已私聊发送「{unit}」的进度，请查收。"
PRIVATE_FAILED = (
    " 私聊消息发送失败：QQ 通常只允许机器人给好友发私聊。"
    "请先添加本机器人为好友，再发送 /提醒 我；也可以在群里发送 /我的单位 查看。"
)

# One manual reminder per group per minute: a double tap must not @ everyone twice.
MANUAL_COOLDOWN = 60.0
WAKE_JOB = "reminders.wake"
HEARTBEAT_JOB = "reminders.heartbeat"

_last_manual: dict[int, float] = {}


# --- sending and the clock ------------------------------------------------------------------


async def send(target: Target, parts: Sequence[Part]) -> Delivery:
    """The runner's sender: through the outbox and a connected account that can reach the
    target (for a group, one in it: see bot.accounts.registry)."""
    return await deliver(current(), target, parts, relay=False)


async def confirm(target: Target, error: SendFailed) -> Verdict | None:
    """The runner's history lookup for a send that was never answered."""
    runtime = current()
    bot = bot_for_group(runtime, target.id) if target.kind == "group" else private_bot(runtime)
    if bot is None:
        return None
    return await OneBotTransport(bot).confirm(target, error)


def _deliverable(target: str) -> bool:
    """Targets this process should claim (see plugins.router.senders.target_deliverable)."""
    return target_deliverable(current(), target)


def _runner() -> ReminderRunner | None:
    try:
        runtime = current()
    except RuntimeError:
        return None  # not open yet: the heartbeat comes back
    return runtime.reminders


# Each contest's next due time, as its runner last said (keyed by contest id).
_upcoming: dict[str, datetime | None] = {}
_rotation = Rotation()


async def wake() -> datetime | None:
    """Start or tick every contest's runner, then arm the next wake-up; when that is (None:
    nothing due)."""
    for runtime in runtimes():
        with serving(runtime):
            _upcoming[runtime.contest_id] = await _wake_one()
    return _rearm()


async def beat() -> None:
    """The heartbeat: one contest's runner per beat, in turn (see `Rotation`); every contest
    is still looked at once per REMINDERS_HEARTBEAT."""
    runtime = _rotation.next()
    if runtime is None:
        return
    with serving(runtime):
        _upcoming[runtime.contest_id] = await _wake_one()
    _rearm()


def _rearm() -> datetime | None:
    """Arm the wake-up for the earliest due time of any contest; that time."""
    times = [_upcoming.get(r.contest_id) for r in runtimes()]
    upcoming = min((t for t in times if t is not None), default=None)
    if is_open():
        _arm(upcoming, current().clock())
    return upcoming


async def _wake_one() -> datetime | None:
    """Start or tick the runner of the contest being served; when it is next due."""
    runner = _runner()
    if runner is None:
        return None
    runner.sender = send
    runner.confirm = confirm
    runner.deliverable = _deliverable
    now = current().clock()
    try:
        return await (runner.tick(now) if runner.started else runner.start(now))
    except Exception:
        logger.exception("自动提醒运行出错，稍后重试")
        return None


def _autorun() -> bool:
    """REMINDERS_AUTORUN (.env): whether the reminders run on their own, not only on command."""
    return is_open() and current().deployment.reminders_autorun


def _arm(at: datetime | None, now: datetime) -> None:
    if not _autorun():
        return
    if at is None:
        if scheduler.get_job(WAKE_JOB) is not None:
            scheduler.remove_job(WAKE_JOB)
        return
    scheduler.add_job(
        wake,
        "date",
        run_date=max(at, now),
        id=WAKE_JOB,
        replace_existing=True,
        misfire_grace_time=None,
    )


driver = get_driver()


@driver.on_startup
async def _start_heartbeat() -> None:
    # The runtime is open by now (bot/app.py and the router open it in earlier start-up hooks);
    # the first beat starts the runner a moment later, whether or not a OneBot bot has connected.
    if not _autorun():
        return
    scheduler.add_job(
        beat,
        "interval",
        seconds=spread(current().deployment.reminders_heartbeat),
        id=HEARTBEAT_JOB,
        replace_existing=True,
        next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )


@driver.on_bot_connect
async def _connected(bot: Bot) -> None:
    if not _autorun():
        return
    for runtime in runtimes():
        runner = runtime.reminders
        if runner is not None and runner.started:
            with serving(runtime):
                await runner.hurry(runtime.clock())  # the connection is back: retry now
    await wake()


# --- /提醒 ------------------------------------------------------------------------------------

remind = command_group(
    "提醒",
    "remind",
    "reminder",
    need=Need.SECRETARY,
    summary="私聊查看本单位进度；组织者可预览、立即发送、暂停、恢复自动提醒",
    example="/提醒 我",
    order=30,
)


async def _runner_or_say(request: Request) -> ReminderRunner | None:
    runner = request.runtime.reminders
    if runner is None:
        await request.reply(NOT_RUNNING)
    return runner


@remind.sub(
    "预览",
    "preview",
    need=Need.ORGANIZER,
    summary="查看下一次自动提醒的时间和内容",
    example="/提醒 预览",
)
async def _preview(request: Request) -> None:
    runner = await _runner_or_say(request)
    if runner is None:
        return
    await request.reply(await runner.preview(request.runtime.clock()))


@remind.sub(
    "立即", "now", need=Need.ORGANIZER, summary="现在发送一次进度提醒", example="/提醒 立即"
)
async def _now(request: Request) -> None:
    runner = await _runner_or_say(request)
    if runner is None:
        return
    # In a group: that group; in private chat: every served group.
    groups = (
        [request.group_id]
        if request.group_id is not None
        else sorted(request.runtime.contest.groups)
    )
    clock = time.monotonic()
    last = max((_last_manual.get(g, -MANUAL_COOLDOWN) for g in groups), default=-MANUAL_COOLDOWN)
    if clock - last < MANUAL_COOLDOWN:
        await request.reply(TOO_SOON.format(seconds=int(MANUAL_COOLDOWN - (clock - last)) + 1))
        return
    _last_manual.update(dict.fromkeys(groups, clock))

    def transport_for(target: Target) -> OneBotTransport:
        # An account in the group (the one asked, if it is there), else the one asked.
        group_bot = bot_for_group(request.runtime, target.id) if target.kind == "group" else None
        return OneBotTransport(group_bot or request.bot)

    async def through_this_bot(target: Target, parts: Sequence[Part]) -> Delivery:
        return await request.runtime.outbox.send(transport_for(target), target, parts)

    async def confirm_sent(target: Target, error: SendFailed) -> Verdict | None:
        return await transport_for(target).confirm(target, error)

    result = await runner.send_now(
        request.runtime.clock(),
        request.identity.user_id,
        groups,
        sender=through_this_bot,
        confirm=confirm_sent,
    )
    if result.failed or result.unconfirmed:
        lines = [SEND_FAILED.format(group=g, error=e or "未知原因") for g, e in result.failed]
        lines += [SEND_UNCONFIRMED.format(group=g) for g in result.unconfirmed]
        await request.reply("\n".join(lines))
    elif not result.delivered or not result.messages:
        await request.reply(NOTHING_SENT)
    elif request.group_id is None:
        await request.reply(SENT_TO_GROUPS.format(count=len(result.delivered)))
    # In a group the reminder itself is the answer.


@remind.sub("暂停", "pause", need=Need.ORGANIZER, summary="暂停自动提醒", example="/提醒 暂停")
async def _pause(request: Request) -> None:
    runner = await _runner_or_say(request)
    if runner is None:
        return
    changed = await runner.pause(request.identity.user_id, request.runtime.clock())
    await request.reply(PAUSED if changed else ALREADY_PAUSED)


@remind.sub("恢复", "resume", need=Need.ORGANIZER, summary="恢复自动提醒", example="/提醒 恢复")
async def _resume(request: Request) -> None:
    runner = await _runner_or_say(request)
    if runner is None:
        return
    changed = await runner.resume(request.identity.user_id, request.runtime.clock())
    await request.reply(RESUMED if changed else ALREADY_RUNNING)
    if changed and _autorun():
        await wake()


@remind.sub("我", "me", need=Need.SECRETARY, summary="私聊查看本单位进度", example="/提醒 我")
async def _me(request: Request) -> None:
    runner = await _runner_or_say(request)
    if runner is None:
        return
    user_id = request.identity.user_id
    unit = request.runtime.units.unit_of(user_id)
    status = None if unit is None else await runner.unit_status(unit.id, request.runtime.clock())
    if unit is None or status is None:
        await request.reply(NO_UNIT)
        return
    if request.group_id is None:
        await request.reply(status)
        return
    delivery = await request.send_private(user_id, status)
    if delivery.ok:
        await request.reply(PRIVATE_SENT.format(unit=unit.name))
        return
    logger.info(f"/提醒 我: private message to {user_id} failed: {delivery.failed}")
    await request.reply([Mention(user_id), Text(PRIVATE_FAILED)])
