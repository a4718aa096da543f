"""What the FAQ says to a message: the decision, not the words.

`FaqService.claim` decides cheaply whether a plain chat message is for the FAQ at all (it runs on
every chatter message) and in which mode; `FaqService.respond` decides what to say; the chat
plugin only renders the `Reply` and reports back with `FaqService.delivered`. The in-memory
guards (repeats, flood limit, pending number choices) are consulted and updated here, so two
adapters cannot apply them differently.

Modes: "command" (/问), "mention" (@ the bot), "passive" (a plain question in the group: answer
only when sure, never suggest, never apologise, record nothing) and "choice" (a number
answering the candidates offered a moment ago).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.faq.entry import FaqEntry

Mode = Literal["command", "mention", "passive", "choice"]

# A passive question is at least this long ("博客咋发") and at most this long (not an essay).
PASSIVE_MIN = 4
PASSIVE_MAX = 200
# A number reply ("2", "第二个") is never longer than this.
CHOICE_MAX = 8
_LINK = re.compile(r"https?://", re.IGNORECASE)


def carries_link(text: str) -> bool:
    """Links are submissions, not questions."""
    return bool(_LINK.search(text))


@dataclass(frozen=True)
class Answer:
    """Send the entry's answer (then call `delivered`)."""

    entry: FaqEntry


@dataclass(frozen=True)
class Repeat:
    """The same entry was answered in this group a moment ago: point to that message."""

    # None when the earlier answer's message id is unknown (say "scroll up" instead).
    message_id: int | None


@dataclass(frozen=True)
class Suggest:
    """Offer these entries as numbered candidates; the asker replies with a number."""

    entries: tuple[FaqEntry, ...]


@dataclass(frozen=True)
class Cannot:
    """No entry fits; the question was recorded for the organizers when worth it."""

    contacts: str


@dataclass(frozen=True)
class SlowDown:
    """The group's flood limit is reached (said at most once a minute)."""


@dataclass(frozen=True)
class Usage:
    """An empty question ("empty") or one too long to be a question ("too_long")."""

    why: Literal["empty", "too_long"]


@dataclass(frozen=True)
class Silent:
    """Say nothing."""


Reply = Answer | Repeat | Suggest | Cannot | SlowDown | Usage | Silent
