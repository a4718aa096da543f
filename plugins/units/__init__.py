"""/单位: organizers list units, bind and unbind secretaries, add units and set quotas."""

from __future__ import annotations

import re

from nonebot import require
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.messages.commands import split_args
from bot.runtime import current
from bot.units.directory import UnitView
from bot.units.roles import Need
from plugins.router import Request, command, command_group

__plugin_meta__ = PluginMetadata(
    name="单位管理",
    description="组织者在群里查看单位、绑定联络员、添加单位、调整配额",
    usage="/单位 列表 | 绑定 | 解绑 | 添加 | 配额",
)

LIST_EMPTY = "还没有任何单位。请在 config/contest.toml 中配置，或用 /单位 添加。"
LIST_HEAD = "共 {count} 个单位："
LIST_CATEGORY = "【{name}】"
LIST_UNIT = "{name} 配额{quota} 联络员{secretaries}人"
NEED_UNIT_AND_MENTION = "请写明单位并 @ 联络员"
NEED_MENTION = "请 @ 要解绑的联络员"
BOUND = "已将 {who} 绑定为「{unit}」的联络员。"
MOVED = "（原属「{unit}」）"
UNBOUND = "已解除 {who} 与「{unit}」的绑定。"
NOT_BOUND = "{who} 没有绑定任何单位。"
ADD_USAGE = "请写明名称和类别"
BAD_QUOTA = "配额应为 0 到 100000 之间的整数，例如 50；写“默认”恢复类别配额。"
ADDED = "已添加单位「{name}」（{category}，配额{quota}）。"
QUOTA_USAGE = "请写明单位和配额"
QUOTA_SET = "「{name}」的配额已改为 {quota}。"
QUOTA_RESET = "「{name}」的配额已恢复为默认 {quota}。"

QUOTA_MAX = 100_000
_DEFAULT_WORDS = {"默认", "default", "恢复"}
# A QQ id typed instead of an @: 5 to 12 ASCII digits (str.isdigit() also accepts "²").
_TYPED_QQ = re.compile(r"[1-9][0-9]{4,11}")

unit_group = command_group(
    "单位",
    "units",
    "unit",
    need=Need.ORGANIZER,
    summary="查看单位、绑定联络员、添加单位、改配额",
    example="/单位 绑定 南湖街道 @张三",
    order=80,
)


def _who(user_id: int) -> str:
    """A person by name (the QQ number only when no name is known)."""
    return current().people.shown(user_id)


def _typed_ids(request: Request, words: list[str]) -> list[int]:
    """QQ ids typed as words, never the bot itself."""
    return [int(w) for w in words if _TYPED_QQ.fullmatch(w) and w != str(request.bot.self_id)]


def _parse_quota(text: str) -> int | None:
    if not text.isdigit() or len(text) > 6:
        raise ValueError(text)
    quota = int(text)
    if quota > QUOTA_MAX:
        raise ValueError(text)
    return quota


@unit_group.sub(
    "列表", "list", need=Need.ORGANIZER, summary="查看全部单位及配额", example="/单位 列表"
)
async def _list(request: Request) -> None:
    units = request.runtime.units.list_units()
    if not units:
        await request.reply(LIST_EMPTY)
        return
    lines = [LIST_HEAD.format(count=len(units))]
    by_category: dict[str, list[UnitView]] = {}
    for unit in units:
        by_category.setdefault(unit.category, []).append(unit)
    for category_id, members in by_category.items():
        category = request.runtime.contest.category(category_id)
        lines.append(LIST_CATEGORY.format(name=category.name if category else category_id))
        lines += [
            LIST_UNIT.format(name=u.name, quota=u.quota, secretaries=len(u.secretaries))
            for u in members
        ]
    await request.reply_list("\n".join(lines))


@unit_group.sub(
    "绑定",
    "bind",
    need=Need.ORGANIZER,
    summary="绑定联络员（@ 他，或写 QQ 号）",
    example="/单位 绑定 南湖街道 @张三",
)
async def _bind(request: Request) -> None:
    words = split_args(request.args)
    users = request.mentioned()
    name = (
        " ".join(w for w in words if not _TYPED_QQ.fullmatch(w)) if not users else " ".join(words)
    )
    if not users:
        users = _typed_ids(request, words)
    if not users or not name:
        await request.ask_for(NEED_UNIT_AND_MENTION)
        return
    unit = request.runtime.units.require(name)
    lines = []
    for user_id in users:
        previous = await request.runtime.units.bind(
            user_id, unit.name, actor=request.identity.user_id, now=request.runtime.clock()
        )
        line = BOUND.format(who=_who(user_id), unit=unit.name)
        if previous is not None and previous.name != unit.name:
            line += MOVED.format(unit=previous.name)
        lines.append(line)
    await request.reply("\n".join(lines))


@unit_group.sub(
    "解绑", "unbind", need=Need.ORGANIZER, summary="解除联络员的绑定", example="/单位 解绑 @张三"
)
async def _unbind(request: Request) -> None:
    words = split_args(request.args)
    users = request.mentioned() or _typed_ids(request, words)
    if not users:
        await request.ask_for(NEED_MENTION)
        return
    lines = []
    for user_id in users:
        previous = await request.runtime.units.unbind(
            user_id, actor=request.identity.user_id, now=request.runtime.clock()
        )
        if previous is None:
            lines.append(NOT_BOUND.format(who=_who(user_id)))
        else:
            lines.append(UNBOUND.format(who=_who(user_id), unit=previous.name))
    await request.reply("\n".join(lines))


@unit_group.sub(
    "添加",
    "add",
    need=Need.ORGANIZER,
    summary="添加单位（配额可省，省略时按类别）",
    example="/单位 添加 某某社区 镇、街道 [配额]",
)
async def _add(request: Request) -> None:
    words = split_args(request.args)
    if len(words) < 2:
        await request.ask_for(ADD_USAGE)
        return
    quota: int | None = None
    if len(words) >= 3:  # 名称 类别 配额: a third word is the quota, so "-1" is not a category
        try:
            quota = _parse_quota(words.pop())
        except ValueError:
            await request.reply(BAD_QUOTA)
            return
    name, category = words[0], " ".join(words[1:])
    unit = await request.runtime.units.add(
        name, category, quota, actor=request.identity.user_id, now=request.runtime.clock()
    )
    shown = request.runtime.contest.category(unit.category)
    await request.reply(
        ADDED.format(
            name=unit.name, category=shown.name if shown else unit.category, quota=unit.quota
        )
    )


@unit_group.sub(
    "配额",
    "quota",
    need=Need.ORGANIZER,
    summary="修改配额（写“默认”恢复类别配额）",
    example="/单位 配额 南湖街道 60",
)
async def _quota(request: Request) -> None:
    words = split_args(request.args)
    if len(words) < 2:
        await request.ask_for(QUOTA_USAGE)
        return
    value = words[-1]
    name = " ".join(words[:-1])
    quota: int | None
    if value.casefold() in _DEFAULT_WORDS:
        quota = None
    else:
        try:
            quota = _parse_quota(value)
        except ValueError:
            await request.reply(BAD_QUOTA)
            return
    unit = request.runtime.units.require(name)
    updated = await request.runtime.units.set_quota(
        unit.name, quota, actor=request.identity.user_id, now=request.runtime.clock()
    )
    template = QUOTA_RESET if quota is None else QUOTA_SET
    await request.reply(template.format(name=updated.name, quota=updated.quota))


MY_UNIT = "您是「{name}」的联络员（{category}，配额{quota}）。本单位联络员：{secretaries}。"


@command(
    "我的单位",
    "myunit",
    need=Need.SECRETARY,
    summary="查看本人绑定的单位和配额",
    example="/我的单位",
    order=20,
)
async def _my_unit(request: Request) -> None:
    unit = request.runtime.units.unit_of(request.identity.user_id)
    if unit is None:  # an organizer who is not a secretary
        await request.reply("您没有绑定单位。组织者可用 /单位 列表 查看全部单位。")
        return
    category = request.runtime.contest.category(unit.category)
    await request.reply(
        MY_UNIT.format(
            name=unit.name,
            category=category.name if category else unit.category,
            quota=unit.quota,
            secretaries="、".join(current().people.name(s) or str(s) for s in unit.secretaries),
        )
    )
