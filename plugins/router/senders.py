"""Which connected account sends, and which one acts on a group event, when several QQ accounts
serve the contest (bot.accounts.registry decides; this module applies it to NoneBot's bots).

- `bot_for_group` / `private_bot`: the local account to send with, or None.
- `deliver(runtime, target, parts)`: send through the right local account; a group this process
  has no account in is handed over to a process that has one (bot.accounts.relay).
- `once(bot, event, runtime)`: whether this account should act on a group event that every
  account in the group received — False for all copies but one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import nonebot
from nonebot.adapters.onebot.v11 import Bot, GroupMessageEvent, NoticeEvent

from bot.accounts.registry import FALLBACK, BotRegistry, event_key
from bot.messages.outbox import Delivery, SendFailed
from bot.messages.parts import Part, Target, Text
from bot.reminders.runner import NO_SENDER
from bot.runtime import Runtime
from plugins.router.request import OneBotTransport


def _local(self_id: int | None) -> Bot | None:
    if self_id is None:
        return None
    found = nonebot.get_bots().get(str(self_id))
    return found if isinstance(found, Bot) else None


def _any_bot() -> Bot | None:
    for found in nonebot.get_bots().values():
        if isinstance(found, Bot):
            return found
    return None


def _registry(runtime: Runtime) -> BotRegistry | None:
    """The registry, its local accounts as NoneBot has them connected right now (the connect
    hook may not have run yet, or ran before the runtime opened)."""
    registry = runtime.bots
    if registry is not None:
        registry.local = {int(k) for k, b in nonebot.get_bots().items() if k.isdigit()}
    return registry


def bot_for_group(runtime: Runtime, group_id: int) -> Bot | None:
    """The local account to send to `group_id` with (serving first), or None."""
    registry = _registry(runtime)
    if registry is None:
        return _any_bot()
    return _local(registry.sender_for(group_id, runtime.clock()))


def private_bot(runtime: Runtime) -> Bot | None:
    """The local account for private messages: the senior connected one."""
    registry = _registry(runtime)
    if registry is None:
        return _any_bot()
    return _local(registry.private_sender()) or _any_bot()


def deliverable(runtime: Runtime, group_id: int) -> bool:
    """Whether this process should send to the group (see BotRegistry.deliverable)."""
    registry = _registry(runtime)
    return registry is None or registry.deliverable(group_id, runtime.clock())


def target_deliverable(runtime: Runtime, target: str) -> bool:
    """Whether this process should take on a reminder target: a group it has an account in (or
    nobody has); private targets when it has an account connected (or nobody has)."""
    registry = _registry(runtime)
    if registry is None:
        return True
    kind, _, value = target.partition(":")
    if kind == "group" and value.isdigit():
        return registry.deliverable(int(value), runtime.clock())
    return registry.private_deliverable(runtime.clock())


async def deliver(
    runtime: Runtime, target: Target, parts: Sequence[Part], *, relay: bool = True
) -> Delivery:
    """Send through a local account that can; hand a plain-text group message over to another
    process when only that one has an account in the group (`relay`)."""
    found = bot_for_group(runtime, target.id) if target.kind == "group" else private_bot(runtime)
    if found is not None:
        return await runtime.outbox.send(OneBotTransport(found), target, parts)
    if (
        relay
        and target.kind == "group"
        and runtime.relay is not None
        and runtime.bots is not None
        and runtime.bots.candidates(target.id, runtime.clock())
        and all(isinstance(p, Text) for p in parts)
    ):
        text = "".join(p.text for p in parts if isinstance(p, Text))
        await runtime.relay.post(target.id, text, runtime.clock())
        return Delivery(target, ok=True)
    return Delivery(target, ok=False, failed=SendFailed(None, NO_SENDER))


async def deliver_relayed(runtime: Runtime) -> int:
    """Send the messages other processes handed over for groups this process can reach."""
    if runtime.relay is None or runtime.bots is None:
        return 0
    bots = runtime.bots
    now = runtime.clock()
    taken = await runtime.relay.take(
        lambda group: bots.sender_for(group, now) is not None and bots.deliverable(group, now)
    )
    for message in taken:
        found = bot_for_group(runtime, message.group_id)
        if found is None:
            await runtime.relay.finish(message.id, runtime.clock(), NO_SENDER)
            continue
        delivery = await runtime.outbox.send(
            OneBotTransport(found), Target.group(message.group_id), [Text(message.text)]
        )
        error = None if delivery.ok else str(delivery.failed or "failed")
        await runtime.relay.finish(message.id, runtime.clock(), error)
    return len(taken)


def _mentions(event: GroupMessageEvent) -> list[int]:
    return sorted(
        int(s.data["qq"])
        for s in event.original_message
        if s.type == "at" and str(s.data.get("qq", "")).isdigit()
    )


async def once(bot: Bot, event: GroupMessageEvent | NoticeEvent, runtime: Runtime) -> bool:
    """Whether this account acts on a group event the group's other accounts received too.

    The account that serves the group (or the one a message @s, if it can speak there) claims
    the event at once; the others wait `FALLBACK` seconds and act only if nobody claimed it.
    """
    group_id = getattr(event, "group_id", None)
    registry = _registry(runtime)
    if registry is None or not isinstance(group_id, int):
        return True
    now = runtime.clock()
    if not registry.shared(group_id, now):
        return True
    me = int(bot.self_id)
    if isinstance(event, GroupMessageEvent):
        mentioned = _mentions(event)
        text = f"{event.original_message.extract_plain_text()}|{mentioned}"
        key = event_key("message", group_id, event.user_id, event.time, text)
        # An @ of one of the accounts that can speak here goes to that one.
        speaking = registry.candidates(group_id, now)
        addressed = [m for m in mentioned if m in speaking]
        first = me in addressed if addressed else (speaking[:1] == [me])
    else:
        user_id = int(getattr(event, "user_id", 0) or 0)
        text = f"{event.notice_type}|{getattr(event, 'sub_type', '')}"
        key = event_key("notice", group_id, user_id, event.time, text)
        first = registry.serving(group_id, now) == me
    if not first:
        await asyncio.sleep(FALLBACK)
    return await registry.claim(key, me, runtime.clock())
