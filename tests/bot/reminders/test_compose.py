from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.messages.parts import Mention, Part, Text
from bot.messages.render import render
from bot.reminders.compose import (
    LATE_NOTE,
    closing_message,
    digest_message,
    moment_text,
    offset_text,
    organizer_summary,
    parts_text,
    preview_text,
    reminder_messages,
    time_left_text,
    unit_status,
)
from bot.reminders.plan import Slot, plan
from bot.settings.contest import Contest, MessagePolicy, ReminderPolicy
from bot.submissions.book import Progress
from tests.fake import PLAIN, make_contest

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2027, 6, 24, tzinfo=SH)
DEADLINE = datetime(2027, 7, 1, 18, tzinfo=SH)
NOW = DEADLINE - timedelta(days=3, hours=5)  # 06-28 13:00


def contest_with(max_length: int = 1500, max_mentions: int = 20) -> Contest:
    return make_contest(
        **PLAIN | {"messages": MessagePolicy(max_length=max_length, max_mentions=max_mentions)},
        timezone=SH,
        start=START,
        deadline=DEADLINE,
        groups=frozenset({123}),
        organizers=frozenset({1}),
    )


CONTEST = contest_with()


def unit(unit_id: int, name: str, accepted: int, quota: int | None = 50, **kw: int) -> Progress:
    return Progress(
        unit_id=unit_id, unit=name, category="town", quota=quota, accepted=accepted, **kw
    )


MIXED = [
    unit(1, "南湖街道", 12),
    unit(2, "解放街道", 50),
    unit(3, "区财政局", 1, quota=5),
    unit(4, "建设街道", 0),
    unit(5, "区委组织部", 0, quota=5),
    unit(6, "新兴街道", 60),
]
SECRETARIES = {1: (1001,), 2: (1002,), 3: (1003,), 4: (1004,), 5: (1005,), 6: (1006,)}


def texts(message: list[Part]) -> str:
    return parts_text(message)


def mentions(message: list[Part]) -> list[int]:
    return [p.user_id for p in message if isinstance(p, Mention)]


def all_mentions(messages: list[list[Part]]) -> list[int]:
    return [qq for m in messages for qq in mentions(m)]


def text_length(message: list[Part]) -> int:
    return sum(len(p.text) for p in message if isinstance(p, Text))


def remind(
    progress=MIXED, secretaries=SECRETARIES, *, late=False, max_mentions=20, contest=CONTEST
):
    return reminder_messages(
        contest, progress, secretaries, NOW, late=late, max_mentions=max_mentions
    )


# ------------------------------------------------------------------------ time left


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(days=3, hours=5), "3 天 5 小时"),
        (timedelta(days=3, hours=5, minutes=59), "3 天 5 小时"),
        (timedelta(days=3), "3 天"),
        (timedelta(days=3, minutes=59), "3 天"),
        (timedelta(days=1, hours=23), "1 天 23 小时"),
        (timedelta(hours=23, minutes=59, seconds=59), "23 小时 59 分钟"),
        (timedelta(hours=2, minutes=10), "2 小时 10 分钟"),
        (timedelta(hours=2), "2 小时"),
        (timedelta(hours=2, seconds=59), "2 小时"),
        (timedelta(minutes=10), "10 分钟"),
        (timedelta(minutes=1), "1 分钟"),
        (timedelta(seconds=59), "不到 1 分钟"),
        (timedelta(seconds=1), "不到 1 分钟"),
        (timedelta(0), "已截止"),
        (timedelta(hours=-3), "已截止"),
    ],
)
def test_time_left_text(left: timedelta, expected: str) -> None:
    assert time_left_text(DEADLINE - left, DEADLINE) == expected


def test_time_left_compares_moments_not_wall_clocks() -> None:
    now_utc = DEADLINE.astimezone(UTC) - timedelta(hours=2)
    assert time_left_text(now_utc, DEADLINE) == "2 小时"


@pytest.mark.parametrize(
    ("label", "expected"),
    [("3d", "3 天"), ("12h", "12 小时"), ("90m", "90 分钟"), ("45s", "45 秒")],
)
def test_offset_text(label: str, expected: str) -> None:
    assert offset_text(label) == expected


def test_moment_text_is_in_the_contest_timezone() -> None:
    assert moment_text(CONTEST, datetime(2027, 6, 28, 10, 0, tzinfo=UTC)) == "6月28日 18:00"


# ------------------------------------------------------------------------ the group reminder


def test_reminder_header_names_the_contest_and_the_time_left() -> None:
    first = texts(remind()[0])
    assert first.startswith("【测试大赛】")
    assert "距截止还有 3 天 5 小时" in first
    assert "7月1日 18:00" in first


def test_reminder_lists_only_units_behind_worst_first() -> None:
    """0/50 before 0/5 (same completion, more missing), then 1/5 (20%), then 12/50 (24%)."""
    text = texts(remind()[0])
    order = [text.index(name) for name in ("建设街道", "区委组织部", "区财政局", "南湖街道")]
    assert order == sorted(order)
    assert "解放街道" not in text
    assert "新兴街道" not in text


def test_each_behind_unit_shows_its_count_against_its_quota() -> None:
    text = texts(remind()[0])
    assert "南湖街道 12/50" in text
    assert "区财政局 1/5" in text
    assert "建设街道 0/50" in text


def test_each_behind_unit_is_followed_by_its_secretaries() -> None:
    lines = texts(remind()[0]).splitlines()
    assert "1. 建设街道 0/50 @1004" in lines
    assert "2. 区委组织部 0/5 @1005" in lines
    assert "3. 区财政局 1/5 @1003" in lines
    assert "4. 南湖街道 12/50 @1001" in lines


def test_units_on_track_are_counted_in_one_line_and_not_mentioned() -> None:
    messages = remind()
    assert "另有 2 个单位已完成推荐任务，谢谢支持。" in texts(messages[-1])
    assert 1002 not in all_mentions(messages)
    assert 1006 not in all_mentions(messages)


def test_a_single_unit_on_track_is_counted() -> None:
    progress = [unit(1, "南湖街道", 12), unit(2, "解放街道", 50)]
    assert "另有 1 个单位已完成推荐任务" in texts(remind(progress)[-1])


def test_no_on_track_line_when_every_unit_is_behind() -> None:
    behind = [p for p in MIXED if p.behind]
    assert "已完成推荐任务，谢谢支持" not in texts(remind(behind)[-1])


def test_every_unit_on_track_gives_one_short_encouraging_line() -> None:
    on_track = [unit(1, "南湖街道", 50), unit(2, "解放街道", 70)]
    messages = remind(on_track, late=True)
    assert len(messages) == 1
    assert all(isinstance(p, Text) for p in messages[0])
    text = texts(messages[0])
    assert "均已完成推荐任务" in text
    assert "\n" not in text
    assert "南湖街道" not in text


def test_no_units_gives_no_message() -> None:
    assert remind([]) == []


def test_late_reminder_says_so() -> None:
    assert LATE_NOTE in texts(remind(late=True)[0])
    assert LATE_NOTE not in texts(remind(late=False)[0])


def test_unit_without_secretaries_is_still_listed() -> None:
    text = texts(remind(secretaries={})[0])
    assert "南湖街道 12/50" in text
    assert all_mentions(remind(secretaries={})) == []


def test_a_secretary_listed_twice_is_mentioned_once() -> None:
    messages = remind(secretaries={1: (1001, 1001), 4: (1001, 1004)})
    assert Counter(all_mentions(messages)) == Counter({1001: 1, 1004: 1})


def test_forty_five_behind_units_split_by_the_mention_cap() -> None:
    progress = [unit(i, f"单位{i:02d}", i % 40) for i in range(1, 46)]
    secretaries = {i: (10_000 + i,) for i in range(1, 46)}
    messages = remind(progress, secretaries, max_mentions=20)
    assert len(messages) == 3
    assert [len(mentions(m)) for m in messages] == [20, 20, 5]
    assert sorted(all_mentions(messages)) == sorted(10_000 + i for i in range(1, 46))
    assert "距截止还有" in texts(messages[0])
    assert "距截止还有" not in texts(messages[1]) + texts(messages[2])


def test_split_keeps_each_unit_with_its_mentions_and_the_numbering_goes_on() -> None:
    progress = [unit(i, f"单位{i:02d}", 0) for i in range(1, 46)]
    secretaries = {i: (10_000 + i,) for i in range(1, 46)}
    for message in remind(progress, secretaries, max_mentions=20):
        text = texts(message)
        for qq in mentions(message):
            number = qq - 10_000
            assert f"{number}. 单位{number:02d} 0/50 @{qq}" in text


def test_unit_with_more_secretaries_than_the_cap_is_split_and_each_mentioned_once() -> None:
    progress = [unit(1, "南湖街道", 3)]
    secretaries = {1: (11, 12, 13, 14, 15)}
    messages = remind(progress, secretaries, max_mentions=2)
    assert all(len(mentions(m)) <= 2 for m in messages)
    assert sorted(all_mentions(messages)) == [11, 12, 13, 14, 15]
    assert all("南湖街道" in texts(m) for m in messages)


def test_long_list_obeys_the_length_cap() -> None:
    contest = contest_with(max_length=200)
    progress = [unit(i, f"很长很长的单位名称第{i:03d}号", 1) for i in range(1, 101)]
    messages = remind(progress, {}, contest=contest, max_mentions=50)
    assert len(messages) > 1
    assert all(text_length(m) <= 200 for m in messages)
    joined = "\n".join(texts(m) for m in messages)
    assert all(f"第{i:03d}号 1/50" in joined for i in range(1, 101))


def test_no_message_ends_with_an_empty_line() -> None:
    progress = [unit(i, f"单位{i:02d}", 0) for i in range(1, 46)]
    secretaries = {i: (10_000 + i,) for i in range(1, 46)}
    for message in remind(progress, secretaries, max_mentions=20):
        last = message[-1]
        assert not (isinstance(last, Text) and last.text.endswith("\n"))


def test_messages_survive_rendering_without_further_splits() -> None:
    """bot.outgoing would split again past its caps; the reminder already fits them."""
    contest = contest_with(max_length=300, max_mentions=7)
    progress = [unit(i, f"单位{i:02d}", 0) for i in range(1, 31)]
    secretaries = {i: (10_000 + i, 20_000 + i) for i in range(1, 31)}
    messages = remind(progress, secretaries, contest=contest, max_mentions=7)
    for message in messages:
        assert len(render(message, contest.messages)) == 1


@pytest.mark.parametrize("cap", [1, 3, 20, 50])
def test_no_message_exceeds_the_mention_cap(cap: int) -> None:
    progress = [unit(i, f"单位{i:02d}", 0) for i in range(1, 31)]
    secretaries = {i: (10_000 + i, 20_000 + i) for i in range(1, 31)}
    messages = remind(progress, secretaries, max_mentions=cap)
    assert all(len(mentions(m)) <= cap for m in messages)
    assert len(all_mentions(messages)) == 60


# ------------------------------------------------------------------------ digest and closing


def test_digest_reports_totals_and_time_left_without_mentions() -> None:
    text = digest_message(CONTEST, MIXED, NOW)
    assert "6月28日" in text
    assert "共推荐作品 123 篇" in text  # 12 + 50 + 1 + 0 + 0 + 60
    assert "任务总数 210 篇" in text  # 50 * 4 + 5 * 2
    assert "完成 58%" in text
    assert "已完成任务的单位 2 个" in text
    assert "尚未完成的单位 4 个" in text
    assert "距截止还有 3 天 5 小时" in text
    assert "@" not in text


def test_digest_uses_the_local_date() -> None:
    text = digest_message(CONTEST, MIXED, datetime(2027, 6, 28, 17, tzinfo=UTC))
    assert "6月29日" in text


def test_late_digest_says_so() -> None:
    assert LATE_NOTE in digest_message(CONTEST, MIXED, NOW, late=True)
    assert LATE_NOTE not in digest_message(CONTEST, MIXED, NOW)


def test_digest_after_the_deadline_says_it_has_closed() -> None:
    text = digest_message(CONTEST, MIXED, DEADLINE + timedelta(minutes=1))
    assert "已于 7月1日 18:00 截止" in text
    assert "距截止还有" not in text


def test_closing_message_gives_final_counts_and_thanks() -> None:
    text = closing_message(CONTEST, MIXED)
    assert "7月1日 18:00 截止" in text
    assert "共推荐作品 123 篇" in text
    assert "6 个单位中，2 个完成推荐任务，4 个未完成" in text
    assert "感谢" in text


def test_organizer_summary_lists_the_ten_worst_and_counts_the_rest() -> None:
    progress = [unit(i, f"单位{i:02d}", i) for i in range(1, 13)] + [unit(99, "完成单位", 50)]
    text = organizer_summary(CONTEST, progress)
    assert "完成推荐任务的单位 1 个，未完成的单位 12 个" in text
    lines = text.splitlines()
    listed = [line for line in lines if line[:1].isdigit()]
    assert len(listed) == 10
    assert listed[0] == "1. 单位01 1/50，还差 49 篇"
    assert listed[-1] == "10. 单位10 10/50，还差 40 篇"
    assert "另有 2 个未完成的单位" in text
    assert "完成单位" not in "\n".join(listed)


def test_organizer_summary_counts_late_and_flagged_entries() -> None:
    progress = [unit(1, "南湖街道", 12, late=2, flagged=3), unit(2, "解放街道", 50, late=1)]
    text = organizer_summary(CONTEST, progress)
    assert "逾期 3 篇" in text
    assert "待核实 3 篇" in text


def test_organizer_summary_without_units_behind_lists_none() -> None:
    text = organizer_summary(CONTEST, [unit(1, "南湖街道", 50)])
    assert "未完成的单位 0 个" in text
    assert "完成率从低到高" not in text


# ------------------------------------------------------------------------ a unit's own status


def test_unit_status_of_a_unit_behind() -> None:
    text = unit_status(CONTEST, unit(1, "南湖街道", 12), NOW)
    assert text.startswith("南湖街道：已推荐作品 12 篇")
    assert "任务 50 篇，还差 38 篇" in text
    assert "距截止还有 3 天 5 小时" in text
    assert "请抓紧" in text


def test_unit_status_of_a_unit_on_track() -> None:
    text = unit_status(CONTEST, unit(1, "南湖街道", 52), NOW)
    assert "已完成任务（50 篇）" in text
    assert "还差" not in text
    assert "请抓紧" not in text


def test_unit_status_mentions_late_and_flagged_entries() -> None:
    text = unit_status(CONTEST, unit(1, "南湖街道", 12, late=1, flagged=2), NOW)
    assert "逾期 1 篇" in text
    assert "待核实 2 篇" in text


def test_unit_status_after_the_deadline() -> None:
    text = unit_status(CONTEST, unit(1, "南湖街道", 12), DEADLINE + timedelta(hours=1))
    assert "已于 7月1日 18:00 截止" in text
    assert "请抓紧" not in text


# ------------------------------------------------------------------------ preview


def slot_of(kind: str, slots: list[Slot]) -> Slot:
    return next(s for s in slots if s.kind == kind)


def test_preview_of_an_offset_reminder_shows_when_and_what() -> None:
    slots = plan(CONTEST, ReminderPolicy(daily_at=None))
    three_days = next(s for s in slots if s.key.startswith("offset:3d"))
    text = preview_text(three_days, CONTEST, MIXED, NOW, secretaries=SECRETARIES)
    assert text.startswith("下一次提醒：6月28日 18:00（截止前 3 天）")
    assert "距截止还有 3 天（7月1日 18:00 截止）" in text  # as it will read at 18:00
    assert "南湖街道 12/50 @1001" in text


def test_preview_says_when_quiet_hours_moved_the_slot() -> None:
    contest = make_contest(
        **PLAIN,
        timezone=SH,
        start=START,
        deadline=datetime(2027, 7, 1, 10, tzinfo=SH),
        groups=frozenset({1}),
        organizers=frozenset({1}),
    )
    policy = ReminderPolicy(offsets=(timedelta(hours=3),), daily_at=None)
    slot = slot_of("offset", plan(contest, policy))
    text = preview_text(slot, contest, MIXED, NOW)
    assert text.startswith("下一次提醒：7月1日 08:00（截止前 3 小时）")
    assert "原定 7月1日 07:00，因免打扰时段顺延" in text


def test_preview_of_a_digest_shows_the_digest() -> None:
    slots = plan(CONTEST, ReminderPolicy(offsets=(), daily_at=time(9)))
    slot = next(s for s in slots if s.key == "daily:2027-06-29")
    text = preview_text(slot, CONTEST, MIXED, NOW)
    assert text.startswith("下一次提醒：6月29日 09:00（每日进度）")
    assert "每日进度（6月29日）" in text
    assert "原定" not in text


def test_preview_of_the_closing_shows_the_closing_message() -> None:
    slot = slot_of("closing", plan(CONTEST, ReminderPolicy()))
    text = preview_text(slot, CONTEST, MIXED, NOW)
    assert text.startswith("下一次提醒：7月1日 18:00（截止通知）")
    assert "感谢各单位的积极参与" in text


def test_preview_of_a_long_reminder_says_how_many_messages() -> None:
    progress = [unit(i, f"单位{i:02d}", 0) for i in range(1, 46)]
    secretaries = {i: (10_000 + i,) for i in range(1, 46)}
    slot = slot_of("offset", plan(CONTEST, ReminderPolicy(daily_at=None)))
    text = preview_text(slot, CONTEST, progress, NOW, secretaries=secretaries)
    assert "共 3 条消息" in text
    assert "@10021" not in text  # the second message is not shown
