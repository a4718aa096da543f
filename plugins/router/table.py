"""What the router knows: commands (with their subcommands), notice handlers and listeners.

Each command is declared once — names, who may use it, a one-line summary and an example — and
/帮助, the usage text, "did you mean" and the refusal for the wrong role all come from that
declaration. A command group (`/单位 绑定 …`) declares its subcommands the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from nonebot.adapters.onebot.v11 import Bot, MessageEvent, NoticeEvent

from bot.messages.commands import CommandTable
from bot.runtime import Runtime
from bot.units.roles import Identity, Need, refusal
from plugins.router.request import Request

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
_groups: dict[str, CommandGroup] = {}


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


def command_named(word: str) -> Command | None:
    """The command a name or alias stands for (`提交`, `/submit`), or None."""
    key = _table.key_of(word)
    return _commands.get(key) if key is not None else None


def command_group_of(found: Command) -> CommandGroup | None:
    return _groups.get(found.key)


def commands_for(identity: Identity) -> list[Command]:
    """The commands this user may use, in help order."""
    allowed = [c for c in _commands.values() if identity.allows(c.need)]
    return sorted(allowed, key=lambda c: (c.order, c.key))


# --- refusals by role --------------------------------------------------------------------------


def refusal_of(found: Command, request: Request) -> str:
    """Why `request`'s sender may not use `found`; for a command group, the subcommand they
    typed decides (`/提醒 立即` is for organizers even though `/提醒 我` is for secretaries)."""
    group = _groups.get(found.key)
    if group is not None:
        return group.refusal(request)
    return refusal(found.need, found.name, request.identity)


# --- command groups ----------------------------------------------------------------------------

MSG_SUB_UNKNOWN = "没有“{sub}”这个操作。\n"
MSG_SUB_SUGGEST = "没有“{sub}”这个操作。您是不是要用 /{name}？"
SUB_SHOWN = 10


@dataclass(frozen=True)
class Sub:
    """One subcommand of a group: `/单位 绑定`."""

    names: tuple[str, ...]
    need: Need
    summary: str
    example: str
    handler: Handler

    @property
    def name(self) -> str:
        return self.names[0]


class CommandGroup:
    """A command whose first word picks a subcommand; declare them with `.sub(...)`."""

    def __init__(self, name: str, need: Need) -> None:
        self.name = name
        self.need = need
        self._table = CommandTable()
        self._subs: dict[str, Sub] = {}

    def sub(
        self, *names: str, need: Need, summary: str, example: str
    ) -> Callable[[Handler], Handler]:
        """Register a subcommand; its first name is the Chinese one shown in the usage."""

        def register(handler: Handler) -> Handler:
            self._table.add(names[0], names)
            self._subs[names[0]] = Sub(names, need, summary, example, handler)
            return handler

        return register

    def usage(self, identity: Identity) -> str:
        """ "用法：" and one line per subcommand this user may use (example — summary)."""
        lines = [
            f"{s.example} — {s.summary}" for s in self._subs.values() if identity.allows(s.need)
        ]
        return "用法：" + lines[0] if len(lines) == 1 else "\n".join(["用法：", *lines])

    async def dispatch(self, request: Request) -> None:
        # The handler sees the words after the subcommand, and the segments after it too.
        tail = request.event.get_plaintext()[request.head :]
        call = self._table.resolve_word(tail, before=request.head)
        if call is None:
            await request.reply(self._unknown(request))
            return
        found = self._subs[call.key]
        if not request.identity.allows(found.need):
            await request.reply(refusal(found.need, f"{self.name} {found.name}", request.identity))
            return
        await found.handler(replace(request, args=call.args, head=call.head, example=found.example))

    def refusal(self, request: Request) -> str:
        """Why the sender, who may not use this group at all, may not use what they typed:
        the subcommand's own role when it needs more than the group (`/提醒 立即`), else the
        group's (`/单位 列表` → "/单位 仅限组织者使用")."""
        tail = request.event.get_plaintext()[request.head :]
        call = self._table.resolve_word(tail, before=request.head)
        found = self._subs[call.key] if call is not None else None
        if found is None or found.need is self.need:
            return refusal(self.need, self.name, request.identity)
        return refusal(found.need, f"{self.name} {found.name}", request.identity)

    def _unknown(self, request: Request) -> str:
        usage = self.usage(request.identity)
        word = request.args.split(maxsplit=1)[0] if request.args.strip() else ""
        if not word:
            return usage
        close = self._table.suggest_word(word)
        if close is not None and request.identity.allows(self._subs[close].need):
            return MSG_SUB_SUGGEST.format(sub=word[:SUB_SHOWN], name=f"{self.name} {close}")
        return MSG_SUB_UNKNOWN.format(sub=word[:SUB_SHOWN]) + usage


def command_group(
    *names: str, need: Need, summary: str, example: str, order: int = 100
) -> CommandGroup:
    """Register a command made of subcommands (`/单位 列表|绑定|…`); returns the group."""
    group = CommandGroup(names[0], need)
    command(*names, need=need, summary=summary, example=example, order=order)(group.dispatch)
    _groups[names[0]] = group
    return group
