"""The reminder runner on SQLite and PostgreSQL: once, never lost, retried, superseded, paused.

Time comes from the test (`now` passed in); the sender is a fake that records what would have
gone out through the outbox and fails on request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol

import pytest

from bot.messages.history import ABSENT, FOUND, Verdict
from bot.messages.outbox import Delivery, SendFailed
from bot.messages.parts import Mention, Part, Target, Text
from bot.reminders.compose import LATE_NOTE
from bot.reminders.runner import ReminderRunner
from bot.reminders.store import ReminderStore, SendRecord, group_target
from bot.settings.contest import Category, Contest, MessagePolicy, ReminderPolicy, UnitSpec
from bot.storage.db import Sessions, make_engine, session_maker
from bot.submissions.book import EntryBook, NewLink
from bot.units.directory import UnitDirectory
from tests.bot.conftest import SHANGHAI
from tests.fake import make_contest

GROUP = 123456789
OTHER_GROUP = 987654321
ORGANIZER = 10000
NANHU_SECRETARY = 10001
XINXING_SECRETARY = 10002
DEADLINE = datetime(2027, 7, 1, 18, tzinfo=SHANGHAI)
DUE_3D = DEADLINE - timedelta(days=3)
DUE_1D = DEADLINE - timedelta(days=1)
DUE_3H = DEADLINE - timedelta(hours=3)
POLICY = ReminderPolicy(
    offsets=(timedelta(days=3), timedelta(days=1), timedelta(hours=3)),
    daily_at=None,
    quiet_hours=None,
    private=False,
    catch_up_grace=timedelta(hours=2),
)


def runner_contest(**overrides: object) -> Contest:
    values: dict[str, object] = {
        "name": "测试大赛",
        "timezone": SHANGHAI,
        "start": datetime(2027, 6, 24, tzinfo=SHANGHAI),
        "deadline": DEADLINE,
        "groups": frozenset({GROUP}),
        "organizers": frozenset({ORGANIZER}),
        "judges": frozenset(),
        "categories": (
            Category(id="town", name="镇、街道", quota=50),
            Category(id="dept", name="部门、单位", quota=1),
        ),
        "units": (
            UnitSpec(name="南湖街道", category="town", secretaries=(NANHU_SECRETARY,)),
            UnitSpec(name="新兴街道", category="town", secretaries=(XINXING_SECRETARY,)),
            UnitSpec(name="区教文体局", category="dept"),
        ),
        "messages": MessagePolicy(burst=1000, interval=0.001),
        "reminders": POLICY,
    }
    return make_contest(**(values | overrides))


@dataclass
class Sent:
    target: Target
    text: str
    mentions: list[int]


@dataclass
class FakeSender:
    """Records every message; fails while `failing` is set (retcode None: no connection)."""

    sent: list[Sent] = field(default_factory=list)
    attempts: int = 0
    failing: SendFailed | None = None
    fail_after: int | None = None  # succeed this many more times, then fail
    refuse_private: bool = False
    only_groups: bool = False  # `failing` applies to group messages only

    async def __call__(self, target: Target, parts: Sequence[Part]) -> Delivery:
        self.attempts += 1
        await asyncio.sleep(0)  # let a concurrent runner interleave
        if self.fail_after is not None:
            if self.fail_after == 0:
                self.failing = SendFailed(100, "SEND_MSG_API_ERROR")
                self.fail_after = None
            else:
                self.fail_after -= 1
        if self.failing is not None and not (self.only_groups and target.kind != "group"):
            return Delivery(target, ok=False, failed=self.failing)
        if self.refuse_private and target.kind == "private":
            return Delivery(target, ok=False, failed=SendFailed(100, "not a friend"))
        text = "".join(p.text for p in parts if isinstance(p, Text))
        mentions = [p.user_id for p in parts if isinstance(p, Mention)]
        self.sent.append(Sent(target, text, mentions))
        return Delivery(target, ok=True, sent=1)

    def to(self, target: Target) -> list[Sent]:
        return [s for s in self.sent if s.target == target]


class RunnerFactory(Protocol):
    async def __call__(
        self,
        contest: Contest | None = None,
        sender: FakeSender | None = None,
        *,
        on: Sessions | None = None,
        notify: Sequence[int] = (ORGANIZER,),
    ) -> ReminderRunner: ...


@pytest.fixture
async def runner_for(sessions: Sessions) -> RunnerFactory:
    async def build(
        contest: Contest | None = None,
        sender: FakeSender | None = None,
        *,
        on: Sessions | None = None,
        notify: Sequence[int] = (ORGANIZER,),
    ) -> ReminderRunner:
        contest = contest or runner_contest()
        db = on or sessions
        units = await UnitDirectory.load(db, contest)
        await units.sync_from_config(contest, datetime(2027, 6, 20, tzinfo=UTC))
        return ReminderRunner(
            contest, db, units, EntryBook(db, units), notify=notify, sender=sender or FakeSender()
        )

    return build


def _statuses(records: Sequence[SendRecord]) -> dict[str, tuple[str, str | None]]:
    return {r.key.split("@")[0]: (r.status, r.reason) for r in records}


async def _group_records(sessions: Sessions, group_id: int = GROUP) -> list[SendRecord]:
    return await ReminderStore(sessions).records(group_target(group_id))


# --- on time ---------------------------------------------------------------------------------


async def test_nothing_is_sent_before_the_first_slot_and_the_wake_is_its_due(
    runner_for: RunnerFactory,
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    wake = await runner.start(DUE_3D - timedelta(hours=1))

    assert sender.sent == []
    assert wake == DUE_3D


async def test_due_reminder_names_behind_units_with_mentions(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    wake = await runner.start(DUE_3D)

    [message] = sender.to(Target.group(GROUP))
    assert "南湖街道 0/50" in message.text
    assert "新兴街道 0/50" in message.text
    assert "区教文体局 0/1" in message.text
    assert LATE_NOTE not in message.text
    assert message.mentions == [NANHU_SECRETARY, XINXING_SECRETARY]
    assert wake == DUE_1D
    assert _statuses(await _group_records(sessions)) == {"offset:3d": ("sent", None)}


async def test_units_on_track_are_counted_not_named(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)
    bureau = runner.units.find("区教文体局").unit
    assert bureau is not None
    link = NewLink("https://weibo.com/1/Abc", "weibo.com/1/Abc", "weibo.com", "microblog")
    await runner.entries.submit(bureau, [link], submitted_by=1, now=DUE_3D, late=False)

    await runner.start(DUE_3D)

    [message] = sender.sent
    assert "区教文体局" not in message.text
    assert "另有 1 个单位已完成推荐任务" in message.text


async def test_each_served_group_gets_the_reminder(runner_for: RunnerFactory) -> None:
    sender = FakeSender()
    runner = await runner_for(runner_contest(groups=frozenset({GROUP, OTHER_GROUP})), sender)

    await runner.start(DUE_3D)

    assert len(sender.to(Target.group(GROUP))) == 1
    assert len(sender.to(Target.group(OTHER_GROUP))) == 1


# --- never twice -----------------------------------------------------------------------------


async def test_ticking_again_does_not_send_again(runner_for: RunnerFactory) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3D)

    await runner.tick(DUE_3D + timedelta(seconds=1))
    await runner.tick(DUE_3D + timedelta(minutes=10))

    assert len(sender.sent) == 1


async def test_a_restarted_runner_does_not_send_again(runner_for: RunnerFactory) -> None:
    first = FakeSender()
    await (await runner_for(sender=first)).start(DUE_3D)
    second = FakeSender()

    wake = await (await runner_for(sender=second)).start(DUE_3D + timedelta(seconds=30))

    assert len(first.sent) == 1
    assert second.sent == []
    assert wake == DUE_1D


async def test_two_processes_on_one_database_send_once(
    runner_for: RunnerFactory, sessions: Sessions, database_url: str
) -> None:
    other_engine = make_engine(database_url)
    try:
        sender = FakeSender()
        one = await runner_for(sender=sender)
        two = await runner_for(sender=sender, on=session_maker(other_engine))

        await asyncio.gather(one.start(DUE_3D), two.start(DUE_3D))
        await asyncio.gather(one.tick(DUE_1D), two.tick(DUE_1D))
    finally:
        await other_engine.dispose()

    assert len(sender.sent) == 2  # 3 days before, 1 day before: once each
    assert _statuses(await _group_records(sessions)) == {
        "offset:3d": ("sent", None),
        "offset:1d": ("sent", None),
    }


async def test_rewriting_an_offset_in_another_unit_keeps_it_sent(runner_for: RunnerFactory) -> None:
    first = FakeSender()
    await (await runner_for(sender=first)).start(DUE_3D)
    rewritten = replace(POLICY, offsets=(timedelta(hours=72), timedelta(hours=24)))
    second = FakeSender()

    runner = await runner_for(runner_contest(reminders=rewritten), second)
    await runner.start(DUE_3D + timedelta(minutes=1))

    assert second.sent == []


async def test_moving_the_deadline_replans_and_the_new_slots_are_sent(
    runner_for: RunnerFactory,
) -> None:
    first = FakeSender()
    await (await runner_for(sender=first)).start(DUE_3D)
    later = DEADLINE + timedelta(days=7)
    second = FakeSender()
    runner = await runner_for(runner_contest(deadline=later), second)

    wake = await runner.start(DUE_3D + timedelta(minutes=1))
    await runner.tick(later - timedelta(days=3))

    assert wake == later - timedelta(days=3)
    [message] = second.sent
    assert "7月8日 18:00 截止" in message.text


async def test_a_reminder_sent_a_moment_after_its_slot_reads_as_of_the_slot(
    runner_for: RunnerFactory,
) -> None:
    """The runner wakes a little after the due moment; "截止前 3 天" still says 3 days, not
    "2 天 23 小时" (what it said before this was fixed)."""
    sender = FakeSender()
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3D - timedelta(hours=1))
    await runner.tick(DUE_3D + timedelta(seconds=7))

    [message] = sender.sent
    assert "距截止还有 3 天（" in message.text
    assert LATE_NOTE not in message.text


# --- nothing lost ----------------------------------------------------------------------------


async def test_catch_up_sends_only_the_latest_missed_reminder_marked_late(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    wake = await runner.start(DUE_3H + timedelta(minutes=30))

    [message] = sender.sent
    assert LATE_NOTE in message.text
    assert "距截止还有 2 小时 30 分钟" in message.text
    assert wake == DEADLINE
    assert _statuses(await _group_records(sessions)) == {
        "offset:3d": ("skipped", "missed"),
        "offset:1d": ("skipped", "missed"),
        "offset:3h": ("sent", None),
    }


async def test_a_bot_back_after_the_deadline_sends_only_the_closing_within_grace(
    runner_for: RunnerFactory,
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    wake = await runner.start(DEADLINE + timedelta(hours=1))

    [closing] = sender.to(Target.group(GROUP))
    assert "最终统计" in closing.text
    [summary] = sender.to(Target.private(ORGANIZER))
    assert "截止汇总" in summary.text
    assert wake is None


async def test_a_bot_first_started_long_after_the_deadline_sends_nothing(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    await runner.start(DEADLINE + timedelta(days=3))

    assert sender.sent == []
    assert {s for s, _ in _statuses(await _group_records(sessions)).values()} == {"skipped"}


async def test_the_closing_goes_out_once_when_the_bot_is_running_at_the_deadline(
    runner_for: RunnerFactory,
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3H)

    await runner.tick(DEADLINE)
    await runner.tick(DEADLINE + timedelta(minutes=5))

    assert len(sender.to(Target.group(GROUP))) == 2  # the 3-hour reminder, then the closing
    assert len(sender.to(Target.private(ORGANIZER))) == 1


async def test_a_failed_send_is_retried_with_backoff_until_delivered(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=SendFailed(None, "no bot connected"))
    runner = await runner_for(sender=sender)

    first_wake = await runner.start(DUE_3D)
    await runner.tick(DUE_3D + timedelta(seconds=4))
    attempts_before_due = sender.attempts
    second_wake = await runner.tick(DUE_3D + timedelta(seconds=5))
    sender.failing = None
    await runner.tick(DUE_3D + timedelta(seconds=15))
    await runner.tick(DUE_3D + timedelta(seconds=40))

    assert first_wake == DUE_3D + timedelta(seconds=5)
    assert attempts_before_due == 1
    assert second_wake == DUE_3D + timedelta(seconds=15)
    [message] = sender.sent
    assert "南湖街道 0/50" in message.text
    [record] = await _group_records(sessions)
    assert (record.status, record.attempts) == ("sent", 3)


async def test_a_retry_much_later_carries_the_late_note(runner_for: RunnerFactory) -> None:
    sender = FakeSender(failing=SendFailed(None, "no bot connected"))
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3D)
    sender.failing = None

    await runner.hurry(DUE_3D + timedelta(minutes=30))
    await runner.tick(DUE_3D + timedelta(minutes=30))

    [message] = sender.sent
    assert LATE_NOTE in message.text


async def test_a_newer_slot_supersedes_the_pending_retry(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=SendFailed(100, "SEND_MSG_API_ERROR"))
    runner = await runner_for(sender=sender)
    await runner.start(DUE_1D)
    await runner.tick(DUE_1D + timedelta(minutes=5))

    sender.failing = None
    await runner.tick(DUE_3H)
    await runner.tick(DUE_3H + timedelta(minutes=10))

    [message] = sender.sent
    assert "距截止还有 3 小时" in message.text
    statuses = _statuses(await _group_records(sessions))
    assert statuses["offset:1d"] == ("superseded", None)
    assert statuses["offset:3h"] == ("sent", None)
    assert await ReminderStore(sessions).pending() == []


async def test_a_retry_resumes_after_the_messages_already_delivered(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    contest = runner_contest(messages=MessagePolicy(burst=1000, interval=0.001, max_mentions=1))
    sender = FakeSender(fail_after=1)  # the first message goes, the second fails
    runner = await runner_for(contest, sender)
    await runner.start(DUE_3D)
    assert len(sender.sent) == 1

    sender.failing = None
    await runner.tick(DUE_3D + timedelta(seconds=5))

    assert [s.mentions for s in sender.sent] == [[NANHU_SECRETARY], [XINXING_SECRETARY]]
    [record] = await _group_records(sessions)
    assert (record.status, record.pieces_sent) == ("sent", 2)


async def test_a_reminder_still_failing_at_the_deadline_is_given_up(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=SendFailed(None, "no bot connected"))
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3H)

    sender.failing = None
    await runner.tick(DEADLINE + timedelta(hours=3))

    assert sender.sent == []
    assert _statuses(await _group_records(sessions))["offset:3h"] == ("expired", "deadline")


async def test_a_send_interrupted_by_a_crash_is_not_sent_again(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    store = ReminderStore(sessions)
    key = "offset:3d@2027-07-01T10:00:00Z"  # 18:00 in Shanghai
    await store.claim(
        group_target(GROUP), key, kind="offset", due=DUE_3D, now=DUE_3D, owner="dead-process"
    )
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    await runner.start(DUE_3D + timedelta(seconds=10))
    await runner.tick(DUE_3D + timedelta(minutes=20))

    assert sender.to(Target.group(GROUP)) == []
    assert (await store.get(group_target(GROUP), key)).status == "abandoned"  # type: ignore[union-attr]
    [notice] = sender.to(Target.private(ORGANIZER))
    assert "可能未送达" in notice.text
    assert "/提醒 立即" in notice.text


# --- sends that are never answered ----------------------------------------------------------

UNANSWERED = SendFailed(
    None, "WebSocket call api send_group_msg timeout", unanswered=True, since=1.0
)


@dataclass
class FakeHistory:
    """The runner's `confirm`: answers a fixed verdict (or raises) and counts the lookups."""

    verdict: str | None = None
    raises: bool = False
    asked: list[Target] = field(default_factory=list)

    async def __call__(self, target: Target, error: SendFailed) -> Verdict | None:
        self.asked.append(target)
        if self.raises:
            raise RuntimeError("history exploded")
        return self.verdict  # type: ignore[return-value]


async def _unanswered_once(
    runner_for: RunnerFactory, history: FakeHistory
) -> tuple[FakeSender, ReminderRunner]:
    sender = FakeSender(failing=UNANSWERED, only_groups=True)
    runner = await runner_for(sender=sender)
    runner.confirm = history
    await runner.start(DUE_3D)
    sender.failing = None
    for minutes in (1, 5, 30):
        await runner.tick(DUE_3D + timedelta(minutes=minutes))
    return sender, runner


async def test_an_unanswered_send_that_history_cannot_confirm_is_never_resent(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    history = FakeHistory(verdict=None)

    sender, _runner = await _unanswered_once(runner_for, history)

    assert history.asked == [Target.group(GROUP)]
    assert sender.to(Target.group(GROUP)) == []  # the one attempt was unanswered; no resend
    [record] = await _group_records(sessions)
    assert (record.status, record.reason) == ("abandoned", "unanswered")
    [notice] = sender.to(Target.private(ORGANIZER))
    assert notice.text.startswith("提醒可能未送达")
    assert str(GROUP) in notice.text
    assert "/提醒 立即" in notice.text
    assert notice.mentions == []


async def test_an_unanswered_send_found_in_history_counts_as_sent(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender, _runner = await _unanswered_once(runner_for, FakeHistory(verdict=FOUND))

    assert sender.sent == []  # nothing resent, nobody bothered
    [record] = await _group_records(sessions)
    assert record.status == "sent"


async def test_an_unanswered_send_provably_absent_is_retried_once(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender, _runner = await _unanswered_once(runner_for, FakeHistory(verdict=ABSENT))

    [message] = sender.to(Target.group(GROUP))
    assert "南湖街道 0/50" in message.text
    assert sender.to(Target.private(ORGANIZER)) == []
    [record] = await _group_records(sessions)
    assert (record.status, record.attempts) == ("sent", 2)


async def test_a_history_lookup_that_fails_counts_as_cannot_tell(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender, _runner = await _unanswered_once(runner_for, FakeHistory(raises=True))

    assert sender.to(Target.group(GROUP)) == []
    [record] = await _group_records(sessions)
    assert (record.status, record.reason) == ("abandoned", "unanswered")


async def test_a_refused_send_is_not_looked_up_in_history(runner_for: RunnerFactory) -> None:
    history = FakeHistory(verdict=FOUND)
    sender = FakeSender(failing=SendFailed(100, "SEND_MSG_API_ERROR"), only_groups=True)
    runner = await runner_for(sender=sender)
    runner.confirm = history

    await runner.start(DUE_3D)

    assert history.asked == []


async def test_an_unanswered_send_now_is_reported_as_unconfirmed_not_failed(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=UNANSWERED, only_groups=True)
    runner = await runner_for(sender=sender)

    result = await runner.send_now(DUE_3D - timedelta(hours=1), ORGANIZER)

    assert (result.delivered, result.failed, result.unconfirmed) == ((), (), (GROUP,))
    assert sender.sent == []  # the organizer who asked is answered by the command itself
    assert [(r.status, r.reason) for r in await _group_records(sessions)] == [
        ("abandoned", "unanswered")
    ]


# --- quiet hours -----------------------------------------------------------------------------


async def test_a_late_reminder_found_in_quiet_hours_waits_for_their_end(
    runner_for: RunnerFactory,
) -> None:
    quiet = replace(POLICY, quiet_hours=(time(22, 0), time(8, 0)))
    sender = FakeSender()
    runner = await runner_for(runner_contest(reminders=quiet), sender)
    night = datetime(2027, 6, 28, 23, 30, tzinfo=SHANGHAI)  # the 3-day reminder was at 18:00

    wake = await runner.start(night)
    assert sender.sent == []
    morning = datetime(2027, 6, 29, 8, 0, tzinfo=SHANGHAI)
    assert wake == morning

    await runner.tick(morning)
    [message] = sender.sent
    assert LATE_NOTE in message.text


# --- private messages ------------------------------------------------------------------------


async def test_private_reminders_reach_each_behind_secretary_once(
    runner_for: RunnerFactory,
) -> None:
    contest = runner_contest(
        groups=frozenset({GROUP, OTHER_GROUP}), reminders=replace(POLICY, private=True)
    )
    sender = FakeSender()
    runner = await runner_for(contest, sender)

    await runner.start(DUE_3D)

    [nanhu] = sender.to(Target.private(NANHU_SECRETARY))
    assert nanhu.text.startswith("南湖街道：已推荐作品 0 篇")
    assert len(sender.to(Target.private(XINXING_SECRETARY))) == 1
    assert len(sender.to(Target.group(GROUP))) == len(sender.to(Target.group(OTHER_GROUP))) == 1


async def test_a_refused_private_message_does_not_hold_up_the_others(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    contest = runner_contest(reminders=replace(POLICY, private=True))
    sender = FakeSender(refuse_private=True)
    runner = await runner_for(contest, sender)

    wake = await runner.start(DUE_3D)

    assert len(sender.to(Target.group(GROUP))) == 1
    assert wake == DUE_1D  # nothing waits for a retry
    assert await ReminderStore(sessions).pending() == []


# --- organizers' commands --------------------------------------------------------------------


async def test_pause_is_kept_in_the_database_and_skips_due_slots(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)
    assert await runner.pause(ORGANIZER, DUE_3D - timedelta(hours=1))
    restarted = await runner_for(sender=sender)

    await restarted.start(DUE_3D)
    assert (await restarted.pause_state()).paused
    assert await restarted.resume(ORGANIZER, DUE_3D + timedelta(hours=1))
    await restarted.tick(DUE_3D + timedelta(hours=2))
    await restarted.tick(DUE_1D)

    [message] = sender.sent
    assert "距截止还有 1 天" in message.text
    assert _statuses(await _group_records(sessions))["offset:3d"] == ("skipped", "paused")


async def test_pausing_drops_a_send_waiting_for_its_retry(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=SendFailed(None, "no bot connected"))
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3D)
    await runner.pause(ORGANIZER, DUE_3D + timedelta(seconds=1))

    sender.failing = None
    await runner.tick(DUE_3D + timedelta(seconds=10))

    assert sender.sent == []
    assert _statuses(await _group_records(sessions))["offset:3d"] == ("skipped", "paused")


async def test_pausing_twice_reports_no_change(runner_for: RunnerFactory) -> None:
    runner = await runner_for()
    assert await runner.pause(ORGANIZER, DUE_3D)
    assert not await runner.pause(ORGANIZER, DUE_3D)
    assert await runner.resume(ORGANIZER, DUE_3D)
    assert not await runner.resume(ORGANIZER, DUE_3D)


async def test_send_now_goes_out_while_paused_and_keeps_the_slot(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3D - timedelta(hours=2))
    await runner.pause(ORGANIZER, DUE_3D - timedelta(hours=2))

    result = await runner.send_now(DUE_3D - timedelta(hours=1), ORGANIZER)
    await runner.resume(ORGANIZER, DUE_3D - timedelta(minutes=30))
    await runner.tick(DUE_3D)

    assert result.delivered == (GROUP,)
    assert len(sender.sent) == 2
    records = await _group_records(sessions)
    assert [(r.kind, r.status, r.actor) for r in records] == [
        ("manual", "sent", ORGANIZER),
        ("offset", "sent", None),
    ]


async def test_a_failed_send_now_is_reported_and_not_retried(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=SendFailed(100, "SEND_MSG_API_ERROR"))
    runner = await runner_for(sender=sender)

    result = await runner.send_now(DUE_3D - timedelta(hours=1), ORGANIZER)
    sender.failing = None
    await runner.tick(DUE_3D - timedelta(minutes=30))

    assert result.delivered == ()
    assert [group for group, _error in result.failed] == [GROUP]
    assert sender.sent == []
    assert [r.status for r in await _group_records(sessions)] == ["undelivered"]


async def test_preview_shows_the_next_reminder_without_sending(runner_for: RunnerFactory) -> None:
    sender = FakeSender()
    runner = await runner_for(sender=sender)

    text = await runner.preview(DUE_3D - timedelta(hours=1))

    assert text.startswith("下一次提醒：6月28日 18:00（截止前 3 天）")
    assert "南湖街道 0/50" in text
    assert sender.sent == []


async def test_preview_says_when_paused_and_when_nothing_is_left(runner_for: RunnerFactory) -> None:
    runner = await runner_for()
    await runner.pause(ORGANIZER, DEADLINE)

    text = await runner.preview(DEADLINE + timedelta(days=1))

    assert text.splitlines()[0].startswith("自动提醒已暂停")
    assert text.splitlines()[-1] == "没有待发送的自动提醒。"


async def test_next_retry_time_comes_back_timezone_aware(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    sender = FakeSender(failing=SendFailed(None, "no bot connected"))
    runner = await runner_for(sender=sender)
    await runner.start(DUE_3D)

    retry_at = await ReminderStore(sessions).next_retry_at()

    assert retry_at == DUE_3D + timedelta(seconds=5)
    assert retry_at is not None
    assert retry_at.utcoffset() == timedelta(0)


# --- several processes, several accounts ------------------------------------------------------


async def test_a_process_without_an_account_in_a_group_leaves_its_reminder_to_one_with(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    contest = runner_contest(groups=frozenset({GROUP, OTHER_GROUP}))
    here, there = FakeSender(), FakeSender()
    # This process's account is in GROUP only; the other process's in both.
    mine = await runner_for(contest, here)
    mine.deliverable = lambda target: target != group_target(OTHER_GROUP)
    theirs = await runner_for(contest, there)

    wake = await mine.start(DUE_3D)

    assert [s.target for s in here.sent] == [Target.group(GROUP)]
    assert await _group_records(sessions, OTHER_GROUP) == []
    assert wake == DUE_1D  # not woken again and again for the group it leaves alone
    await theirs.start(DUE_3D + timedelta(seconds=1))
    assert [s.target for s in there.sent] == [Target.group(OTHER_GROUP)]
    [record] = await _group_records(sessions, OTHER_GROUP)
    assert record.attempts == 1


async def test_a_failed_reminder_is_retried_by_a_process_that_can_deliver_it(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    broken = FakeSender(failing=SendFailed(None, "no connection"))
    first = await runner_for(sender=broken)
    await first.start(DUE_3D)  # the account disconnected mid-send: failed, to retry
    first.deliverable = lambda target: False  # and its process has no account any more
    working = FakeSender()
    second = await runner_for(sender=working)
    second.started = True

    retry_at = DUE_3D + timedelta(seconds=5)
    assert await first.tick(retry_at) is None  # leaves it, without spinning on it
    assert working.sent == []
    await second.tick(retry_at)

    assert [s.target for s in working.sent] == [Target.group(GROUP)]
    assert _statuses(await _group_records(sessions)) == {"offset:3d": ("sent", None)}


async def test_a_pause_through_one_process_stops_the_others_reminders(
    runner_for: RunnerFactory, sessions: Sessions
) -> None:
    here, there = FakeSender(), FakeSender()
    mine = await runner_for(sender=here)
    theirs = await runner_for(sender=there)
    await theirs.start(DUE_3D - timedelta(hours=1))

    assert await mine.pause(ORGANIZER, DUE_3D - timedelta(minutes=5))
    await theirs.tick(DUE_3D)

    assert there.sent == []
    assert _statuses(await _group_records(sessions)) == {"offset:3d": ("skipped", "paused")}
