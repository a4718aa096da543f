"""What the FAQ says to a message: the decision, not the words.

`FaqService.claim` decides cheaply whether a plain chat message is for the FAQ at all (it runs on
every chatter message) and in which mode; `FaqService.respond` decides what to say; the chat
plugin only renders the `Reply` and reports back with `FaqService.delivered`. The in-memory
guards (repeats, flood limit, pending number choices) are consulted and updated here, so two
adapters cannot apply them differently.

Modes: "command" (/问), "mention" (@ the bot), "passive" (a plain question in the group: answer
only when sure, never suggest, never apologise, record nothing), "choice" (a number answering
the candidates offered a moment ago), "wrong" (不对 / 0 in reply to an answer: record the
question as a miss) and "media" (an @ with only a voice message or a picture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.faq.entry import FaqEntry

Mode = Literal["command", "mention", "passive", "choice", "wrong", "media"]

# A passive question is at least this long ("博客咋发") and at most this long (not an essay).
PASSIVE_MIN = 4
PASSIVE_MAX = 200
# A number reply ("2", "第二个") is never longer than this.
CHOICE_MAX = 8
_LINK = re.compile(r"https?://", re.IGNORECASE)
# A reply to an answer saying it is the wrong one (the whole message, give or take punctuation).
_WRONG = re.compile(r"(?:不对|不是|错了|答错了|答非所问|不是这个|不是这个问题|0|零)[。.!！?？~～]*")


def carries_link(text: str) -> bool:
    """Links are submissions, not questions."""
    return bool(_LINK.search(text))


def is_wrong_answer_reply(text: str) -> bool:
    return bool(_WRONG.fullmatch("".join(text.split())))


@dataclass(frozen=True)
class Answer:
    """Send the entry's answer, naming its question first (then call `delivered`)."""

    entry: FaqEntry
    # What the member asked (kept so a "不对" reply can record it).
    question: str = ""


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
class Noted:
    """A "不对" was recorded: the question goes to the organizers."""

    contacts: str


@dataclass(frozen=True)
class SlowDown:
    """One member asked too many questions this minute (said once)."""


@dataclass(frozen=True)
class Usage:
    """Nothing to answer: an empty question, one too long to be a question, a voice message or
    picture without words ("media"), a 不对 to an answer the bot no longer knows ("rephrase")."""

    why: Literal["empty", "too_long", "media", "rephrase"]


@dataclass(frozen=True)
class Silent:
    """Say nothing."""


Reply = Answer | Repeat | Suggest | Cannot | Noted | SlowDown | Usage | Silent
