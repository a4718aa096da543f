"""Keeping the FAQ from spamming a group, and remembering the candidates it offered.

Pure and in memory, with the time passed in: `RepeatGuard` (the same entry is not answered
twice in a group within `repeat_minutes`), `FloodLimit` (at most `flood_per_minute` FAQ replies
per group per minute), `PendingChoices` (the numbered candidates offered to one member, for
`followup_minutes`) and `parse_choice` (what counts as replying with a number).
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.settings.contest import FaqPolicy

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Earlier:
    """The bot's earlier answer of an entry in a group."""

    at: datetime
    # None while the answer is being sent, or when the OneBot side returned no id.
    message_id: int | None


class RepeatGuard:
    """Per group: when each entry was last answered, and the message that answered it."""

    def __init__(self, policy: FaqPolicy) -> None:
        self.window = timedelta(minutes=policy.repeat_minutes)
        self._answers: dict[tuple[int, str], Earlier] = {}

    def earlier(self, group_id: int, entry_id: str, now: datetime) -> Earlier | None:
        """The answer of `entry_id` given in the group within the window, if any."""
        found = self._answers.get((group_id, entry_id))
        if found is None:
            return None
        if now - found.at >= self.window:
            del self._answers[(group_id, entry_id)]
            return None
        return found

    def answered(
        self, group_id: int, entry_id: str, now: datetime, message_id: int | None = None
    ) -> None:
        """Remember an answer (call before sending, then again with the message id)."""
        self._answers[(group_id, entry_id)] = Earlier(now, message_id)

    def forget(self, group_id: int, entry_id: str) -> None:
        """The answer could not be sent: let the next asker have it."""
        self._answers.pop((group_id, entry_id), None)


class FloodLimit:
    """Per group: at most `flood_per_minute` FAQ replies in any minute."""

    def __init__(self, policy: FaqPolicy) -> None:
        self.per_minute = max(1, policy.flood_per_minute)
        self._sent: dict[int, deque[datetime]] = {}
        self._warned: dict[int, datetime] = {}

    def _recent(self, group_id: int, now: datetime) -> deque[datetime]:
        sent = self._sent.setdefault(group_id, deque())
        while sent and now - sent[0] >= MINUTE:
            sent.popleft()
        return sent

    def allow(self, group_id: int, now: datetime) -> bool:
        """Whether one more reply may go to the group now; if so, it is counted."""
        sent = self._recent(group_id, now)
        if len(sent) >= self.per_minute:
            return False
        sent.append(now)
        return True

    def warn(self, group_id: int, now: datetime) -> bool:
        """Whether to say "please ask later" (at most once a minute per group)."""
        last = self._warned.get(group_id)
        if last is not None and now - last < MINUTE:
            return False
        self._warned[group_id] = now
        return True


@dataclass(frozen=True)
class Offer:
    entry_ids: tuple[str, ...]
    at: datetime


# After NFKC: "第2个", "2号", "选2", "2." — one digit 1–9 or 一 … 九, nothing else.
_CHOICE = re.compile(r"(?:选择?)?第?([1-9一二三四五六七八九])(?:个|号|条|项)?[.。!！、)）]?")
_CHINESE_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}


def parse_choice(text: str) -> int | None:
    """The number a member replied with (1-based), or None if the text is not just a number."""
    folded = unicodedata.normalize("NFKC", text)
    compact = "".join(folded.split())
    if len(compact) > 6:
        return None
    found = _CHOICE.fullmatch(compact)
    if found is None:
        return None
    digit = found.group(1)
    return _CHINESE_DIGITS.get(digit) or int(digit)


@dataclass
class PendingChoices:
    """Per (group, member): the candidates offered, valid for `followup_minutes`.

    `group_id` is None in a private chat.
    """

    policy: FaqPolicy
    _offers: dict[tuple[int | None, int], Offer] = field(default_factory=dict)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.policy.followup_minutes)

    def offer(
        self, group_id: int | None, user_id: int, entry_ids: tuple[str, ...], now: datetime
    ) -> None:
        self._offers[(group_id, user_id)] = Offer(entry_ids, now)
        if len(self._offers) > 1000:
            self._purge(now)

    def waiting(self, group_id: int | None, user_id: int, now: datetime) -> bool:
        """Whether this member has candidates to choose from (cheap: runs on chatter)."""
        offer = self._offers.get((group_id, user_id))
        return offer is not None and now - offer.at < self.window

    def take(self, group_id: int | None, user_id: int, text: str, now: datetime) -> str | None:
        """The entry chosen by replying `text`; the offer is used up. None if not a choice."""
        offer = self._offers.get((group_id, user_id))
        if offer is None:
            return None
        if now - offer.at >= self.window:
            del self._offers[(group_id, user_id)]
            return None
        number = parse_choice(text)
        if number is None or number > len(offer.entry_ids):
            return None
        del self._offers[(group_id, user_id)]
        return offer.entry_ids[number - 1]

    def drop(self, group_id: int | None, user_id: int) -> None:
        """The member asked something else: the old candidates no longer apply."""
        self._offers.pop((group_id, user_id), None)

    def _purge(self, now: datetime) -> None:
        for key in [k for k, o in self._offers.items() if now - o.at >= self.window]:
            del self._offers[key]


@dataclass
class FaqGuards:
    """The in-memory chat state of the FAQ, one set per running bot."""

    repeats: RepeatGuard
    floods: FloodLimit
    pending: PendingChoices

    @classmethod
    def for_policy(cls, policy: FaqPolicy) -> FaqGuards:
        return cls(RepeatGuard(policy), FloodLimit(policy), PendingChoices(policy))
