"""Submitting links for a unit: the one use case chat, spreadsheet import and the dashboard call.

`submit_links` takes links as found in a message or a cell (`Candidate`: as written, with the
author named next to it), the unit, who submits, when, and whether it is late (see
`bot.submissions.window`: the caller decides whether the window is open for this person), and
returns one `LinkResult` per link in the order they were written, the number of links past
`[submission] max_links` that were not looked at, and the unit's progress afterwards.

Each link is checked against the contest's platforms (`bot.submissions.links.check_link`);
the ones that pass go to the entries book, which commits each on its own (see
`bot.submissions.book` for what the database guarantees).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.settings.contest import Contest
from bot.submissions.book import Accepted, EntryBook, NewLink, Outcome, Progress, Refused
from bot.submissions.links import Candidate, check_link, split_links
from bot.units.directory import UnitView


@dataclass(frozen=True)
class LinkResult:
    """What became of one link: accepted (a receipt), a duplicate, or refused with a reason."""

    given: str
    author: str | None
    outcome: Outcome
    # The word in the author's place that was not read as a name (`Candidate.unread_author`).
    unread_author: str | None = None


@dataclass(frozen=True)
class Submitted:
    unit: UnitView
    # One per link, in the order the links were written.
    results: tuple[LinkResult, ...]
    # Links beyond `[submission] max_links`: not looked at (the reply asks to send them again).
    dropped: int
    late: bool
    progress: Progress

    @property
    def accepted(self) -> list[int]:
        """Receipts of the links accepted now (restored ones included)."""
        return [r.outcome.receipt for r in self.results if isinstance(r.outcome, Accepted)]


async def submit_links(
    book: EntryBook,
    contest: Contest,
    unit: UnitView,
    candidates: Sequence[Candidate],
    *,
    by: int | None,
    at: datetime,
    late: bool,
    source_group: int | None = None,
    source_message_id: int | None = None,
) -> Submitted:
    """Check and submit `candidates` for `unit` (see the module doc)."""
    policy = contest.submission
    kept, dropped = split_links(candidates, policy.max_links)
    links: list[NewLink] = []
    checked: list[Outcome | None] = []  # None: waiting for the book's outcome
    for candidate in kept:
        check = check_link(candidate.given, policy.platforms)
        if not check.ok or check.url is None or check.platform is None:
            checked.append(Refused(candidate.given, check.reason or "链接无法识别。"))
            continue
        checked.append(None)
        links.append(
            NewLink(
                url=check.url,
                given=candidate.given,
                platform=check.platform,
                platform_name=check.platform_name,
                kind=check.kind,
                author=candidate.author,
            )
        )
    booked = iter(
        await book.submit(
            unit,
            links,
            submitted_by=by,
            now=at,
            late=late,
            source_group=source_group,
            source_message_id=source_message_id,
        )
    )
    results = tuple(
        LinkResult(
            candidate.given,
            candidate.author,
            outcome or next(booked),
            None if candidate.author else candidate.unread_author,
        )
        for candidate, outcome in zip(kept, checked, strict=True)
    )
    return Submitted(unit, results, dropped, late, await book.progress(unit))
