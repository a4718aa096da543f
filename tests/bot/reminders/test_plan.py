import os
import time as systime
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.plan import (
    Slot,
    catch_up,
    deadline_stamp,
    in_quiet,
    next_due,
    plan,
    shift_out_of_quiet,
)
from bot.settings.contest import Contest, ReminderPolicy
from bot.settings.values import duration_label
from tests.fake import PLAIN, make_contest

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
QUIET = (time(22, 0), time(8, 0))
STAMP = "2027-07-01T10:00:00Z"  # 18:00 in Shanghai


def at(
    month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, tz: ZoneInfo = SH
) -> datetime:
    return datetime(2027, month, day, hour, minute, second, tzinfo=tz)


START = at(6, 24)
DEADLINE = at(7, 1, 18)


def contest_between(
    start: datetime = START, deadline: datetime = DEADLINE, tz: ZoneInfo = SH
) -> Contest:
    return make_contest(
        **PLAIN,
        timezone=tz,
        start=start,
        deadline=deadline,
        groups=frozenset({123}),
        organizers=frozenset({1}),
    )


def policy(**changes) -> ReminderPolicy:
    """Only offsets by default: no digest, no quiet hours."""
    base = ReminderPolicy(daily_at=None, quiet_hours=None)
    return replace(base, **changes)


def keys(slots: list[Slot]) -> list[str]:
    return [s.key for s in slots]


def by_key(slots: list[Slot], key: str) -> Slot:
    return next(s for s in slots if s.key == key)


# ------------------------------------------------------------------------ the default plan


def test_default_plan_of_the_shipped_example() -> None:
    slots = plan(contest_between(), ReminderPolicy())
    local = [(s.key.split("@")[0], s.due.astimezone(SH).strftime("%m-%d %H:%M")) for s in slots]
    assert local == [
        ("daily:2027-06-24", "06-24 09:00"),
        ("offset:7d", "06-24 18:00"),
        ("daily:2027-06-25", "06-25 09:00"),
        ("daily:2027-06-26", "06-26 09:00"),
        ("daily:2027-06-27", "06-27 09:00"),
        ("daily:2027-06-28", "06-28 09:00"),
        ("offset:3d", "06-28 18:00"),
        ("daily:2027-06-29", "06-29 09:00"),
        ("daily:2027-06-30", "06-30 09:00"),
        ("offset:1d", "06-30 18:00"),
        ("daily:2027-07-01", "07-01 09:00"),
        ("offset:3h", "07-01 15:00"),
        ("closing", "07-01 18:00"),
    ]


def test_every_due_time_is_utc() -> None:
    for slot in plan(contest_between(), ReminderPolicy()):
        assert slot.due.utcoffset() == timedelta(0)
        assert slot.nominal.utcoffset() == timedelta(0)


def test_keys_are_unique_and_carry_the_deadline() -> None:
    slots = plan(contest_between(), ReminderPolicy())
    assert len(set(keys(slots))) == len(slots)
    assert by_key(slots, f"offset:3d@{STAMP}").kind == "offset"
    assert by_key(slots, f"closing@{STAMP}").kind == "closing"


def test_plan_is_sorted_by_due() -> None:
    slots = plan(contest_between(), ReminderPolicy())
    assert [s.due for s in slots] == sorted(s.due for s in slots)


def test_deadline_stamp_is_utc_to_the_second() -> None:
    assert deadline_stamp(at(7, 1, 18, 0, 5)) == "2027-07-01T10:00:05Z"


# ------------------------------------------------------------------------ offsets


@pytest.mark.parametrize(
    ("offset", "label"),
    [
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=36), "36h"),
        (timedelta(hours=72), "3d"),
        (timedelta(days=7), "7d"),
    ],
)
def test_offset_is_planned_that_long_before_the_deadline(offset: timedelta, label: str) -> None:
    contest = contest_between()
    slots = plan(contest, policy(offsets=(offset,)))
    slot = by_key(slots, f"offset:{label}@{STAMP}")
    assert slot.nominal == contest.deadline - offset
    assert slot.due == contest.deadline - offset


def test_offset_written_in_another_unit_keeps_its_key() -> None:
    """Rewriting "3d" as "72h" in the config must not make the reminder new (and resent)."""
    a = plan(contest_between(), policy(offsets=(timedelta(days=3),)))
    b = plan(contest_between(), policy(offsets=(timedelta(hours=72),)))
    assert keys(a) == keys(b)


def test_offset_before_the_start_is_dropped() -> None:
    contest = contest_between(start=at(6, 29), deadline=at(7, 1, 18))
    slots = plan(contest, policy(offsets=(timedelta(days=7), timedelta(days=1))))
    assert [k.split("@")[0] for k in keys(slots)] == ["offset:1d", "closing"]


def test_offset_exactly_at_the_start_is_kept() -> None:
    contest = contest_between(start=at(6, 30, 18), deadline=at(7, 1, 18))
    slots = plan(contest, policy(offsets=(timedelta(days=1),)))
    assert slots[0].due == contest.start


def test_no_offsets_leaves_only_the_closing_slot() -> None:
    slots = plan(contest_between(), policy(offsets=()))
    assert [s.kind for s in slots] == ["closing"]


def test_a_changed_deadline_makes_new_offset_and_closing_keys() -> None:
    old = plan(contest_between(deadline=at(7, 1, 18)), policy())
    new = plan(contest_between(deadline=at(7, 8, 18)), policy())
    assert not set(keys(old)) & set(keys(new))


def test_a_changed_deadline_keeps_the_digest_keys() -> None:
    old = plan(contest_between(deadline=at(7, 1, 18)), policy(offsets=(), daily_at=time(9)))
    new = plan(contest_between(deadline=at(7, 8, 18)), policy(offsets=(), daily_at=time(9)))
    assert {k for k in keys(old) if k.startswith("daily:")} <= set(keys(new))


# ------------------------------------------------------------------------ quiet hours


@pytest.mark.parametrize(
    ("quiet", "local", "expected"),
    [
        # wrapping midnight: 22:00–08:00
        (QUIET, at(6, 25, 21, 59), at(6, 25, 21, 59)),
        (QUIET, at(6, 25, 22, 0), at(6, 26, 8, 0)),
        (QUIET, at(6, 25, 23, 30), at(6, 26, 8, 0)),
        (QUIET, at(6, 26, 0, 0), at(6, 26, 8, 0)),
        (QUIET, at(6, 26, 7, 59, 59), at(6, 26, 8, 0)),
        (QUIET, at(6, 26, 8, 0), at(6, 26, 8, 0)),
        (QUIET, at(6, 26, 12, 0), at(6, 26, 12, 0)),
        # the last day of a month wraps into the next month
        (QUIET, at(6, 30, 23, 0), at(7, 1, 8, 0)),
        # not wrapping: 12:00–14:00
        ((time(12), time(14)), at(6, 25, 11, 59), at(6, 25, 11, 59)),
        ((time(12), time(14)), at(6, 25, 12, 0), at(6, 25, 14, 0)),
        ((time(12), time(14)), at(6, 25, 13, 59), at(6, 25, 14, 0)),
        ((time(12), time(14)), at(6, 25, 14, 0), at(6, 25, 14, 0)),
        ((time(12), time(14)), at(6, 25, 23, 0), at(6, 25, 23, 0)),
        # starting at midnight
        ((time(0), time(6)), at(6, 25, 0, 0), at(6, 25, 6, 0)),
        ((time(0), time(6)), at(6, 25, 23, 59), at(6, 25, 23, 59)),
        # none
        (None, at(6, 25, 23, 30), at(6, 25, 23, 30)),
    ],
)
def test_shift_out_of_quiet(
    quiet: tuple[time, time] | None, local: datetime, expected: datetime
) -> None:
    shifted = shift_out_of_quiet(local, quiet, SH)
    assert shifted == expected
    assert shifted.utcoffset() == timedelta(0)


def test_quiet_hours_are_read_in_the_contest_timezone_not_the_moments() -> None:
    """15:30 UTC is 23:30 in Shanghai: quiet, moved to 08:00 Shanghai (00:00 UTC)."""
    moment = datetime(2027, 6, 25, 15, 30, tzinfo=UTC)
    assert shift_out_of_quiet(moment, QUIET, SH) == datetime(2027, 6, 26, 0, 0, tzinfo=UTC)
    assert shift_out_of_quiet(moment, QUIET, ZoneInfo("Europe/London")) == moment


def test_quiet_end_after_a_daylight_saving_change_uses_the_new_offset() -> None:
    """New York springs forward on 2027-03-14: 08:00 that morning is EDT (12:00 UTC)."""
    shifted = shift_out_of_quiet(datetime(2027, 3, 13, 23, 0, tzinfo=NY), QUIET, NY)
    assert shifted == datetime(2027, 3, 14, 12, 0, tzinfo=UTC)
    assert shifted.astimezone(NY).hour == 8


def test_quiet_end_inside_a_skipped_hour_moves_to_a_real_moment() -> None:
    """02:30 does not exist in New York on 2027-03-14; the shift lands on 03:30 EDT."""
    shifted = shift_out_of_quiet(
        datetime(2027, 3, 14, 1, 0, tzinfo=NY), (time(0, 0), time(2, 30)), NY
    )
    assert shifted.astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"


@pytest.mark.parametrize(
    ("local", "quiet", "expected"),
    [
        (at(6, 25, 22), QUIET, True),
        (at(6, 25, 8), QUIET, False),
        (at(6, 25, 3), QUIET, True),
        (at(6, 25, 13), (time(12), time(14)), True),
        (at(6, 25, 14), (time(12), time(14)), False),
        (at(6, 25, 12), (time(12), time(14)), True),
        (at(6, 25, 3), (time(12), time(14)), False),
        (at(6, 25, 3), None, False),
    ],
)
def test_in_quiet(local: datetime, quiet: tuple[time, time] | None, expected: bool) -> None:
    assert in_quiet(local, quiet, SH) is expected


def test_shift_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        shift_out_of_quiet(datetime(2027, 6, 25, 23, 0), QUIET, SH)


def test_offset_in_quiet_hours_is_due_at_their_end() -> None:
    contest = contest_between(deadline=at(7, 1, 10))  # 3h before: 07:00, quiet until 08:00
    slot = plan(contest, policy(offsets=(timedelta(hours=3),), quiet_hours=QUIET))[0]
    assert slot.nominal == at(7, 1, 7)
    assert slot.due == at(7, 1, 8)


def test_offset_shifted_to_or_past_the_deadline_is_dropped() -> None:
    contest = contest_between(deadline=at(7, 1, 7))  # 3h before: 04:00, quiet until 08:00
    slots = plan(
        contest, policy(offsets=(timedelta(hours=3), timedelta(days=1)), quiet_hours=QUIET)
    )
    assert [k.split("@")[0] for k in keys(slots)] == ["offset:1d", "closing"]


def test_closing_in_quiet_hours_is_due_at_their_end() -> None:
    contest = contest_between(deadline=at(7, 1, 23))
    closing = plan(contest, policy(offsets=(), quiet_hours=QUIET))[-1]
    assert closing.kind == "closing"
    assert closing.nominal == at(7, 1, 23)
    assert closing.due == at(7, 2, 8)


def test_closing_outside_quiet_hours_is_due_at_the_deadline() -> None:
    closing = plan(contest_between(), policy(quiet_hours=QUIET))[-1]
    assert closing.due == closing.nominal == at(7, 1, 18)


# ------------------------------------------------------------------------ daily digests


def test_daily_digest_only_inside_the_window() -> None:
    contest = contest_between(start=at(6, 24, 10), deadline=at(6, 26, 8, 30))
    slots = plan(contest, policy(offsets=(), daily_at=time(9)))
    assert [k.split("@")[0] for k in keys(slots)] == ["daily:2027-06-25", "closing"]


def test_daily_digest_exactly_at_the_start_is_kept_and_at_the_deadline_is_not() -> None:
    contest = contest_between(start=at(6, 24, 9), deadline=at(6, 26, 9))
    slots = plan(contest, policy(offsets=(), daily_at=time(9)))
    assert [s.key for s in slots if s.kind == "daily"] == ["daily:2027-06-24", "daily:2027-06-25"]


def test_one_digest_per_local_day_from_start_to_deadline() -> None:
    slots = plan(contest_between(), policy(offsets=(), daily_at=time(9)))
    days = [s.key for s in slots if s.kind == "daily"]
    assert days == [
        f"daily:2027-{d}"
        for d in ("06-24", "06-25", "06-26", "06-27", "06-28", "06-29", "06-30", "07-01")
    ]
    assert all(s.due.astimezone(SH).hour == 9 for s in slots if s.kind == "daily")


def test_digest_key_is_the_local_day_not_the_utc_day() -> None:
    """07:00 in Shanghai is 23:00 UTC the day before."""
    slots = plan(
        contest_between(start=at(6, 25), deadline=at(6, 26, 18)),
        policy(offsets=(), daily_at=time(7)),
    )
    first = slots[0]
    assert first.key == "daily:2027-06-25"
    assert first.due == datetime(2027, 6, 24, 23, 0, tzinfo=UTC)


def test_daily_digest_off_plans_none() -> None:
    slots = plan(contest_between(), policy(daily_at=None))
    assert not [s for s in slots if s.kind == "daily"]


def test_digest_in_quiet_hours_is_due_at_their_end() -> None:
    slots = plan(
        contest_between(start=at(6, 25), deadline=at(6, 26, 18)),
        policy(offsets=(), daily_at=time(7), quiet_hours=QUIET),
    )
    first = slots[0]
    assert first.nominal == at(6, 25, 7)
    assert first.due == at(6, 25, 8)


def test_daily_digest_follows_local_time_across_a_daylight_saving_change() -> None:
    contest = contest_between(
        start=datetime(2027, 3, 12, tzinfo=NY), deadline=datetime(2027, 3, 16, tzinfo=NY), tz=NY
    )
    slots = plan(contest, policy(offsets=(), daily_at=time(9)))
    hours_utc = [s.due.hour for s in slots if s.kind == "daily"]
    assert hours_utc == [14, 14, 13, 13]  # EST before 2027-03-14, EDT after
    assert all(s.due.astimezone(NY).hour == 9 for s in slots if s.kind == "daily")


# ------------------------------------------------------------------------ collisions


def test_offset_supersedes_a_digest_due_at_the_same_moment() -> None:
    contest = contest_between(deadline=at(7, 1, 10))  # 3h: 07:00 → 08:00; digest 07:30 → 08:00
    slots = plan(
        contest,
        policy(offsets=(timedelta(hours=3),), daily_at=time(7, 30), quiet_hours=QUIET),
    )
    at_eight = [s for s in slots if s.due == at(7, 1, 8)]
    assert [s.kind for s in at_eight] == ["offset"]
    assert "daily:2027-07-01" not in keys(slots)
    assert "daily:2027-06-30" in keys(slots)


def test_of_two_offsets_due_together_the_one_nearer_the_deadline_is_kept() -> None:
    contest = contest_between(deadline=at(7, 1, 9))  # 3h: 06:00, 2h: 07:00, both → 08:00
    slots = plan(
        contest,
        policy(offsets=(timedelta(hours=3), timedelta(hours=2)), quiet_hours=QUIET),
    )
    assert [k.split("@")[0] for k in keys(slots)] == ["offset:2h", "closing"]


def test_slots_due_at_different_moments_are_all_kept() -> None:
    contest = contest_between(deadline=at(7, 1, 12))  # 3h: 09:00 and the digest at 09:01
    slots = plan(contest, policy(offsets=(timedelta(hours=3),), daily_at=time(9, 1)))
    assert f"offset:3h@{deadline_stamp(contest.deadline)}" in keys(slots)
    assert "daily:2027-07-01" in keys(slots)


# ------------------------------------------------------------------------ the server's timezone


@pytest.fixture
def server_timezone() -> Iterator[None]:
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    systime.tzset()


@pytest.mark.usefixtures("server_timezone")
@pytest.mark.parametrize("server_tz", ["America/New_York", "Pacific/Kiritimati", "UTC"])
def test_plan_does_not_depend_on_the_servers_timezone(server_tz: str) -> None:
    contest = contest_between(deadline=at(7, 1, 23))
    full = ReminderPolicy(quiet_hours=QUIET)
    os.environ["TZ"] = "Asia/Shanghai"
    systime.tzset()
    reference = plan(contest, full)
    os.environ["TZ"] = server_tz
    systime.tzset()
    assert systime.strftime("%Z") != "CST" or server_tz == "Asia/Shanghai"
    assert plan(contest, full) == reference
    assert by_key(reference, f"closing@{deadline_stamp(contest.deadline)}").due == at(7, 2, 8)


# ------------------------------------------------------------------------ catch-up

CONTEST = contest_between()
SLOTS = plan(CONTEST, ReminderPolicy())
GRACE = timedelta(hours=2)
OFF_7D = f"offset:7d@{STAMP}"
OFF_3D = f"offset:3d@{STAMP}"
OFF_1D = f"offset:1d@{STAMP}"
OFF_3H = f"offset:3h@{STAMP}"
CLOSING = f"closing@{STAMP}"


def done_before(moment: datetime) -> frozenset[str]:
    """Everything due before `moment` already sent."""
    return frozenset(s.key for s in SLOTS if s.due < moment)


def test_nothing_due_sends_nothing() -> None:
    result = catch_up(SLOTS, at(6, 23), frozenset(), grace=GRACE)
    assert result.send is None
    assert result.skip == ()


def test_slot_due_now_is_sent_on_time() -> None:
    now = at(6, 28, 18)
    result = catch_up(SLOTS, now, done_before(now), grace=GRACE)
    assert result.send is not None
    assert result.send.key == OFF_3D
    assert result.late is False
    assert result.skip == ()
    assert result.at == now


def test_slot_a_little_behind_is_not_late() -> None:
    now = at(6, 28, 18, 1)
    result = catch_up(SLOTS, now, done_before(at(6, 28, 18)), grace=GRACE)
    assert result.send is not None
    assert result.late is False


def test_slot_well_behind_is_late() -> None:
    now = at(6, 28, 18, 30)
    result = catch_up(SLOTS, now, done_before(at(6, 28, 18)), grace=GRACE)
    assert result.send is not None
    assert result.send.key == OFF_3D
    assert result.late is True


def test_only_the_most_recent_missed_reminder_is_sent_and_older_ones_skipped() -> None:
    """Down from 06-24 12:00 to 06-30 20:00: 7d, 3d and 1d were missed; only 1d goes out."""
    now = at(6, 30, 20)
    result = catch_up(SLOTS, now, done_before(at(6, 24, 12)), grace=GRACE)
    assert result.send is not None
    assert result.send.key == OFF_1D
    assert result.late is True
    skipped = keys(list(result.skip))
    assert OFF_7D in skipped
    assert OFF_3D in skipped
    assert OFF_1D not in skipped
    assert {k for k in skipped if k.startswith("daily:")} == {
        f"daily:2027-06-{d}" for d in range(25, 31)
    }


def test_a_missed_reminder_is_preferred_to_a_more_recent_missed_digest() -> None:
    """Missed the 3d reminder (06-28 18:00) and the 06-29 digest: the reminder goes out."""
    now = at(6, 29, 10)
    result = catch_up(SLOTS, now, done_before(at(6, 28, 12)), grace=GRACE)
    assert result.send is not None
    assert result.send.key == OFF_3D
    assert keys(list(result.skip)) == ["daily:2027-06-29"]


def test_only_the_most_recent_missed_digest_is_sent_when_no_reminder_was_missed() -> None:
    now = at(6, 27, 10)
    result = catch_up(SLOTS, now, done_before(at(6, 25, 12)), grace=GRACE)
    assert result.send is not None
    assert result.send.key == "daily:2027-06-27"
    assert keys(list(result.skip)) == ["daily:2027-06-26"]


def test_done_slots_are_neither_sent_nor_skipped() -> None:
    now = at(6, 30, 20)
    result = catch_up(SLOTS, now, done_before(now), grace=GRACE)
    assert result.send is None
    assert result.skip == ()


def test_missed_reminders_are_not_sent_after_the_deadline_without_the_closing_slot() -> None:
    """A closing already sent: a reminder missed before it is skipped, not sent."""
    now = at(7, 1, 19)
    done = done_before(at(7, 1, 12)) | {CLOSING}
    result = catch_up(SLOTS, now, done, grace=GRACE)
    assert result.send is None
    assert keys(list(result.skip)) == [OFF_3H]


def test_closing_within_grace_is_sent_and_reminders_skipped() -> None:
    now = at(7, 1, 19, 30)
    result = catch_up(SLOTS, now, done_before(at(7, 1, 12)), grace=GRACE)
    assert result.send is not None
    assert result.send.key == CLOSING
    assert result.late is True
    assert keys(list(result.skip)) == [OFF_3H]


def test_closing_exactly_at_the_end_of_grace_is_sent() -> None:
    result = catch_up(SLOTS, at(7, 1, 20), done_before(at(7, 1, 18)), grace=GRACE)
    assert result.send is not None
    assert result.send.key == CLOSING


def test_closing_after_grace_is_skipped() -> None:
    result = catch_up(SLOTS, at(7, 1, 20, 0, 1), done_before(at(7, 1, 18)), grace=GRACE)
    assert result.send is None
    assert keys(list(result.skip)) == [CLOSING]


def test_bot_first_started_long_after_the_contest_sends_nothing() -> None:
    result = catch_up(SLOTS, at(7, 20), frozenset(), grace=GRACE)
    assert result.send is None
    assert len(result.skip) == len(SLOTS)


@pytest.mark.parametrize("grace_hours", [1, 2, 6])
def test_grace_is_configurable(grace_hours: int) -> None:
    now = at(7, 1, 18) + timedelta(hours=grace_hours, minutes=-1)
    result = catch_up(SLOTS, now, done_before(at(7, 1, 18)), grace=timedelta(hours=grace_hours))
    assert result.send is not None
    too_late = now + timedelta(minutes=2)
    result = catch_up(
        SLOTS, too_late, done_before(at(7, 1, 18)), grace=timedelta(hours=grace_hours)
    )
    assert result.send is None


def test_missed_slot_found_in_quiet_hours_waits_for_their_end() -> None:
    now = at(6, 28, 23)  # missed the 18:00 3d reminder; 23:00 is quiet
    result = catch_up(SLOTS, now, done_before(at(6, 28, 12)), grace=GRACE, quiet=QUIET, tz=SH)
    assert result.send is not None
    assert result.send.key == OFF_3D
    assert result.at == at(6, 29, 8)
    assert result.late is True


def test_missed_slot_outside_quiet_hours_goes_at_once() -> None:
    now = at(6, 28, 20)
    result = catch_up(SLOTS, now, done_before(at(6, 28, 12)), grace=GRACE, quiet=QUIET, tz=SH)
    assert result.at == now


def test_missed_reminder_whose_quiet_wait_reaches_the_deadline_is_skipped() -> None:
    contest = contest_between(deadline=at(7, 1, 7, 30))
    slots = plan(
        contest, ReminderPolicy(offsets=(timedelta(days=1),), daily_at=None, quiet_hours=QUIET)
    )
    now = at(7, 1, 1)  # missed the 1d reminder; quiet until 08:00, past the deadline
    result = catch_up(slots, now, frozenset(), grace=GRACE, quiet=QUIET, tz=SH)
    assert result.send is None
    assert [s.kind for s in result.skip] == ["offset"]


def test_closing_whose_quiet_wait_outlasts_the_grace_is_skipped() -> None:
    contest = contest_between(deadline=at(7, 1, 21, 30))
    slots = plan(contest, ReminderPolicy(offsets=(), daily_at=None, quiet_hours=QUIET))
    result = catch_up(slots, at(7, 1, 23), frozenset(), grace=GRACE, quiet=QUIET, tz=SH)
    assert result.send is None
    assert [s.kind for s in result.skip] == ["closing"]


def test_quiet_hours_without_a_timezone_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        catch_up(SLOTS, at(6, 28, 23), frozenset(), grace=GRACE, quiet=QUIET)


def test_slots_due_before_the_plan_existed_are_skipped_not_sent() -> None:
    """The deadline moved earlier at 06-29 12:00: the new 3d slot (06-28) is not sent late."""
    now = at(6, 29, 12)
    result = catch_up(SLOTS, now, done_before(at(6, 28, 12)), grace=GRACE, not_before=now)
    assert result.send is None
    assert OFF_3D in keys(list(result.skip))


def test_catch_up_needs_the_closing_slot() -> None:
    with pytest.raises(ValueError, match="closing"):
        catch_up([s for s in SLOTS if s.kind != "closing"], at(6, 30), frozenset(), grace=GRACE)


# ------------------------------------------------------------------------ next_due


def test_next_due_is_the_first_slot_after_now() -> None:
    slot = next_due(SLOTS, at(6, 28, 12), frozenset())
    assert slot is not None
    assert slot.key == OFF_3D


def test_next_due_ignores_a_slot_due_exactly_now() -> None:
    slot = next_due(SLOTS, at(6, 28, 18), frozenset())
    assert slot is not None
    assert slot.key == "daily:2027-06-29"


def test_next_due_skips_done_slots() -> None:
    slot = next_due(SLOTS, at(6, 28, 12), frozenset({OFF_3D}))
    assert slot is not None
    assert slot.key == "daily:2027-06-29"


def test_next_due_after_the_closing_is_none() -> None:
    assert next_due(SLOTS, at(7, 1, 18), frozenset()) is None


def test_duration_label_refuses_a_fraction_of_a_second() -> None:
    with pytest.raises(ValueError, match="whole"):
        duration_label(timedelta(milliseconds=1500))
