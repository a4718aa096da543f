"""Tell organizers privately when the bot is muted, removed, or reconnects after an outage."""

from __future__ import annotations

import time

from loguru import logger
from nonebot import get_driver, require
from nonebot.adapters.onebot.v11 import (
    Bot,
    GroupBanNoticeEvent,
    GroupDecreaseNoticeEvent,
    NoticeEvent,
)
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.messages.parts import Target
from bot.runtime import Runtime, runtimes
from plugins.router import OneBotTransport, notice, once

__plugin_meta__ = PluginMetadata(
    name="运行提醒",
    description="机器人被禁言、被移出群或断线重连时私聊告知组织者",
    usage="自动运行，无需指令",
)

MUTED = "【大赛助手】我在群 {group} 被禁言{duration}，期间无法回复群消息。"
MUTED_ALL = "【大赛助手】群 {group} 开启了全员禁言，期间我无法回复群消息。"
UNMUTED = "【大赛助手】我在群 {group} 的禁言已解除。"
UNMUTED_ALL = "【大赛助手】群 {group} 已关闭全员禁言。"
REMOVED = "【大赛助手】我已被移出群 {group}，该群的答疑与提醒已停止。"
STANDBY = "群里的备用账号「{name}」会继续答疑和提醒。"
RECONNECTED = "【大赛助手】已重新连接，中断约 {minutes} 分钟。中断期间的群消息可能未被处理。"


def _duration(seconds: int) -> str:
    if seconds <= 0:
        return ""
    if seconds < 3600:
        return f" {max(1, seconds // 60)} 分钟"
    if seconds < 86400:
        return f" {seconds // 3600} 小时"
    return f" {seconds // 86400} 天"


async def tell_organizers(bot: Bot, runtime: Runtime, text: str) -> None:
    """Private message to every organizer; QQ refuses some (not friends): log and carry on."""
    for user_id in runtime.notify:
        delivery = await runtime.outbox.send(OneBotTransport(bot), Target.private(user_id), text)
        if not delivery.ok:
            logger.warning(f"could not tell organizer {user_id} privately: {delivery.failed}")


@notice("group_ban")
async def _ban(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if not isinstance(event, GroupBanNoticeEvent):
        return
    whole_group = event.user_id == 0
    if event.user_id != event.self_id and not whole_group:
        return
    if whole_group and not await once(bot, event, runtime):
        return  # another account in the group tells them
    if event.sub_type == "ban":
        text = (
            MUTED_ALL.format(group=event.group_id)
            if whole_group
            else MUTED.format(group=event.group_id, duration=_duration(event.duration))
        )
        text += _standby(bot, event.group_id, runtime) if not whole_group else ""
    else:
        template = UNMUTED_ALL if whole_group else UNMUTED
        text = template.format(group=event.group_id)
    await tell_organizers(bot, runtime, text)


def _standby(bot: Bot, group_id: int, runtime: Runtime) -> str:
    """A line naming the standby account when another of the contest's can speak there."""
    if runtime.bots is None:
        return ""
    me = int(bot.self_id)
    for self_id in runtime.bots.candidates(group_id, runtime.clock()):
        account = runtime.bots.account(self_id)
        if self_id != me and account is not None:
            return STANDBY.format(name=account.nickname or "另一账号")
    return ""


@notice("group_decrease")
async def _removed(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if isinstance(event, GroupDecreaseNoticeEvent) and event.sub_type == "kick_me":
        await tell_organizers(bot, runtime, REMOVED.format(group=event.group_id))


# A blip (NapCat restarting, a network hiccup) is not worth a message; an outage is.
OUTAGE_WORTH_TELLING = 60.0
_disconnected_at: dict[str, float] = {}
driver = get_driver()


@driver.on_bot_disconnect
async def _gone(bot: Bot) -> None:
    _disconnected_at[bot.self_id] = time.monotonic()
    logger.warning(f"OneBot {bot.self_id} disconnected")


@driver.on_bot_connect
async def _back(bot: Bot) -> None:
    since = _disconnected_at.pop(bot.self_id, None)
    if since is None or time.monotonic() - since < OUTAGE_WORTH_TELLING:
        return
    minutes = max(1, round((time.monotonic() - since) / 60))
    for runtime in runtimes():
        await tell_organizers(bot, runtime, RECONNECTED.format(minutes=minutes))
