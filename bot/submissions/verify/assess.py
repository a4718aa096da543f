"""What fetching a link found (`PageFacts`) and the flags it earns an entry (`assess`). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.submissions.states import EntryKind, Flag, VerifyStatus

if TYPE_CHECKING:
    from bot.settings.contest import Contest


@dataclass(frozen=True)
class PageFacts:
    """What fetching a link found. `detail` is short Chinese, for logs and replies.

    status: "ok" (page read), "unreachable" (error, timeout, HTTP error status, redirect
    trouble), "not_verifiable" (a login wall or not a web page: not a failure),
    "blocked" (we refused to fetch it: private address, IP literal, localhost).
    """

    status: VerifyStatus
    http_status: int | None
    final_url: str | None
    title: str | None
    text_length: int | None
    published: date | None
    detail: str
    # What the post says, to notice later that it changed (HtmlFacts has the details).
    fingerprint: str | None = None
    excerpt: str = ""
    images: tuple[str, ...] = ()
    # The page answered with a "deleted / does not exist" notice (or HTTP 404/410).
    gone: bool = False


# --------------------------------------------------------------------------- assessment


def assess(facts: PageFacts, *, kind: str, contest: Contest) -> tuple[Flag, ...]:
    """Flags for a verified entry, in a fixed order; empty when nothing is wrong.

    "unreachable": the page could not be fetched. "short": a blog post (`kind == EntryKind.BLOG`)
    whose body is below `contest.submission.min_chars` (microblogs are short by nature).
    "outside_window": the page's publication date lies outside the contest's start and
    deadline, compared as local dates in the contest's timezone. "not_verifiable" and
    "blocked" raise no flag: they are not the author's failure.
    """
    flags: list[Flag] = []
    if facts.status == "unreachable":
        flags.append(Flag.UNREACHABLE)
    if (
        kind == EntryKind.BLOG
        and facts.status == "ok"
        and facts.text_length is not None
        and facts.text_length < contest.submission.min_chars
    ):
        flags.append(Flag.SHORT)
    if facts.published is not None:
        first = contest.start.astimezone(contest.timezone).date()
        last = contest.deadline.astimezone(contest.timezone).date()
        if not first <= facts.published <= last:
            flags.append(Flag.OUTSIDE_WINDOW)
    return tuple(flags)
