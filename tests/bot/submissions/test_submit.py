"""submit_links: the one use case chat, import and the dashboard submit through."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.settings.contest import Contest
from bot.submissions.book import Accepted, Duplicate, EntryBook, Refused
from bot.submissions.links import Candidate
from bot.submissions.submit import submit_links
from bot.units.directory import UnitDirectory

SECRETARY = 10001
POST = "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"


async def test_results_follow_the_order_links_were_written(
    book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    unit = units.require("南湖街道")
    candidates = [
        Candidate("javascript:alert(1)"),
        Candidate(POST, "张三"),
        Candidate("https://example.com/a"),
        Candidate(POST.replace("https", "http")),
    ]
    done = await submit_links(book, contest, unit, candidates, by=SECRETARY, at=now, late=False)
    outcomes = [r.outcome for r in done.results]
    assert isinstance(outcomes[0], Refused)
    assert outcomes[0].url == "javascript:alert(1)"
    assert outcomes[1] == Accepted(1, POST)
    assert isinstance(outcomes[2], Refused)
    assert isinstance(outcomes[3], Duplicate)
    assert outcomes[3].receipt == 1
    assert [r.author for r in done.results] == [None, "张三", None, None]
    assert done.accepted == [1]
    assert done.progress.accepted == 1
    assert done.dropped == 0


async def test_links_past_the_cap_are_counted_not_submitted(
    book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    small = dataclasses.replace(
        contest, submission=dataclasses.replace(contest.submission, max_links=2)
    )
    unit = units.require("南湖")
    posts = [Candidate(f"https://weibo.com/1234567890/Post{n}") for n in range(5)]
    done = await submit_links(book, small, unit, posts, by=SECRETARY, at=now, late=False)
    assert len(done.results) == 2
    assert done.dropped == 3
    assert done.progress.accepted == 2


async def test_lateness_is_recorded_as_given(
    book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    unit = units.require("区教文体局")
    later = contest.deadline + timedelta(hours=1)
    done = await submit_links(book, contest, unit, [Candidate(POST)], by=1, at=later, late=True)
    assert done.late
    assert done.progress.late == 1
