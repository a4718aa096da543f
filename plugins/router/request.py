"""A command (or a message a listener claimed) as a handler sees it, and how replies are sent."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    GroupMessageEvent,
    MessageEvent,
    NetworkError,
)
from nonebot.exception import ApiNotAvailable

from bot.messages.commands import segments_after
from bot.messages.history import HISTORY_COUNT, Verdict, find_sent, history_messages, text_head
from bot.messages.outbox import Delivery, SendFailed
from bot.messages.parts import Part, Quote, Target, Text
from bot.messages.render import forward_nodes
from bot.runtime import Runtime
from bot.units.directory import UnitView
from bot.units.roles import Identity

# The newest message id seen in each group (events and the bot's own sends): Lagrange.OneBot's
# get_group_msg_history reads back from a given message id.
latest_message: dict[int, int] = {}


class OneBotTransport:
    """Sends OneBot v11 segment arrays through a NoneBot bot, turning failures into SendFailed."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def confirm(self, target: Target, error: SendFailed) -> Verdict | None:
        """Whether an unanswered group message was shown, from the group's history.

        Asks NapCat's way first (newest messages, no `message_seq`), then Lagrange.OneBot's
        (back from the newest message id seen in the group). None: cannot tell.
        """
        if target.kind != "group" or not error.unanswered or error.since is None:
            return None
        head = text_head(error.segments)
        styles: list[tuple[dict[str, Any], bool]] = [({}, True)]
        if target.id in latest_message:
            styles.append(({"message_id": latest_message[target.id]}, False))
        for extra, from_latest in styles:
            try:
                data = await self.bot.call_api(
                    "get_group_msg_history", group_id=target.id, count=HISTORY_COUNT, **extra
                )
            except (ActionFailed, NetworkError, ApiNotAvailable) as failed:
                logger.info("get_group_msg_history {} failed: {}", extra or "(latest)", failed)
                continue
            messages = history_messages(data)
            if messages is None:
                continue
            verdict = find_sent(
                messages,
                self_id=self.bot.self_id,
                head=head,
                since=error.since,
                from_latest=from_latest,
            )
            if verdict is not None:
                return verdict
        return None

    async def send(self, target: Target, message: list[dict[str, Any]]) -> int | None:
        since = time.time()
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
        except NetworkError as error:
            # NoneBot's adapter raises "WebSocket call api … timeout" when the request went out
            # and nothing answered: the message may have been shown.
            text = str(error) or type(error).__name__
            raise SendFailed(
                None, text, unanswered="timeout" in text.lower(), since=since
            ) from error
        except ApiNotAvailable as error:
            raise SendFailed(None, str(error) or type(error).__name__) from error
        if isinstance(result, dict) and isinstance(result.get("message_id"), int):
            if target.kind == "group":
                latest_message[target.id] = result["message_id"]
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
    # The example from the command's (or subcommand's) declaration, for `ask_for`.
    example: str = ""

    async def ask_for(self, what: str) -> Delivery:
        """Say what is missing, with the declared example: "请写明要撤回的编号，例如：/撤回 17"."""
        return await self.reply(f"{what}，例如：{self.example}" if self.example else what)

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

    async def reply_list(self, text: str, fallback: str | None = None) -> Delivery:
        """An organizer-facing list: above `[messages] forward_over` characters, one merged-
        forward message (a "聊天记录" card) instead of several long texts.

        Never for reminders, @s or members' answers: callers use it only for organizers'
        lists, and the text carries no mention. Falls back to plain replies (`fallback`, else
        the text) only when OneBot refuses the call with an error code; a call that is never
        answered may have been shown, so nothing is sent again.
        """
        policy = self.runtime.outbox.policy
        target = (
            Target.group(self.group_id)
            if self.group_id is not None
            else Target.private(self.event.user_id)
        )
        if not policy.forward_over or len(text) <= policy.forward_over:
            return await self.reply(text)
        nodes = forward_nodes(text, self.runtime.contest.bot.nickname, self.bot.self_id, policy)
        action, key = (
            ("send_group_forward_msg", "group_id")
            if target.kind == "group"
            else ("send_private_forward_msg", "user_id")
        )
        since = time.time()
        try:
            await self.bot.call_api(action, **{key: target.id}, messages=nodes)
        except NetworkError as error:
            logger.warning("合并转发 {} 未获回应（{}），可能已送达，不再重发", target, error)
            failed = SendFailed(None, str(error), unanswered=True, since=since)
            return Delivery(target, ok=False, failed=failed)
        except (ActionFailed, ApiNotAvailable) as error:
            logger.info("合并转发 {} 被拒绝（{}），改为分条发送", target, error)
            return await self.reply(fallback or text)
        return Delivery(target, ok=True, sent=1)

    async def send_private(self, user_id: int, parts: Sequence[Part] | str) -> Delivery:
        return await self.runtime.outbox.send(
            OneBotTransport(self.bot), Target.private(user_id), parts
        )
