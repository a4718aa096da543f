"""One matcher for every message and notice; commands are dispatched from a table.

NoneBot checks every matcher against every event, and each check costs a task, a rule and a
permission evaluation. With ~25 commands and a passive FAQ, one matcher per command would make
ordinary chatter an order of magnitude slower (see bench/bench_routing.py). So the other plugins
register their commands and notice handlers here, and this plugin's single matcher decides in a
few dictionary lookups whether an event is for the bot at all.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger
from nonebot import on
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    Event,
    GroupMessageEvent,
    MessageEvent,
    NetworkError,
    NoticeEvent,
)
from nonebot.exception import ApiNotAvailable
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot.messages.commands import CommandCall, CommandTable, has_prefix, segments_after
from bot.messages.outbox import Delivery, SendFailed
from bot.messages.parts import Part, Quote, Target, Text
from bot.refusal import Refusal
from bot.runtime import Runtime, current
from bot.units.directory import UnitView
from bot.units.roles import Identity, Need, identify

__plugin_meta__ = PluginMetadata(
    name="指令路由",
    description="把群聊与私聊中的指令分发给各功能插件",
    usage="其他插件通过 command() / notice() 注册指令与通知处理函数",
)


class OneBotTransport:
    """Sends OneBot v11 segment arrays through a NoneBot bot, turning failures into SendFailed."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, target: Target, message: list[dict[str, Any]]) -> int | None:
        try:
            if target.kind == "group":
                result = await self.bot.call_api(
                    "send_group_msg", group_id=target.id, message=message
                )
            else:
                result = await self.bot.call_api(
                    "send_private_msg", user_id=target.id, message=message
                )
        except ActionFailed as error:
            info = error.info
            raise SendFailed(
                info.get("retcode"), str(info.get("wording") or info.get("msg") or "")
            ) from error
        except (NetworkError, ApiNotAvailable) as error:
            raise SendFailed(None, str(error) or type(error).__name__) from error
        if isinstance(result, dict) and isinstance(result.get("message_id"), int):
            return result["message_id"]
        return None


@dataclass
class Request:
    """One command (or one message a listener claimed) as a handler sees it."""

    bot: Bot
    event: MessageEvent
    runtime: Runtime
    identity: Identity
    # The text after the command word (a listener: the whole message's text), trimmed.
    args: str
    # How many characters of the message's text the command word took (see `segments`).
    head: int = 0
    # What the listener's `wants` returned when it claimed the message (None for commands).
    claim: object = None

    @property
    def group_id(self) -> int | None:
        return self.event.group_id if isinstance(self.event, GroupMessageEvent) else None

    @property
    def unit(self) -> UnitView | None:
        """The unit the sender is a secretary of, if any."""
        return self.runtime.units.unit_of(self.event.user_id)

    @property
    def segments(self) -> list[dict[str, Any]]:
        """The message's OneBot segments after the command word (links, cards, @s, text)."""
        return segments_after(
            [{"type": s.type, "data": dict(s.data)} for s in self.event.message], self.head
        )

    def mentioned(self) -> list[int]:
        """QQ ids @-mentioned in the message (not the bot itself, not @全体成员)."""
        ids: list[int] = []
        for segment in self.event.original_message:
            if segment.type == "at":
                qq = str(segment.data.get("qq", ""))
                if qq.isdigit() and qq != self.bot.self_id and int(qq) not in ids:
                    ids.append(int(qq))
        return ids

    async def reply(self, parts: Sequence[Part] | str) -> Delivery:
        """Answer where the command came from; in a group, quote the command so a busy chat
        shows what is being answered."""
        transport = OneBotTransport(self.bot)
        if self.group_id is not None:
            body: list[Part] = [Quote(self.event.message_id)]
            body.extend([Text(parts)] if isinstance(parts, str) else parts)
            return await self.runtime.outbox.send(transport, Target.group(self.group_id), body)
        return await self.runtime.outbox.send(transport, Target.private(self.event.user_id), parts)

    async def send_private(self, user_id: int, parts: Sequence[Part] | str) -> Delivery:
        return await self.runtime.outbox.send(
            OneBotTransport(self.bot), Target.private(user_id), parts
        )


Handler = Callable[[Request], Awaitable[None]]
NoticeHandler = Callable[[Bot, NoticeEvent, Runtime], Awaitable[None]]
# A listener sees the messages that are not commands (questions to the FAQ, number replies).
# `wants` runs on every such message in a served group, so it must be cheap and pure; what it
# returns, when not None or false, is the listener's claim, handed to the handler as
# `Request.claim` (so the handler does not decide the same thing again).
Wants = Callable[[MessageEvent, Runtime], object]


@dataclass(frozen=True)
class Command:
    key: str
    names: tuple[str, ...]
    need: Need
    summary: str
    example: str
    handler: Handler
    order: int

    @property
    def name(self) -> str:
        return self.names[0]


_table = CommandTable()
_commands: dict[str, Command] = {}
_notices: dict[str, list[NoticeHandler]] = {}
_listeners: list[tuple[Wants, Handler]] = []


def command(
    *names: str, need: Need, summary: str, example: str, order: int = 100
) -> Callable[[Handler], Handler]:
    """Register a command. The first name is the Chinese one shown in /帮助."""

    def register(handler: Handler) -> Handler:
        key = names[0]
        _table.add(key, names)
        _commands[key] = Command(key, names, need, summary, example, handler, order)
        return handler

    return register


def notice(notice_type: str) -> Callable[[NoticeHandler], NoticeHandler]:
    """Register a handler for a OneBot notice type (group_increase, group_ban, …)."""

    def register(handler: NoticeHandler) -> NoticeHandler:
        _notices.setdefault(notice_type, []).append(handler)
        return handler

    return register


def listen(wants: Wants) -> Callable[[Handler], Handler]:
    """Register a handler for non-command messages that `wants` picks (first match wins).

    The handler gets a Request whose `args` is the message's plain text.
    """

    def register(handler: Handler) -> Handler:
        _listeners.append((wants, handler))
        return handler

    return register


def commands_for(identity: Identity) -> list[Command]:
    """The commands this user may use, in help order."""
    allowed = [c for c in _commands.values() if identity.allows(c.need)]
    return sorted(allowed, key=lambda c: (c.order, c.key))


# --- identity -------------------------------------------------------------------------------

_ADMIN_TTL = 600.0
_admin_cache: dict[int, tuple[float, bool]] = {}


async def _admin_in_served_group(bot: Bot, runtime: Runtime, user_id: int) -> bool:
    """Whether a private-chat user is owner/admin of a served group (cached for ten minutes)."""
    cached = _admin_cache.get(user_id)
    if cached and time.monotonic() - cached[0] < _ADMIN_TTL:
        return cached[1]
    admin = False
    for group_id in sorted(runtime.contest.groups):
        try:
            info = await bot.call_api("get_group_member_info", group_id=group_id, user_id=user_id)
        except (ActionFailed, NetworkError, ApiNotAvailable):
            continue
        if isinstance(info, dict) and info.get("role") in ("owner", "admin"):
            admin = True
            break
    _admin_cache[user_id] = (time.monotonic(), admin)
    return admin


async def identify_sender(bot: Bot, event: MessageEvent, runtime: Runtime) -> Identity:
    unit = runtime.units.unit_of(event.user_id)
    group_role = event.sender.role if isinstance(event, GroupMessageEvent) else None
    identity = identify(
        event.user_id,
        contest=runtime.contest,
        superusers=runtime.deployment.superusers,
        unit=unit.name if unit else None,
        group_role=group_role,
    )
    if (
        group_role is None
        and not identity.organizer
        and runtime.contest.group_admins_are_organizers
        and await _admin_in_served_group(bot, runtime, event.user_id)
    ):
        identity = identify(
            event.user_id,
            contest=runtime.contest,
            superusers=runtime.deployment.superusers,
            unit=identity.unit,
            group_role="admin",
        )
    return identity


# --- the one matcher ------------------------------------------------------------------------

_CALL = "router.call"
_SUGGEST = "router.suggest"
_LISTENER = "router.listener"

MSG_EMPTY = "请在 / 后面写上指令，例如 /帮助。"
MSG_SUGGEST = "没有这个指令。您是不是要用 /{name}？发送 /帮助 可查看全部指令。"
MSG_NEED_ORGANIZER = "抱歉，/{name} 仅限组织者使用。"
MSG_NEED_JUDGE = "抱歉，/{name} 仅限评委和组织者使用。"
MSG_NEED_SECRETARY = "您还没有绑定单位，请联系组织者发送“/单位 绑定 单位名 @您”为您绑定。"
MSG_FAILED = "抱歉，处理指令时出错了，请稍后再试或联系组织者。"


async def _wanted(bot: Bot, event: Event, state: T_State) -> bool:
    """Cheap: decides from the event alone whether the bot has anything to do with it."""
    if isinstance(event, MessageEvent):
        runtime = current()
        if event.user_id == event.self_id or event.user_id in runtime.contest.bot.ignore_users:
            return False
        if isinstance(event, GroupMessageEvent):
            if event.group_id not in runtime.contest.groups:
                return False
        elif event.message_type != "private":
            return False
        text = event.get_plaintext()
        if not has_prefix(text):
            for index, (wants, _handler) in enumerate(_listeners):
                claim = wants(event, runtime)
                if claim is not None and claim is not False:
                    state[_LISTENER] = (index, claim)
                    return True
            return False
        call = _table.resolve(text)
        if call is not None:
            state[_CALL] = call
            return True
        stripped = text.strip()
        if stripped in ("/", "／"):
            return True
        suggestion = _table.suggest(stripped)
        if suggestion is None:
            return False  # another bot's command, or not a command at all: stay silent
        state[_SUGGEST] = suggestion
        return True
    if isinstance(event, NoticeEvent):
        if event.notice_type not in _notices:
            return False
        group_id = getattr(event, "group_id", None)
        return group_id is None or group_id in current().contest.groups
    return False


router = on(rule=Rule(_wanted), priority=1, block=True)


@router.handle()
async def _dispatch(bot: Bot, event: Event, state: T_State) -> None:
    runtime = current()
    if isinstance(event, NoticeEvent):
        for handler in _notices.get(event.notice_type, []):
            await handler(bot, event, runtime)
        return
    assert isinstance(event, MessageEvent)
    identity = await identify_sender(bot, event, runtime)
    if not isinstance(event, GroupMessageEvent) and not identity.privileged:
        return  # private chat is for organisers, judges and secretaries only
    listener: tuple[int, object] | None = state.get(_LISTENER)
    if listener is not None:
        index, claim = listener
        try:
            await _listeners[index][1](
                Request(bot, event, runtime, identity, event.get_plaintext().strip(), claim=claim)
            )
        except Exception:
            logger.exception("message listener failed")  # chatter gets no error reply
        return
    call: CommandCall | None = state.get(_CALL)
    request = Request(
        bot, event, runtime, identity, call.args if call else "", call.head if call else 0
    )
    if call is None:
        suggestion = state.get(_SUGGEST)
        if suggestion is not None:
            await request.reply(MSG_SUGGEST.format(name=_commands[suggestion].name))
        else:
            await request.reply(MSG_EMPTY)
        return
    found = _commands[call.key]
    if not identity.allows(found.need):
        await request.reply(_refusal(found))
        return
    try:
        await found.handler(request)
    except Refusal as refusal:
        # A refusal the contest raised (unknown unit, another unit's receipt, …): its text
        # is the reply, whichever command met it.
        await request.reply(str(refusal))
    except Exception:
        logger.exception(f"command /{found.name} failed")
        await request.reply(MSG_FAILED)


def _refusal(found: Command) -> str:
    if found.need is Need.SECRETARY:
        return MSG_NEED_SECRETARY
    if found.need is Need.JUDGE:
        return MSG_NEED_JUDGE.format(name=found.name)
    return MSG_NEED_ORGANIZER.format(name=found.name)
