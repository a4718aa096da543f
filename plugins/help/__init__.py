"""/帮助: what this user can do, one line per command; and a welcome for new members."""

from __future__ import annotations

from nonebot import require
from nonebot.adapters.onebot.v11 import Bot, GroupIncreaseNoticeEvent, NoticeEvent
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.messages.parts import Mention, Target, Text
from bot.runtime import Runtime
from bot.units.roles import Identity, Need
from plugins.router import OneBotTransport, Request, command, commands_for, notice

__plugin_meta__ = PluginMetadata(
    name="帮助",
    description="按身份列出可用指令，欢迎新成员",
    usage="/帮助",
)

HEAD_ORGANIZER = "您是组织者，可用指令："
HEAD_JUDGE = "您是评委，可用指令："
HEAD_SECRETARY = "您是「{unit}」的联络员，可用指令："
HEAD_MEMBER = "可用指令："
TAIL_MEMBER = "有问题可以直接在群里提问。单位联络员请联系组织者绑定单位。"
WELCOME = " 欢迎加入！有问题可以直接在群里提问，或发送 /帮助 查看可用指令。{rules}"


def _head(identity: Identity) -> str:
    if identity.organizer:
        return HEAD_ORGANIZER
    if identity.judge:
        return HEAD_JUDGE
    if identity.unit is not None:
        return HEAD_SECRETARY.format(unit=identity.unit)
    return HEAD_MEMBER


@command("帮助", "help", "菜单", need=Need.MEMBER, summary="查看可用指令", example="/帮助", order=0)
async def _help(request: Request) -> None:
    identity = request.identity
    lines = [_head(identity)]
    lines += [f"{c.example} — {c.summary}" for c in commands_for(identity)]
    if not identity.privileged:
        lines.append(TAIL_MEMBER)
    await request.reply("\n".join(lines))


@notice("group_increase")
async def _welcome(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if not isinstance(event, GroupIncreaseNoticeEvent) or not runtime.contest.bot.welcome:
        return
    if event.user_id == event.self_id:
        return
    await runtime.outbox.send(
        OneBotTransport(bot),
        Target.group(event.group_id),
        [Mention(event.user_id), Text(WELCOME.format(rules=runtime.contest.bot.rules_hint))],
    )
