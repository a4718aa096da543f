"""/帮助: what this user can do, one line per command; and a welcome for new members."""

from __future__ import annotations

from nonebot import require
from nonebot.adapters.onebot.v11 import Bot, GroupIncreaseNoticeEvent, NoticeEvent
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.messages.commands import split_args
from bot.messages.parts import Mention, Target, Text
from bot.runtime import Runtime
from bot.units.roles import Identity, Need
from plugins.router import OneBotTransport, Request, command, commands_for, notice, once
from plugins.router.table import command_group_of, command_named

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
NO_SUCH_COMMAND = "没有“{word}”这个指令。发送 /帮助 可查看全部指令。"
NOT_YOURS = "（您目前的身份不能使用这个指令。）"
WELCOME = " 欢迎加入！有问题可以直接在群里提问，或发送 /帮助 查看可用指令。{rules}"


def _head(identity: Identity) -> str:
    if identity.organizer:
        return HEAD_ORGANIZER
    if identity.judge:
        return HEAD_JUDGE
    if identity.unit is not None:
        return HEAD_SECRETARY.format(unit=identity.unit)
    return HEAD_MEMBER


@command(
    "帮助",
    "help",
    "菜单",
    need=Need.MEMBER,
    summary="查看可用指令；/帮助 指令名 查看某个指令的用法",
    example="/帮助",
    order=0,
)
async def _help(request: Request) -> None:
    identity = request.identity
    asked = split_args(request.args)
    if asked:
        await request.reply(_usage_of(asked[0], identity))
        return
    lines = [_head(identity)]
    lines += [f"{c.example} — {c.summary}" for c in commands_for(identity)]
    if not identity.privileged:
        lines.append(TAIL_MEMBER)
    await request.reply("\n".join(lines))


def _usage_of(word: str, identity: Identity) -> str:
    """`/帮助 提交`: that command's usage and example (its subcommands for a group)."""
    found = command_named(word[:20])
    if found is None:
        return NO_SUCH_COMMAND.format(word=word[:10])
    lines = [f"/{found.name}（{found.summary}）"]
    group = command_group_of(found)
    if group is not None:
        lines.append(group.usage(identity))
    else:
        lines.append(f"例如：{found.example}")
    if not identity.allows(found.need):
        lines.append(NOT_YOURS)
    return "\n".join(lines)


@notice("group_increase")
async def _welcome(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if not isinstance(event, GroupIncreaseNoticeEvent) or not runtime.contest.bot.welcome:
        return
    if event.user_id == event.self_id:
        return
    if runtime.bots is not None and runtime.bots.account(event.user_id) is not None:
        return  # another of the contest's own accounts joined
    if not await once(bot, event, runtime):
        return  # another account in the group welcomes them
    await runtime.outbox.send(
        OneBotTransport(bot),
        Target.group(event.group_id),
        [Mention(event.user_id), Text(WELCOME.format(rules=runtime.contest.bot.rules_hint))],
    )
