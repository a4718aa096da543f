"""Which automatic reminders a contest has, when each is due, and which one to send now.

Pure functions over aware datetimes. Local rules (the daily time, quiet hours) are applied in
`contest.timezone` through zoneinfo, so the server's own timezone never matters and the
arithmetic stays right even in a zone with daylight saving time. Every `due` is in UTC.

Decisions:
- An offset reminder whose planned time falls before `contest.start` is dropped: nobody can be
  behind a contest that has not opened.
- Daily digests: one per local day at `daily_at`, from the start's day to the deadline's day,
  for the moments inside [start, deadline).
- Quiet hours bind every automatic message, the closing one included: a slot planned inside
  them is due at their end. A reminder or digest shifted to or past the deadline is dropped
  (the closing message takes its place).
- Two slots due at the same moment after the shift are one: an offset reminder supersedes a
  digest, and of two offset reminders the one nearer the deadline is kept.
- Catch-up (`catch_up`) never sends a burst: of the missed slots only one is sent, an offset
  reminder in preference to a digest (the reminder carries the @s and fresher numbers), the
  most recent of its kind; every other missed slot is skipped. A missed reminder or digest is
  sent only while the deadline has not passed; the closing message only within the grace
  after its due time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.clock import require_aware
from bot.settings.contest import Contest, ReminderPolicy
from bot.settings.values import duration_label

SlotKind = Literal["offset", "daily", "closing"]

# A slot sent less than this after its due time is on time (the runner wakes a little late).
LATE_TOLERANCE = timedelta(minutes=2)

_PRECEDENCE: dict[str, int] = {"closing": 0, "offset": 1, "daily": 2}


@dataclass(frozen=True)
class Slot:
    """One automatic message. `key` is stable across restarts and unique within a plan (at most
    48 characters): "offset:3d@2027-07-01T10:00:00Z" (the offset and the deadline in UTC),
    "daily:2027-06-25" (the local day), "closing@2027-07-01T10:00:00Z". A changed deadline
    makes new offset and closing keys, so reminders for the new deadline are not mistaken for
    those already sent; a digest is one per day whatever the deadline. `nominal` is the planned
    time, `due` the time after the quiet-hours shift (UTC)."""

    kind: SlotKind
    key: str
    nominal: datetime
    due: datetime


@dataclass(frozen=True)
class Catchup:
    """What to do with the slots already due: send `send` (None: nothing), with a note that it
    is late when `late`; record every slot in `skip` as skipped, never to be sent. `at` is when
    `send` may go out: now, or the end of the quiet hours `now` falls in (then call `catch_up`
    again at `at`: a newer slot may have become due meanwhile)."""

    send: Slot | None
    late: bool
    skip: tuple[Slot, ...]
    at: datetime | None = None


def _local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`at` on `day` in `tz`, as an aware UTC moment; a time skipped by a DST change moves on."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def in_quiet(moment: datetime, quiet: tuple[time, time] | None, tz: ZoneInfo) -> bool:
    """Whether `moment` lies in the quiet hours [start, end) of its local day in `tz`."""
    require_aware(moment, "moment")
    if quiet is None:
        return False
    start, end = quiet
    clock = moment.astimezone(tz).time().replace(tzinfo=None)
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end


def shift_out_of_quiet(moment: datetime, quiet: tuple[time, time] | None, tz: ZoneInfo) -> datetime:
    """`moment` (UTC), or the end of the quiet hours it falls in (UTC).

    Quiet hours are [start, end) in local time; start > end means they wrap midnight
    (22:00–08:00 covers 23:30 and 07:59, not 08:00).
    """
    require_aware(moment, "moment")
    if not in_quiet(moment, quiet, tz):
        return moment.astimezone(UTC)
    assert quiet is not None
    start, end = quiet
    local = moment.astimezone(tz)
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        day += timedelta(days=1)  # the evening part of a wrapping period ends tomorrow
    return _local_moment(day, end, tz)


def deadline_stamp(deadline: datetime) -> str:
    """The deadline as it appears in slot keys: UTC, to the second."""
    return deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset_slots(contest: Contest, policy: ReminderPolicy) -> list[Slot]:
    stamp = deadline_stamp(contest.deadline)
    slots: list[Slot] = []
    for offset in policy.offsets:
        nominal = contest.deadline - offset
        if nominal < contest.start:
            continue
        slots.append(
            Slot(
                kind="offset",
                key=f"offset:{duration_label(offset)}@{stamp}",
                nominal=nominal.astimezone(UTC),
                due=shift_out_of_quiet(nominal, policy.quiet_hours, contest.timezone),
            )
        )
    return slots


def _daily_slots(contest: Contest, policy: ReminderPolicy) -> list[Slot]:
    if policy.daily_at is None:
        return []
    tz = contest.timezone
    day = contest.start.astimezone(tz).date()
    last = contest.deadline.astimezone(tz).date()
    slots: list[Slot] = []
    while day <= last:
        nominal = _local_moment(day, policy.daily_at, tz)
        if contest.start <= nominal < contest.deadline:
            slots.append(
                Slot(
                    kind="daily",
                    key=f"daily:{day.isoformat()}",
                    nominal=nominal,
                    due=shift_out_of_quiet(nominal, policy.quiet_hours, tz),
                )
            )
        day += timedelta(days=1)
    return slots


def _order(slot: Slot) -> tuple[datetime, int, float]:
    # Same due: closing, then offset, then digest; of two offsets the later nominal first.
    return (slot.due, _PRECEDENCE[slot.kind], -slot.nominal.timestamp())


def plan(contest: Contest, policy: ReminderPolicy) -> list[Slot]:
    """Every automatic slot of the contest, sorted by `due` (see the module's decisions)."""
    require_aware(contest.start, "contest.start")
    require_aware(contest.deadline, "contest.deadline")
    deadline = contest.deadline.astimezone(UTC)
    candidates = [
        slot
        for slot in _offset_slots(contest, policy) + _daily_slots(contest, policy)
        if slot.due < deadline
    ]
    candidates.append(
        Slot(
            kind="closing",
            key=f"closing@{deadline_stamp(deadline)}",
            nominal=deadline,
            due=shift_out_of_quiet(deadline, policy.quiet_hours, contest.timezone),
        )
    )
    kept: list[Slot] = []
    for slot in sorted(candidates, key=_order):
        if kept and kept[-1].due == slot.due:
            continue  # superseded by the slot of higher precedence due at the same moment
        kept.append(slot)
    return kept


def _deadline_of(slots: Sequence[Slot]) -> datetime:
    closing = next((s for s in slots if s.kind == "closing"), None)
    if closing is None:
        raise ValueError("slots must come from plan(): there is no closing slot")
    return closing.nominal


def catch_up(
    slots: Sequence[Slot],
    now: datetime,
    done: Iterable[str],
    *,
    grace: timedelta,
    quiet: tuple[time, time] | None = None,
    tz: ZoneInfo | None = None,
    tolerance: timedelta = LATE_TOLERANCE,
    not_before: datetime | None = None,
) -> Catchup:
    """Choose among the slots due at or before `now` whose keys are not in `done`.

    `done` holds the keys already sent, claimed or skipped. Give `quiet` and `tz` (the policy's
    quiet hours and the contest's timezone) so that a late slot found during quiet hours waits
    for their end (`Catchup.at`); without them it may go at once. Slots due before
    `not_before` are skipped, never sent: pass the moment the current deadline was first
    planned, so that changing the deadline does not send a "late" reminder for a moment that
    had passed before the new plan existed.
    """
    require_aware(now, "now")
    if quiet is not None and tz is None:
        raise ValueError("quiet hours need the contest's timezone (tz)")
    done_keys = frozenset(done)
    missed = [s for s in slots if s.due <= now and s.key not in done_keys]
    if not missed:
        return Catchup(send=None, late=False, skip=())
    candidates = [s for s in missed if not_before is None or s.due >= not_before]
    deadline = _deadline_of(slots)
    at = now if tz is None else shift_out_of_quiet(now, quiet, tz)

    closing = next((s for s in candidates if s.kind == "closing"), None)
    offsets = [s for s in candidates if s.kind == "offset"]
    digests = [s for s in candidates if s.kind == "daily"]
    choice: Slot | None
    if closing is not None:
        choice = closing if at - closing.due <= grace else None
    elif at >= deadline:
        choice = None  # too late for a reminder; the closing message will follow
    elif offsets:
        choice = max(offsets, key=lambda s: s.due)
    elif digests:
        choice = max(digests, key=lambda s: s.due)
    else:
        choice = None
    skip = tuple(s for s in sorted(missed, key=lambda s: s.due) if s is not choice)
    if choice is None:
        return Catchup(send=None, late=False, skip=skip)
    return Catchup(send=choice, late=at - choice.due > tolerance, skip=skip, at=at)


def next_due(slots: Sequence[Slot], now: datetime, done: Iterable[str]) -> Slot | None:
    """The first slot due after `now` that is not done; slots already due are `catch_up`'s."""
    require_aware(now, "now")
    done_keys = frozenset(done)
    upcoming = [s for s in slots if s.due > now and s.key not in done_keys]
    return min(upcoming, key=lambda s: s.due, default=None)
