"""Finding an unanswered message in a group's history: found, provably absent, or cannot tell."""

from __future__ import annotations

from typing import Any

from bot.messages.history import ABSENT, FOUND, find_sent, history_messages, text_head

BOT = 2_000_000_001
MEMBER = 10_001
SENT_AT = 1_800_000_000.0
REMINDER = [
    {"type": "text", "data": {"text": "【大赛】作品推荐进度提醒\n距截止还有 3 天。\n"}},
    {"type": "at", "data": {"qq": "10001"}},
    {"type": "text", "data": {"text": " 南湖街道 0/50"}},
]
HEAD = text_head(REMINDER)


def entry(sender: int, at: float, message: Any, *, flat_sender: bool = False) -> dict[str, Any]:
    base: dict[str, Any] = {"time": at, "message": message, "message_id": int(at) % 100_000}
    if flat_sender:
        base["user_id"] = sender
    else:
        base["sender"] = {"user_id": sender, "nickname": "x"}
    return base


def test_the_head_is_the_messages_text_without_mentions_or_spaces() -> None:
    assert HEAD.startswith("【大赛】作品推荐进度提醒距截止还有3天。")
    assert "10001" not in HEAD
    assert len(HEAD) <= 40


def test_the_bots_message_after_the_attempt_is_found() -> None:
    messages = [entry(MEMBER, SENT_AT - 60, "早上好"), entry(BOT, SENT_AT + 1, REMINDER)]

    assert find_sent(messages, self_id=BOT, head=HEAD, since=SENT_AT, from_latest=True) == FOUND


def test_a_cq_string_message_and_a_flat_sender_are_read_too() -> None:
    raw = "【大赛】作品推荐进度提醒\n距截止还有 3 天。\n[CQ:at,qq=10001] 南湖街道 0/50"
    messages = [entry(BOT, SENT_AT + 2, raw, flat_sender=True)]

    assert find_sent(messages, self_id=str(BOT), head=HEAD, since=SENT_AT, from_latest=False) == (
        FOUND
    )


def test_the_same_text_from_a_member_or_from_before_the_attempt_is_not_it() -> None:
    messages = [
        entry(MEMBER, SENT_AT + 1, REMINDER),  # a member quoting it
        entry(BOT, SENT_AT - 3600, REMINDER),  # yesterday's reminder
    ]

    assert find_sent(messages, self_id=BOT, head=HEAD, since=SENT_AT, from_latest=True) == ABSENT


def test_absent_needs_a_history_from_the_newest_that_reaches_back_before_the_attempt() -> None:
    after_only = [entry(MEMBER, SENT_AT + 5, "收到"), entry(MEMBER, SENT_AT + 9, "好的")]
    reaching_back = [entry(MEMBER, SENT_AT - 300, "在吗"), *after_only]

    assert find_sent(after_only, self_id=BOT, head=HEAD, since=SENT_AT, from_latest=True) is None
    assert find_sent(reaching_back, self_id=BOT, head=HEAD, since=SENT_AT, from_latest=True) == (
        ABSENT
    )
    # Lagrange's history ends at an older message id: it can find, never rule out.
    assert (
        find_sent(reaching_back, self_id=BOT, head=HEAD, since=SENT_AT, from_latest=False) is None
    )


def test_an_empty_history_or_an_empty_head_cannot_tell() -> None:
    assert find_sent([], self_id=BOT, head=HEAD, since=SENT_AT, from_latest=True) is None
    messages = [entry(BOT, SENT_AT + 1, REMINDER)]
    assert find_sent(messages, self_id=BOT, head="", since=SENT_AT, from_latest=True) is None


def test_malformed_history_entries_are_passed_over() -> None:
    messages: list[Any] = [
        {"time": "yesterday", "sender": {"user_id": BOT}, "message": REMINDER},
        {"time": True, "sender": {"user_id": BOT}, "message": REMINDER},
        {"time": SENT_AT + 1, "sender": None, "message": None},
        {"time": SENT_AT + 1, "sender": {"user_id": BOT}, "message": [{"no": "type"}]},
    ]

    assert find_sent(messages, self_id=BOT, head=HEAD, since=SENT_AT, from_latest=True) is None


def test_only_a_messages_list_is_a_history() -> None:
    assert history_messages({"messages": [{"time": 1}, "junk"]}) == [{"time": 1}]
    assert history_messages({"messages": None}) is None
    assert history_messages([]) is None
    assert history_messages(None) is None
