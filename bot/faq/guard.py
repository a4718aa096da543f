"""Keeping the FAQ from spamming a group, and remembering the candidates it offered.

Pure and in memory, with the time passed in: `RepeatGuard` (the same entry is not answered
twice in a group within `repeat_minutes`), `FloodLimit` (at most `flood_per_minute` passive
answers per group per minute), `AskerLimit` (one member asking explicitly more than
`ASKS_PER_MINUTE` times a minute is asked to wait, once), `PendingChoices` (the numbered
candidates offered to one member, for `followup_minutes`), `AnswersSent` (which question each
recent answer answered, so "不对" can be recorded) and `parse_choice`.
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


ASKS_PER_MINUTE = 5


class AskerLimit:
    """Per (group, member): explicit questions in the last minute. Everyone asking normally is
    answered every time; only the sixth question within a minute is refused ("请稍后再问"),
    once, and any more that minute get no reply."""

    def __init__(self, per_minute: int = ASKS_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._asked: dict[tuple[int | None, int], deque[datetime]] = {}
        self._warned: dict[tuple[int | None, int], datetime] = {}

    def allow(self, group_id: int | None, user_id: int, now: datetime) -> bool:
        asked = self._asked.setdefault((group_id, user_id), deque())
        while asked and now - asked[0] >= MINUTE:
            asked.popleft()
        if len(asked) >= self.per_minute:
            return False
        asked.append(now)
        if len(self._asked) > 1000:
            self._purge(now)
        return True

    def warn(self, group_id: int | None, user_id: int, now: datetime) -> bool:
        """Whether to say "请稍后再问" (once a minute per member)."""
        last = self._warned.get((group_id, user_id))
        if last is not None and now - last < MINUTE:
            return False
        self._warned[(group_id, user_id)] = now
        return True

    def _purge(self, now: datetime) -> None:
        for key in [k for k, q in self._asked.items() if not q or now - q[-1] >= MINUTE]:
            del self._asked[key]
        for key in [k for k, at in self._warned.items() if now - at >= MINUTE]:
            del self._warned[key]


@dataclass(frozen=True)
class Offer:
    entry_ids: tuple[str, ...]
    at: datetime
    # The question the candidates were offered for (its suggestion is resolved by a pick).
    question: str = ""


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
        self,
        group_id: int | None,
        user_id: int,
        entry_ids: tuple[str, ...],
        now: datetime,
        question: str = "",
    ) -> None:
        self._offers[(group_id, user_id)] = Offer(entry_ids, now, question)
        if len(self._offers) > 1000:
            self._purge(now)

    def waiting(self, group_id: int | None, user_id: int, now: datetime) -> bool:
        """Whether this member has candidates to choose from (cheap: runs on chatter)."""
        offer = self._offers.get((group_id, user_id))
        return offer is not None and now - offer.at < self.window

    def take(self, group_id: int | None, user_id: int, text: str, now: datetime) -> str | None:
        """The entry chosen by replying `text`; the offer is used up. None if not a choice."""
        picked = self.pick(group_id, user_id, text, now)
        return picked[0] if picked else None

    def pick(
        self, group_id: int | None, user_id: int, text: str, now: datetime
    ) -> tuple[str, Offer] | None:
        """The entry chosen by replying `text` and the offer it came from (used up)."""
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
        return offer.entry_ids[number - 1], offer

    def drop(self, group_id: int | None, user_id: int) -> None:
        """The member asked something else: the old candidates no longer apply."""
        self._offers.pop((group_id, user_id), None)

    def _purge(self, now: datetime) -> None:
        for key in [k for k, o in self._offers.items() if now - o.at >= self.window]:
            del self._offers[key]


@dataclass(frozen=True)
class Sent:
    """An answer the bot sent: to which question, with which entry."""

    question: str
    entry_id: str
    at: datetime


class AnswersSent:
    """Per (group, message id of the answer): what it answered, for `KEEP` (a "不对" reply)."""

    KEEP = timedelta(minutes=30)

    def __init__(self) -> None:
        self._sent: dict[tuple[int | None, int], Sent] = {}

    def remember(
        self, group_id: int | None, message_id: int, question: str, entry_id: str, now: datetime
    ) -> None:
        self._sent[(group_id, message_id)] = Sent(question, entry_id, now)
        if len(self._sent) > 2000:
            for key in [k for k, s in self._sent.items() if now - s.at >= self.KEEP]:
                del self._sent[key]

    def of(self, group_id: int | None, message_id: int, now: datetime) -> Sent | None:
        sent = self._sent.get((group_id, message_id))
        return sent if sent is not None and now - sent.at < self.KEEP else None


@dataclass
class FaqGuards:
    """The in-memory chat state of the FAQ, one set per running bot."""

    repeats: RepeatGuard
    floods: FloodLimit
    pending: PendingChoices
    askers: AskerLimit = field(default_factory=AskerLimit)
    answers: AnswersSent = field(default_factory=AnswersSent)

    @classmethod
    def for_policy(cls, policy: FaqPolicy) -> FaqGuards:
        return cls(RepeatGuard(policy), FloodLimit(policy), PendingChoices(policy))
