from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.settings.contest import Contest
from bot.submissions.window import WindowDecision, submission_window

UTC = UTC


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Shanghai"])
def server_timezone(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The server's own timezone must not matter: everything is shown in the contest's."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("organizer", [False, True])
def test_before_the_start_nobody_submits_and_the_reply_says_when(
    contest: Contest, server_timezone: str, organizer: bool
) -> None:
    # 2027-06-23 15:59 UTC is 23:59 on the 23rd in Shanghai, one minute before the start.
    now = datetime(2027, 6, 23, 15, 59, tzinfo=UTC)

    decision = submission_window(contest, now, organizer=organizer)

    assert decision == WindowDecision(
        open=False, late=False, reason="大赛于 6月24日 00:00 开始接受提交，请届时再提交。"
    )


def test_from_the_start_to_the_deadline_everyone_submits(contest: Contest) -> None:
    for now in (contest.start, contest.start + timedelta(days=3), contest.deadline):
        assert submission_window(contest, now, organizer=False) == WindowDecision(open=True)


def test_after_the_deadline_a_secretary_is_told_to_ask_an_organizer(
    contest: Contest, server_timezone: str
) -> None:
    now = contest.deadline + timedelta(seconds=1)

    decision = submission_window(contest, now, organizer=False)

    assert not decision.open
    assert decision.reason == "已过截止时间（7月1日 18:00），如需补交请联系组织者。"


def test_after_the_deadline_an_organizer_submits_late(contest: Contest) -> None:
    now = contest.deadline + timedelta(days=2)

    assert submission_window(contest, now, organizer=True) == WindowDecision(open=True, late=True)


def test_times_are_shown_in_the_contests_timezone(contest: Contest) -> None:
    """A contest configured in another timezone shows its own local times."""
    berlin = ZoneInfo("Europe/Berlin")
    moved = replace(contest, timezone=berlin, start=datetime(2027, 6, 24, 8, 30, tzinfo=berlin))

    decision = submission_window(moved, datetime(2027, 6, 1, tzinfo=UTC), organizer=False)

    assert decision.reason is not None
    assert "6月24日 08:30" in decision.reason


def test_naive_now_is_refused(contest: Contest) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        submission_window(contest, datetime(2027, 6, 25, 12), organizer=False)
