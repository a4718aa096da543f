"""One matcher for every message and notice; commands are dispatched from a table.

NoneBot checks every matcher against every event, and each check costs a task, a rule and a
permission evaluation. With ~25 commands and a passive FAQ, one matcher per command would make
ordinary chatter an order of magnitude slower (see bench/bench_routing.py). So the other plugins
register their commands and notice handlers here, and this plugin's single matcher decides in a
few dictionary lookups whether an event is for the bot at all.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from loguru import logger
from nonebot import get_driver, on
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    Event,
    GroupAdminNoticeEvent,
    GroupDecreaseNoticeEvent,
    GroupMessageEvent,
    MessageEvent,
    NetworkError,
    NoticeEvent,
)
from nonebot.exception import ApiNotAvailable
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot.messages.commands import CommandCall, has_prefix
from bot.refusal import Refusal
from bot.runtime import (
    Runtime,
    close_all,
    current,
    is_open,
    runtime_for_group,
    runtimes,
    serving,
    start_from_files,
)
from bot.units.roles import Identity, identify
from plugins.router.request import OneBotTransport, Request, latest_message
from plugins.router.senders import (
    bot_for_group,
    deliver,
    deliver_relayed,
    deliverable,
    once,
    private_bot,
    target_deliverable,
)
from plugins.router.table import (
    Command,
    CommandGroup,
    Handler,
    NoticeHandler,
    Wants,
    _commands,
    _listeners,
    _notices,
    _table,
    command,
    command_group,
    commands_for,
    listen,
    notice,
    refusal_of,
)

__all__ = [
    "Command",
    "CommandGroup",
    "Handler",
    "NoticeHandler",
    "OneBotTransport",
    "Request",
    "Wants",
    "bot_for_group",
    "command",
    "command_group",
    "commands_for",
    "deliver",
    "deliver_relayed",
    "deliverable",
    "listen",
    "notice",
    "once",
    "private_bot",
    "target_deliverable",
]

__plugin_meta__ = PluginMetadata(
    name="指令路由",
    description="把群聊与私聊中的指令分发给各功能插件",
    usage="其他插件通过 command() / notice() 注册指令与通知处理函数",
)


# --- identity -------------------------------------------------------------------------------

_ADMIN_TTL = 600.0
# By (contest, person): admin of one contest's group says nothing about another contest.
_admin_cache: dict[tuple[str, int], tuple[float, bool]] = {}


async def _admin_in_served_group(bot: Bot, runtime: Runtime, user_id: int) -> bool:
    """Whether a private-chat user is owner/admin of a served group (cached for ten minutes)."""
    heard = runtime.group_roles.admin(user_id, runtime.contest.groups)
    if heard is not None:
        return heard  # from the groups' own messages and notices: fresher than any lookup
    key = (runtime.contest_id, user_id)
    cached = _admin_cache.get(key)
    if cached and time.monotonic() - cached[0] < _ADMIN_TTL:
        return cached[1]
    admin = False
    for group_id in sorted(runtime.contest.groups):
        try:
            info = await bot.call_api("get_group_member_info", group_id=group_id, user_id=user_id)
        except (ActionFailed, NetworkError, ApiNotAvailable):
            continue
        if isinstance(info, dict):
            runtime.group_roles.note(group_id, user_id, info.get("role"))
            save = runtime.people.heard(user_id, info.get("card"), info.get("nickname"))
            if save is not None:
                runtime.spawn(save(runtime.clock()))
        if isinstance(info, dict) and info.get("role") in ("owner", "admin"):
            admin = True
            break
    _admin_cache[key] = (time.monotonic(), admin)
    return admin


async def identify_sender(bot: Bot, event: MessageEvent, runtime: Runtime) -> Identity:
    identity = await _identify(bot, event, runtime)
    if event.user_id in runtime.deployment.province_viewers:
        identity = dataclasses.replace(identity, province=True)
    return identity


async def _identify(bot: Bot, event: MessageEvent, runtime: Runtime) -> Identity:
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


@notice("group_admin")
async def _admin_changed(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    """An admin set or unset: a demoted admin loses organizer rights at the next click."""
    if isinstance(event, GroupAdminNoticeEvent):
        role = "admin" if event.sub_type == "set" else "member"
        runtime.group_roles.note(event.group_id, event.user_id, role)
        _admin_cache.pop((runtime.contest_id, event.user_id), None)


@notice("group_decrease")
async def _member_left(bot: Bot, event: NoticeEvent, runtime: Runtime) -> None:
    if isinstance(event, GroupDecreaseNoticeEvent):
        runtime.group_roles.left(event.group_id, event.user_id)
        _admin_cache.pop((runtime.contest_id, event.user_id), None)


# --- the runtime under other entry points ---------------------------------------------------

_driver = get_driver()


@_driver.on_startup
async def _open_runtime() -> None:
    """`python -m bot` has opened the runtime by now; `nb run` (NoneBot's own entry point,
    which knows nothing of ours) has not: read and check .env and contest.toml, as we would."""
    if not is_open():
        await start_from_files(os.environ, Path(".env"))


@_driver.on_shutdown
async def _close_runtime() -> None:
    if is_open():
        await close_all()


# --- the one matcher ------------------------------------------------------------------------

_CALL = "router.call"
_RUNTIME = "router.runtime"
_SUGGEST = "router.suggest"
_LISTENER = "router.listener"
_UNKNOWN = "router.unknown"

MSG_EMPTY = "请在 / 后面写上指令，例如 /帮助。"
MSG_UNKNOWN = "没有这个指令。发送 /帮助 可查看全部指令。"
MSG_SUGGEST = "没有这个指令。您是不是要用 /{name}？发送 /帮助 可查看全部指令。"
MSG_FAILED = "抱歉，处理指令时出错了，请稍后再试或联系组织者。"


async def _wanted(bot: Bot, event: Event, state: T_State) -> bool:
    """Cheap: decides from the event alone whether the bot has anything to do with it."""
    if isinstance(event, MessageEvent):
        runtime = _runtime_of(event)
        if runtime is None:
            return False  # no contest of this deployment serves the group
        if event.user_id == event.self_id or event.user_id in runtime.contest.bot.ignore_users:
            return False
        state[_RUNTIME] = runtime
        if isinstance(event, GroupMessageEvent):
            _heard(runtime, event)
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
            # Another bot's command, or not a command at all: stay silent, unless it was
            # addressed to this bot.
            if event.to_me:
                state[_UNKNOWN] = True
                return True
            return False
        state[_SUGGEST] = suggestion
        return True
    if isinstance(event, NoticeEvent):
        if event.notice_type not in _notices:
            return False
        group_id = getattr(event, "group_id", None)
        runtime = current() if group_id is None else runtime_for_group(group_id)
        state[_RUNTIME] = runtime
        return runtime is not None
    return False


def _runtime_of(event: MessageEvent) -> Runtime | None:
    """A group message's contest (the group's); the first contest's for a private one until the
    sender is identified (`_private_contest`)."""
    if isinstance(event, GroupMessageEvent):
        return runtime_for_group(event.group_id)
    return current()


def _heard(runtime: Runtime, event: GroupMessageEvent) -> None:
    """What every group message tells in passing: the newest message id (for history look-ups),
    the sender's role (for the dashboard) and name (for replies, the dashboard and exports)."""
    latest_message[event.group_id] = event.message_id
    runtime.group_roles.note(event.group_id, event.user_id, event.sender.role)
    save = runtime.people.heard(event.user_id, event.sender.card, event.sender.nickname)
    if save is not None:  # a new or changed name: written off the hot path
        runtime.spawn(save(runtime.clock()))


router = on(rule=Rule(_wanted), priority=1, block=True)


@router.handle()
async def _dispatch(bot: Bot, event: Event, state: T_State) -> None:
    runtime: Runtime = state.get(_RUNTIME) or current()
    if isinstance(event, MessageEvent) and not isinstance(event, GroupMessageEvent):
        chosen = await _private_contest(bot, event)
        if chosen is None:
            return  # private chat is for organizers, judges and secretaries only
        runtime = chosen
    with serving(runtime):
        await _handle(bot, event, state, runtime)


async def _private_contest(bot: Bot, event: MessageEvent) -> Runtime | None:
    """The contest a private message is for: the first whose organizer, judge or secretary the
    sender is (a person with roles in two contests uses the first one's in private chat)."""
    province: Runtime | None = None
    for runtime in runtimes():
        identity = await identify_sender(bot, event, runtime)
        if identity.privileged and not (identity.province and identity.grant_only):
            return runtime
        if identity.province and province is None:
            province = runtime  # a province viewer with no role here: the link only
    return province


async def _handle(bot: Bot, event: Event, state: T_State, runtime: Runtime) -> None:
    if isinstance(event, NoticeEvent):
        for handler in _notices.get(event.notice_type, []):
            await handler(bot, event, runtime)
        return
    assert isinstance(event, MessageEvent)
    if isinstance(event, GroupMessageEvent) and not await once(bot, event, runtime):
        return  # another of the contest's accounts in this group took it on
    identity = await identify_sender(bot, event, runtime)
    if not isinstance(event, GroupMessageEvent) and not identity.privileged:
        return  # private chat is for organizers, judges and secretaries only
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
        elif state.get(_UNKNOWN):
            await request.reply(MSG_UNKNOWN)
        else:
            await request.reply(MSG_EMPTY)
        return
    found = _commands[call.key]
    request.example = found.example
    if not identity.allows(found.need):
        await request.reply(refusal_of(found, request))
        return
    try:
        await found.handler(request)
    except Refusal as refused:
        # A refusal the contest raised (unknown unit, another unit's receipt, …): its text
        # is the reply, whichever command met it.
        await request.reply(str(refused))
    except Exception:
        logger.exception(f"command /{found.name} failed")
        await request.reply(MSG_FAILED)
