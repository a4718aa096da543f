"""Was an unanswered message shown after all? Read from a group's message history.

A send whose API call timed out may or may not have reached the group. Before anything is sent
again, the group's recent history (`get_group_msg_history`, a go-cqhttp extension that NapCat
and Lagrange.OneBot both answer, with different parameters) is searched for it: a message from
the bot itself, sent no earlier than the attempt, whose text begins like the one that went
unanswered.

The verdict is one of three:
- FOUND: it is there; count it as sent.
- ABSENT: the history covers everything since the attempt (its oldest message is older than
  the attempt) and it is not there; sending again cannot make a duplicate.
- None: cannot tell (no history, an error, or a history that does not reach back to the
  attempt). The caller must not send again: one missing reminder is better than twenty
  secretaries @-ed twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from bot.messages.cq import parse_cq_string
from bot.messages.parts import Segment

Verdict = Literal["found", "absent"]
FOUND: Verdict = "found"
ABSENT: Verdict = "absent"

# How much of the unanswered message's text is compared (its start identifies it well).
HEAD_CHARS = 40
# Clocks of the bot and the OneBot side may differ a little.
CLOCK_SLACK = 5.0
# How many recent messages to ask for.
HISTORY_COUNT = 50


def _squeeze(text: str) -> str:
    return "".join(text.split())


def text_head(segments: Sequence[Segment]) -> str:
    """The start of a message's text, whitespace removed (what the history is searched for)."""
    text = "".join(str(s.get("data", {}).get("text", "")) for s in segments if s["type"] == "text")
    return _squeeze(text)[:HEAD_CHARS]


def _segments(entry: Mapping[str, Any]) -> list[Segment]:
    message = entry.get("message")
    if isinstance(message, list):
        return [s for s in message if isinstance(s, dict) and isinstance(s.get("type"), str)]
    if isinstance(message, str):
        return parse_cq_string(message)
    raw = entry.get("raw_message")
    return parse_cq_string(raw) if isinstance(raw, str) else []


def _sender(entry: Mapping[str, Any]) -> str:
    sender = entry.get("sender")
    if isinstance(sender, Mapping) and sender.get("user_id") is not None:
        return str(sender.get("user_id"))
    return str(entry.get("user_id", ""))


def _time(entry: Mapping[str, Any]) -> float | None:
    value = entry.get("time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def history_messages(data: object) -> list[Mapping[str, Any]] | None:
    """The message list of a get_group_msg_history answer, or None if it is not one."""
    if not isinstance(data, Mapping):
        return None
    messages = data.get("messages")
    if not isinstance(messages, list):
        return None
    return [m for m in messages if isinstance(m, Mapping)]


def find_sent(
    messages: Iterable[Mapping[str, Any]],
    *,
    self_id: int | str,
    head: str,
    since: float,
    from_latest: bool,
) -> Verdict | None:
    """Search a history for the bot's message starting with `head`, sent at `since` or later.

    `from_latest`: the history was asked for from the newest message back (NapCat without a
    `message_seq`), so a batch reaching back before `since` has everything since then. A
    history that ends at an older message (Lagrange's `message_id`) can only find.
    """
    if not head:
        return None
    earliest: float | None = None
    me = str(self_id)
    for entry in messages:
        at = _time(entry)
        if at is None:
            continue
        earliest = at if earliest is None else min(earliest, at)
        if at < since - CLOCK_SLACK or _sender(entry) != me:
            continue
        if text_head(_segments(entry)).startswith(head):
            return FOUND
    if from_latest and earliest is not None and earliest < since - CLOCK_SLACK:
        return ABSENT
    return None
