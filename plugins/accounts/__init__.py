"""The contest's QQ accounts: each connection is registered (its groups from get_group_list and
its mutes), kept alive by a heartbeat, and marked gone when it closes; QQ's notices about the
account itself (muted, joined, removed) update the registry; messages other processes handed
over are sent (see bot.accounts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger
from nonebot import get_driver, require
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    GroupBanNoticeEvent,
    GroupDecreaseNoticeEvent,
    GroupIncreaseNoticeEvent,
    NetworkError,
    NoticeEvent,
)
from nonebot.exception import ApiNotAvailable
from nonebot.plugin import PluginMetadata

require("plugins.router")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_apscheduler import scheduler

from bot.accounts.registry import HEARTBEAT
from bot.runtime import Rotation, Runtime, is_open, runtimes, spread
from plugins.router import deliver_relayed, notice

__plugin_meta__ = PluginMetadata(
    name="机器人账号",
    description="登记每个 QQ 账号所在的群与禁言状态；多个账号时只由一个账号回复，断线时自动切换",
    usage="自动运行，无需指令",
)

BEAT_JOB = "accounts.heartbeat"
# get_group_list of an account in thousands of groups: only so many are kept.
MAX_GROUPS = 2000
_FAILED = (ActionFailed, NetworkError, ApiNotAvailable, TimeoutError)

driver = get_driver()


async def _call(bot: Bot, action: str, **params: Any) -> Any:
    try:
        return await bot.call_api(action, **params)
    except _FAILED as failed:
        logger.info("{} failed for account {}: {}", action, bot.self_id, failed)
        return None


async def _groups(bot: Bot, runtime: Runtime) -> dict[int, datetime | None] | None:
    """The account's groups, each with its mute as QQ reports it; None if QQ would not say."""
    listed = await _call(bot, "get_group_list")
    if not isinstance(listed, list):
        return None
    groups: dict[int, datetime | None] = {}
    for item in listed[:MAX_GROUPS]:
        group_id = item.get("group_id") if isinstance(item, dict) else None
        if isinstance(group_id, int) or (isinstance(group_id, str) and group_id.isdigit()):
            groups[int(group_id)] = None
    now = runtime.clock()
    for group_id in sorted(set(groups) & runtime.contest.groups):
        info = await _call(bot, "get_group_member_info", group_id=group_id, user_id=bot.self_id)
        until = info.get("shut_up_timestamp") if isinstance(info, dict) else None
        if isinstance(until, int) and 0 < until < 2**40:
            muted = datetime.fromtimestamp(until, UTC)
            groups[group_id] = muted if muted > now else None
    return groups


@driver.on_bot_connect
async def _connected(bot: Bot) -> None:
    """Register the account with every contest of the deployment (each contest's registry
    lists it with that contest's groups)."""
    if not is_open():
        return
    for runtime in runtimes():
        if runtime.bots is not None:
            runtime.bots.local.add(int(bot.self_id))  # at once: other connect hooks may send
    login = await _call(bot, "get_login_info")
    nickname = str(login.get("nickname") or "") if isinstance(login, dict) else ""
    for runtime in runtimes():
        if runtime.bots is None:
            continue
        groups = await _groups(bot, runtime)
        await runtime.bots.connected(int(bot.self_id), nickname, groups, runtime.clock())
        known = "未知" if groups is None else str(len(groups))
        logger.info("QQ 账号 {} 已连接（所在群 {} 个）", bot.self_id, known)
        await deliver_relayed(runtime)


@driver.on_bot_disconnect
async def _disconnected(bot: Bot) -> None:
    if not is_open():
        return
    for runtime in runtimes():
        if runtime.bots is not None:
            await runtime.bots.disconnected(int(bot.self_id), runtime.clock())


_rotation = Rotation()


async def beat() -> None:
    """Keep this process's accounts alive in one contest's registry, forget its old claims,
    send its relays; one contest per beat, in turn (see `Rotation`), each once per HEARTBEAT."""
    runtime = _rotation.next()
    if runtime is None or runtime.bots is None:
        return
    try:
        await runtime.bots.beat(runtime.clock())
        await runtime.bots.forget_claims(runtime.clock())
        await deliver_relayed(runtime)
    except Exception:
        logger.exception("账号心跳失败，稍后重试")


def _relay_for(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    async def relayed() -> None:
        await deliver_relayed(runtime)

    return relayed


@driver.on_startup
async def _start() -> None:
    if not is_open():
        return
    for runtime in runtimes():
        if runtime.watcher is not None:
            runtime.watcher.reloads["relay"] = _relay_for(runtime)
    scheduler.add_job(
        beat,
        "interval",
        seconds=spread(HEARTBEAT.total_seconds()),
        id=BEAT_JOB,
        replace_existing=True,
        next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )


@notice("group_ban")
async def _muted(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if not isinstance(event, GroupBanNoticeEvent) or event.user_id != event.self_id:
        return
    if runtime.bots is None:
        return
    now = runtime.clock()
    until = now + timedelta(seconds=event.duration) if event.sub_type == "ban" else None
    if until is not None and event.duration <= 0:
        until = None
    await runtime.bots.mute(int(bot.self_id), event.group_id, until, now)


@notice("group_increase")
async def _joined(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if (
        isinstance(event, GroupIncreaseNoticeEvent)
        and event.user_id == event.self_id
        and runtime.bots is not None
    ):
        await runtime.bots.joined(int(bot.self_id), event.group_id, runtime.clock())


@notice("group_decrease")
async def _left(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if (
        isinstance(event, GroupDecreaseNoticeEvent)
        and event.user_id == event.self_id
        and runtime.bots is not None
    ):
        await runtime.bots.left(int(bot.self_id), event.group_id, runtime.clock())
