"""Small factories for contests and OneBot v11 events, as CoolQBot's tests/fake.py does."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nonebot.adapters.onebot.v11 import (
    Bot,
    GroupBanNoticeEvent,
    GroupDecreaseNoticeEvent,
    GroupIncreaseNoticeEvent,
    GroupMessageEvent,
    Message,
    MessageSegment,
    PrivateMessageEvent,
)
from nonebot.adapters.onebot.v11.event import Reply, Sender
from nonebug import App

from bot.messages.parts import Quote, Text
from bot.messages.render import render
from bot.settings.contest import BotPolicy, Category, Contest, MessagePolicy, UnitSpec

SELF_ID = 99999
GROUP = 123456789
OTHER_GROUP = 987654321
ORGANIZER = 10000
SECRETARY = 10001
JUDGE = 10500
MEMBER = 20001
TZ = ZoneInfo("Asia/Shanghai")

_message_ids = itertools.count(1000)


# What a test of one pure rule leaves out of the fake contest: no judges, categories or units,
# NoneBot-free message pacing. `make_contest(**PLAIN, …)`.
PLAIN: dict[str, Any] = {
    "name": "测试大赛",
    "judges": frozenset(),
    "categories": (),
    "units": (),
    "messages": MessagePolicy(),
}


def make_contest(**overrides: Any) -> Contest:
    """The one contest factory of the tests: one served group, two categories, three units;
    any field can be overridden (see `PLAIN` for a bare contest)."""
    values: dict[str, Any] = {
        "name": "2027年南湖区学习博客大赛",
        "timezone": TZ,
        "start": datetime(2027, 6, 24, tzinfo=TZ),
        "deadline": datetime(2027, 7, 1, 18, tzinfo=TZ),
        "groups": frozenset({GROUP}),
        "organizers": frozenset({ORGANIZER}),
        "judges": frozenset({JUDGE}),
        "group_admins_are_organizers": True,
        "categories": (
            Category("town", "镇、街道", 50),
            Category("dept", "部门、单位", 5),
        ),
        "units": (
            UnitSpec("南湖街道", "town", (SECRETARY,), ("南湖",)),
            UnitSpec("新嘉街道", "town", (), ()),
            UnitSpec("区财政局", "dept", (), ("财政局",)),
        ),
        "messages": MessagePolicy(burst=1000, interval=0.001),
        "bot": BotPolicy(nickname="大赛助手"),
    }
    values.update(overrides)
    return Contest(**values)


def _message(content: str | Message | MessageSegment) -> Message:
    return content if isinstance(content, Message) else Message(content)


def group_message(
    content: str | Message | MessageSegment,
    *,
    user_id: int = MEMBER,
    group_id: int = GROUP,
    role: str = "member",
    card: str = "",
    to_me: bool = False,
) -> GroupMessageEvent:
    message = _message(content)
    return GroupMessageEvent(
        time=1782000000,
        self_id=SELF_ID,
        post_type="message",
        sub_type="normal",
        user_id=user_id,
        message_type="group",
        message_id=next(_message_ids),
        group_id=group_id,
        message=message,
        original_message=message.copy(),
        raw_message=str(message),
        font=0,
        sender=Sender(user_id=user_id, nickname=f"用户{user_id}", card=card, role=role),
        to_me=to_me,
    )


def private_message(content: str | Message, *, user_id: int = MEMBER) -> PrivateMessageEvent:
    message = _message(content)
    return PrivateMessageEvent(
        time=1782000000,
        self_id=SELF_ID,
        post_type="message",
        sub_type="friend",
        user_id=user_id,
        message_type="private",
        message_id=next(_message_ids),
        message=message,
        original_message=message.copy(),
        raw_message=str(message),
        font=0,
        sender=Sender(user_id=user_id, nickname=f"用户{user_id}"),
        to_me=True,
    )


def group_increase(user_id: int, *, group_id: int = GROUP) -> GroupIncreaseNoticeEvent:
    return GroupIncreaseNoticeEvent(
        time=1782000000,
        self_id=SELF_ID,
        post_type="notice",
        notice_type="group_increase",
        sub_type="approve",
        group_id=group_id,
        operator_id=ORGANIZER,
        user_id=user_id,
    )


def group_ban(
    user_id: int, *, duration: int = 600, sub_type: str = "ban", group_id: int = GROUP
) -> GroupBanNoticeEvent:
    return GroupBanNoticeEvent(
        time=1782000000,
        self_id=SELF_ID,
        post_type="notice",
        notice_type="group_ban",
        sub_type=sub_type,
        group_id=group_id,
        operator_id=ORGANIZER,
        user_id=user_id,
        duration=duration,
    )


def kicked(*, group_id: int = GROUP) -> GroupDecreaseNoticeEvent:
    return GroupDecreaseNoticeEvent(
        time=1782000000,
        self_id=SELF_ID,
        post_type="notice",
        notice_type="group_decrease",
        sub_type="kick_me",
        group_id=group_id,
        operator_id=ORGANIZER,
        user_id=SELF_ID,
    )


def reply_to(event: GroupMessageEvent | PrivateMessageEvent, text: str) -> tuple[str, dict]:
    """The API call the bot makes to answer `event` with `text` (one message)."""
    contest = make_contest()
    if isinstance(event, GroupMessageEvent):
        [message] = render([Quote(event.message_id), Text(text)], contest.messages)
        return "send_group_msg", {"group_id": event.group_id, "message": message}
    [message] = render([Text(text)], contest.messages)
    return "send_private_msg", {"user_id": event.user_id, "message": message}


def private_text(user_id: int, text: str) -> tuple[str, dict]:
    [message] = render([Text(text)], make_contest().messages)
    return "send_private_msg", {"user_id": user_id, "message": message}


def message_text(message: list[dict]) -> str:
    return "".join(s["data"].get("text", "") for s in message if s["type"] == "text")


class TextStarts:
    """Equals a OneBot message whose text begins with `prefix` (nonebug compares with ==)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __eq__(self, message: object) -> bool:
        return isinstance(message, list) and message_text(message).startswith(self.prefix)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<message starting {self.prefix!r}>"


class ForwardOf:
    """Equals the `messages` of a merged-forward call whose nodes, joined line by line, read
    `text`; every node is a text-only bubble sent as the bot."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, nodes: object) -> bool:
        if not isinstance(nodes, list) or not nodes:
            return False
        for node in nodes:
            if node.get("type") != "node" or node["data"].get("uin") != str(SELF_ID):
                return False
            if any(s["type"] != "text" for s in node["data"]["content"]):
                return False
        joined = "\n".join(message_text(n["data"]["content"]) for n in nodes)
        return joined == self.text

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<forward of {self.text[:40]!r}…>"


class AnyNodes(ForwardOf):
    """Equals the `messages` of any merged-forward call of text-only bubbles sent as the bot."""

    def __init__(self) -> None:
        super().__init__("")

    def __eq__(self, nodes: object) -> bool:
        if not isinstance(nodes, list) or not nodes:
            return False
        self.text = "\n".join(message_text(n["data"]["content"]) for n in nodes)
        return super().__eq__(nodes)

    __hash__ = None  # type: ignore[assignment]


class NoMentions:
    """Equals a OneBot message that @-mentions nobody."""

    def __eq__(self, message: object) -> bool:
        return isinstance(message, list) and all(s["type"] != "at" for s in message)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<message without @>"


def reply_starting(event: GroupMessageEvent | PrivateMessageEvent, prefix: str) -> tuple[str, dict]:
    """Like `reply_to`, for a reply whose text only needs to begin with `prefix`."""
    if isinstance(event, GroupMessageEvent):
        return "send_group_msg", {
            "group_id": event.group_id,
            "message": _QuotedTextStarts(event.message_id, prefix),
        }
    return "send_private_msg", {"user_id": event.user_id, "message": TextStarts(prefix)}


class _QuotedTextStarts(TextStarts):
    def __init__(self, message_id: int, prefix: str) -> None:
        super().__init__(prefix)
        self.message_id = message_id

    def __eq__(self, message: object) -> bool:
        return (
            isinstance(message, list)
            and bool(message)
            and message[0] == {"type": "reply", "data": {"id": str(self.message_id)}}
            and super().__eq__(message)
        )

    __hash__ = None  # type: ignore[assignment]


def mention_message(
    text: str, *, user_id: int = MEMBER, group_id: int = GROUP, role: str = "member"
) -> GroupMessageEvent:
    """`@bot text` as the OneBot adapter hands it on: the @ removed from `message`, kept in
    `original_message`, and `to_me` set (nonebug does not run the adapter's own checks)."""
    event = group_message(text.strip(), user_id=user_id, group_id=group_id, role=role, to_me=True)
    event.original_message = Message([MessageSegment.at(SELF_ID), MessageSegment.text(text)])
    return event


def quoting_bot(
    text: str, *, quoted_id: int, user_id: int = MEMBER, group_id: int = GROUP
) -> GroupMessageEvent:
    """A member quoting (replying to) one of the bot's messages, as the adapter hands it on:
    `reply` filled in and `to_me` set, with no @ of the bot."""
    event = group_message(text, user_id=user_id, group_id=group_id, to_me=True)
    event.reply = Reply(
        time=1782000000,
        message_type="group",
        message_id=quoted_id,
        real_id=quoted_id,
        sender=Sender(user_id=SELF_ID, nickname="大赛助手"),
        message=Message("答案"),
    )
    event.original_message = Message([MessageSegment.reply(quoted_id), MessageSegment.text(text)])
    return event


class HelpText:
    """Equals a quoted help reply that starts with `head`, lists `shown` and not `hidden`."""

    def __init__(
        self, message_id: int | None, head: str, shown: tuple[str, ...], hidden: tuple[str, ...]
    ) -> None:
        self.message_id = message_id
        self.head = head
        self.shown = shown
        self.hidden = hidden

    def __eq__(self, message: object) -> bool:
        if not isinstance(message, list) or not message:
            return False
        if self.message_id is not None and message[0] != {
            "type": "reply",
            "data": {"id": str(self.message_id)},
        }:
            return False
        lines = message_text(message).splitlines()
        names = {line.split(" ", 1)[0] for line in lines[1:]}
        return (
            lines[0] == self.head
            and all(name in names for name in self.shown)
            and not any(name in names for name in self.hidden)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<help {self.head!r} with {self.shown} without {self.hidden}>"


# --- one exchange with the bot (nonebug) ------------------------------------------------------


def text_message(text: str) -> Message:
    """`text` as one text segment, exactly as typed (no CQ-code parsing)."""
    return Message([MessageSegment.text(text)])


def with_mention(text: str, *users: int | str) -> Message:
    """`text` followed by an @ of each of `users`."""
    message = text_message(text)
    for user in users:
        message.append(MessageSegment.at(user))
    return message


async def exchange(
    app: App,
    event: GroupMessageEvent | PrivateMessageEvent,
    *calls: tuple[str, dict[str, Any]],
    message_id: int = 1,
) -> None:
    """The bot answers `event` with exactly `calls` (none: it stays silent)."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        for api, data in calls:
            ctx.should_call_api(api, data, result={"message_id": message_id})


async def expect_reply(
    app: App,
    content: str | Message,
    reply: str,
    *,
    user_id: int = MEMBER,
    role: str = "member",
) -> GroupMessageEvent:
    """`content` posted in the group by `user_id` gets exactly the one reply `reply`."""
    event = group_message(content, user_id=user_id, role=role)
    await exchange(app, event, reply_to(event, reply))
    return event
