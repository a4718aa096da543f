"""Automatic reminders in the real app, on the real clock: a deadline seconds ahead.

Each test writes a contest whose start is a day ago and whose deadline is ~40 s ahead, with
offsets in seconds, no daily digest and no quiet hours, and watches what the bot sends to the
fake OneBot. These are the few tests that wait for real time (each well under a minute).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.demo.onebot import FakeOneBot, SentMessage

from .conftest import GROUP_ID, ORGANIZER_ID, AppStarter, ContestWriter

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTEST_NAME = "2027年“重温中共党史·感受五彩南湖”学习博客大赛"
REMINDER_HEAD = f"【{CONTEST_NAME}】作品推荐进度提醒"
LATE_NOTE = "（本提醒因机器人离线延后发送）"
# Explicit, so that the harness may turn the automatic reminders off for every other test.
AUTORUN = {"REMINDERS_AUTORUN": "true"}
NANHU_SECRETARY = "10001"
BUREAU_SECRETARY = "10002"


def _contest(write: ContestWriter, deadline_in: float, offsets: list[str]) -> tuple[Path, float]:
    """A contest.toml with the deadline `deadline_in` seconds ahead; (path, deadline monotonic)."""
    now = dt.datetime.now(SHANGHAI).replace(microsecond=0, tzinfo=None)
    deadline = now + dt.timedelta(seconds=deadline_in)
    path = write(
        {
            "contest": {"start": now - dt.timedelta(days=1), "deadline": deadline},
            "reminders": {
                "offsets": offsets,
                "daily_at": "",
                "quiet_hours": [],
                "private": False,
            },
        },
        from_shipped=False,
    )
    return path, time.monotonic() + deadline_in


def _is_reminder(message: SentMessage) -> bool:
    return not message.failed and message.text.startswith(REMINDER_HEAD)


def _reminders(onebot: FakeOneBot) -> list[SentMessage]:
    return [m for m in onebot.sent(group_id=GROUP_ID) if _is_reminder(m)]


async def test_reminder_names_behind_units_and_a_killed_bot_does_not_repeat_it(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    config, _deadline = _contest(contest_config, 40, ["30s", "15s"])
    app = await start_app(config=config, env=AUTORUN)
    await onebot.connect(app.ws_url)

    first = await onebot.wait_sent(group_id=GROUP_ID, predicate=_is_reminder, timeout=20)
    app.kill()  # SIGKILL right after it arrived: no shutdown hooks run
    await onebot.close()

    assert "南湖街道 0/50" in first.text
    assert "区教文体局 0/50" in first.text
    assert sorted(first.mentions) == [NANHU_SECRETARY, BUREAU_SECRETARY]
    assert LATE_NOTE not in first.text

    await app.start()
    await onebot.connect(app.ws_url)
    second = await onebot.wait_sent(group_id=GROUP_ID, predicate=_is_reminder, timeout=25)
    await onebot.expect_silence(3.0, group_id=GROUP_ID)

    assert LATE_NOTE not in second.text
    assert len(_reminders(onebot)) == 2  # "30 s before" once, "15 s before" once


async def test_a_bot_started_after_missed_reminders_sends_exactly_one_late(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    # 300 s and 200 s before the deadline are past (the latter by 160 s, beyond the 2-minute
    # tolerance, so it is late); 10 s before is still ahead.
    config, deadline = _contest(contest_config, 40, ["300s", "200s", "10s"])
    app = await start_app(config=config, env=AUTORUN)
    await onebot.connect(app.ws_url)

    late = await onebot.wait_sent(group_id=GROUP_ID, predicate=_is_reminder, timeout=15)
    quiet_until = deadline - 10 - 2  # just before the "10 s before" slot
    await onebot.expect_silence(max(1.0, quiet_until - time.monotonic()), group_id=GROUP_ID)

    assert LATE_NOTE in late.text
    assert len(_reminders(onebot)) == 1


async def test_a_failed_reminder_is_delivered_after_the_peer_recovers(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    config, _deadline = _contest(contest_config, 45, ["30s"])
    app = await start_app(config=config, env=AUTORUN)
    await onebot.connect(app.ws_url)
    onebot.fail_all("send_group_msg")

    await onebot.wait_call("send_group_msg", timeout=25)  # the first attempt, refused
    await onebot.wait_call("send_group_msg", timeout=10)  # the retry 5 s later, refused
    onebot.recover("send_group_msg")
    delivered = await onebot.wait_sent(group_id=GROUP_ID, predicate=_is_reminder, timeout=20)
    await onebot.expect_silence(2.0, group_id=GROUP_ID)

    assert sorted(delivered.mentions) == [NANHU_SECRETARY, BUREAU_SECRETARY]
    assert len(_reminders(onebot)) == 1
    attempts = [m for m in onebot.sent(group_id=GROUP_ID) if m.text.startswith(REMINDER_HEAD)]
    assert [m.failed for m in attempts] == [True, True, False]


# --- a send that is shown but never answered ----------------------------------------------------

# The bot's calls time out after 2 s instead of 30 s, so the lookup comes quickly.
UNANSWERED_ENV = {**AUTORUN, "API_TIMEOUT": "2"}
MAYBE_NOTICE = "提醒可能未送达"


async def _unanswered_reminder(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> SentMessage:
    config, _deadline = _contest(contest_config, 40, ["30s"])
    app = await start_app(config=config, env=UNANSWERED_ENV)
    await onebot.connect(app.ws_url)
    onebot.never_answer("send_group_msg")
    return await onebot.wait_sent(group_id=GROUP_ID, predicate=_is_reminder, timeout=25)


async def test_an_unanswered_reminder_found_in_napcat_history_is_not_sent_again(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    await _unanswered_reminder(start_app, contest_config, onebot)

    lookup = await onebot.wait_call("get_group_msg_history", timeout=10)
    await onebot.expect_silence(8.0, group_id=GROUP_ID)

    assert "message_id" not in lookup  # NapCat's way first: the newest messages
    assert len(_reminders(onebot)) == 1
    assert not any(MAYBE_NOTICE in t for t in onebot.sent_texts(user_id=ORGANIZER_ID))


async def test_an_unanswered_reminder_found_through_lagrange_history_is_not_sent_again(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    onebot.history_style = "lagrange"
    await _unanswered_reminder(start_app, contest_config, onebot)
    # A member answers in the group while the bot still waits: Lagrange reads back from there.
    chatter = await onebot.post_group_message(GROUP_ID, 30_001, "收到")

    lagrange = [
        await onebot.wait_call("get_group_msg_history", timeout=10),
        await onebot.wait_call("get_group_msg_history", timeout=10),
    ]
    await onebot.expect_silence(8.0, group_id=GROUP_ID)

    assert lagrange[1]["message_id"] == chatter["message_id"]
    assert len(_reminders(onebot)) == 1
    assert not any(MAYBE_NOTICE in t for t in onebot.sent_texts(user_id=ORGANIZER_ID))


async def test_an_unanswered_reminder_history_cannot_confirm_is_not_resent_and_organizers_told(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    onebot.history_style = "error"
    await _unanswered_reminder(start_app, contest_config, onebot)

    notice = await onebot.wait_sent(
        user_id=ORGANIZER_ID, predicate=lambda m: MAYBE_NOTICE in m.text, timeout=15
    )
    await onebot.expect_silence(8.0, group_id=GROUP_ID)

    assert len(_reminders(onebot)) == 1  # shown once; a duplicate @ is worse than none
    assert "/提醒 立即" in notice.text
    assert notice.mentions == []
