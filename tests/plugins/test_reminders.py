"""/提醒 and the automatic reminders' wake-up, through nonebug."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial

import pytest
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, NetworkError
from nonebug import App

from bot.reminders.runner import ReminderRunner
from bot.runtime import Runtime
from tests.fake import (
    GROUP,
    MEMBER,
    ORGANIZER,
    SECRETARY,
    SELF_ID,
    TZ,
    TextStarts,
    expect_reply,
    group_message,
    private_message,
    reply_starting,
    reply_to,
    text_message,
)

USAGE_ORGANIZER = (
    "用法：\n"
    "/提醒 预览 — 查看下一次自动提醒的时间和内容\n"
    "/提醒 立即 — 现在发送一次进度提醒\n"
    "/提醒 暂停 — 暂停自动提醒\n"
    "/提醒 恢复 — 恢复自动提醒\n"
    "/提醒 我 — 私聊查看本单位进度"
)
USAGE_SECRETARY = "用法：/提醒 我 — 私聊查看本单位进度"
NOT_A_SECRETARY = "您还没有绑定单位，请联系组织者发送“/单位 绑定 单位名 @您”为您绑定。"
REMINDER_HEAD = "【2027年南湖区学习博客大赛】作品推荐进度提醒"
# Contest (tests/fake.py): 2027-06-24 to 2027-07-01 18:00 Shanghai; default reminder policy.
AFTERNOON = datetime(2027, 6, 25, 12, 0, tzinfo=TZ)
NIGHT = datetime(2027, 6, 30, 23, 0, tzinfo=TZ)  # inside the quiet hours (22:00–08:00)
THREE_DAYS_BEFORE = datetime(2027, 6, 28, 18, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _no_cooldown() -> Iterator[None]:
    """The one-a-minute guard of /提醒 立即 is kept per process; each test starts without it."""
    from plugins.reminders import _last_manual

    _last_manual.clear()
    yield
    _last_manual.clear()


def _runner(runtime: Runtime) -> ReminderRunner:
    assert runtime.reminders is not None
    return runtime.reminders


async def _wake() -> datetime | None:
    from plugins.reminders import wake

    return await wake()


_expect_reply = partial(expect_reply, user_id=ORGANIZER)


# --- usage and refusals ----------------------------------------------------------------------


async def test_organizer_gets_the_full_usage(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/提醒", USAGE_ORGANIZER)


async def test_secretary_gets_only_their_part_of_the_usage(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/提醒", USAGE_SECRETARY, user_id=SECRETARY)


async def test_member_is_told_preview_is_for_organizers(app: App, runtime: Runtime) -> None:
    # Being bound to a unit would not help: secretaries may not preview either.
    await _expect_reply(app, "/提醒 预览", "抱歉，/提醒 预览 仅限组织者使用。", user_id=MEMBER)


async def test_member_asking_for_their_units_progress_is_told_how_to_get_bound(
    app: App, runtime: Runtime
) -> None:
    await _expect_reply(app, "/提醒 我", NOT_A_SECRETARY, user_id=MEMBER)


async def test_secretary_cannot_pause_reminders(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/提醒 暂停", "抱歉，/提醒 暂停 仅限组织者使用。", user_id=SECRETARY)
    assert not (await _runner(runtime).pause_state()).paused


async def test_secretary_cannot_send_a_reminder_now(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/remind now", "抱歉，/提醒 立即 仅限组织者使用。", user_id=SECRETARY)


async def test_a_mistyped_sub_command_is_suggested_to_those_who_may_use_it(
    app: App, runtime: Runtime
) -> None:
    await _expect_reply(app, "/提醒 预揽", "没有“预揽”这个操作。您是不是要用 /提醒 预览？")
    await _expect_reply(
        app, "/提醒 预揽", "没有“预揽”这个操作。\n" + USAGE_SECRETARY, user_id=SECRETARY
    )


async def test_unknown_sub_command_is_named_short_with_usage(app: App, runtime: Runtime) -> None:
    hostile = "[CQ:at,qq=all]" * 500
    await _expect_reply(
        app, text_message(f"/提醒 {hostile}"), "没有“[CQ:at,qq=”这个操作。\n" + USAGE_ORGANIZER
    )


# --- organizers ------------------------------------------------------------------------------


async def test_preview_names_the_next_reminder_and_sends_nothing_else(
    app: App, runtime: Runtime
) -> None:
    runtime.clock = lambda: AFTERNOON
    event = group_message("/提醒 预览", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_starting(event, "下一次提醒：6月26日 09:00（每日进度）"),
            result={"message_id": 1},
        )
    assert await _runner(runtime).store.records() == []


async def test_english_preview_alias(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    event = group_message("/remind preview", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(*reply_starting(event, "下一次提醒："), result={"message_id": 1})


async def test_pause_and_resume_are_kept_and_acknowledged(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    await _expect_reply(
        app, "/提醒 暂停", "已暂停自动提醒，到期的提醒将被跳过。发送 /提醒 恢复 可恢复。"
    )
    assert (await _runner(runtime).pause_state()).paused
    await _expect_reply(app, "/remind pause", "自动提醒已处于暂停状态。发送 /提醒 恢复 可恢复。")
    await _expect_reply(app, "/提醒 恢复", "已恢复自动提醒。发送 /提醒 预览 可查看下一次提醒。")
    assert not (await _runner(runtime).pause_state()).paused
    await _expect_reply(app, "/remind resume", "自动提醒正在运行，无需恢复。")


async def test_send_now_goes_to_this_group_even_in_quiet_hours(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: NIGHT
    event = group_message("/提醒 立即", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": TextStarts(REMINDER_HEAD)},
            result={"message_id": 1},
        )
    [record] = await _runner(runtime).store.records()
    assert (record.kind, record.status, record.actor) == ("manual", "sent", ORGANIZER)


async def test_send_now_twice_within_a_minute_is_refused(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    first = group_message("/提醒 立即", user_id=ORGANIZER)
    second = group_message("/提醒 立即", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, first)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": TextStarts(REMINDER_HEAD)},
            result={"message_id": 1},
        )
        ctx.receive_event(bot, second)
        ctx.should_call_api(
            *reply_starting(second, "刚刚已发送过提醒，请"), result={"message_id": 2}
        )


async def test_send_now_from_private_chat_reports_the_groups(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    event = private_message("/提醒 立即", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": TextStarts(REMINDER_HEAD)},
            result={"message_id": 1},
        )
        ctx.should_call_api(*reply_to(event, "已发送进度提醒到 1 个群。"), result={"message_id": 2})


async def test_a_failed_send_now_is_reported(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    event = private_message("/提醒 立即", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": TextStarts(REMINDER_HEAD)},
            exception=ActionFailed(status="failed", retcode=120, wording="禁言中"),
        )
        ctx.should_call_api(
            *reply_to(event, f"群 {GROUP} 的提醒发送失败（retcode=120: 禁言中），请稍后再试。"),
            result={"message_id": 2},
        )


async def test_an_unanswered_send_now_is_not_resent_and_the_organizer_is_told(
    app: App, runtime: Runtime
) -> None:
    from plugins.router.request import latest_message

    latest_message.clear()  # no message seen in the group: only NapCat's way can be tried
    runtime.clock = lambda: AFTERNOON
    event = private_message("/提醒 立即", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": TextStarts(REMINDER_HEAD)},
            exception=NetworkError("WebSocket call api send_group_msg timeout"),
        )
        ctx.should_call_api(
            "get_group_msg_history",
            {"group_id": GROUP, "count": 50},
            exception=ActionFailed(status="failed", retcode=1404, msg="API_NOT_FOUND"),
        )
        ctx.should_call_api(
            *reply_to(
                event,
                f"群 {GROUP} 的提醒没有收到 QQ 端的回应，可能已经发出。为避免重复 @，机器人没有"
                "重发；如群里没有这条提醒，请一分钟后再发送 /提醒 立即。",
            ),
            result={"message_id": 2},
        )


# --- secretaries -----------------------------------------------------------------------------


async def test_secretary_gets_their_status_privately(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    event = group_message("/提醒 我", user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": SECRETARY, "message": TextStarts("南湖街道：已推荐作品 0 篇，任务 50 篇")},
            result={"message_id": 1},
        )
        ctx.should_call_api(
            *reply_to(event, "已私聊发送「南湖街道」的进度，请查收。"), result={"message_id": 2}
        )


async def test_a_refused_private_message_is_explained_in_the_group_with_a_mention(
    app: App, runtime: Runtime
) -> None:
    runtime.clock = lambda: AFTERNOON
    event = group_message("/remind me", user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": SECRETARY, "message": TextStarts("南湖街道")},
            exception=ActionFailed(status="failed", retcode=1200, msg="不是好友"),
        )
        ctx.should_call_api(
            "send_group_msg",
            {
                "group_id": GROUP,
                "message": [
                    {"type": "reply", "data": {"id": str(event.message_id)}},
                    {"type": "at", "data": {"qq": str(SECRETARY)}},
                    {
                        "type": "text",
                        "data": {
                            "text": " 私聊消息发送失败：QQ 通常只允许机器人给好友发私聊。"
                            "请先添加本机器人为好友，再发送 /提醒 我；"
                            "也可以在群里发送 /我的单位 查看。"
                        },
                    },
                ],
            },
            result={"message_id": 2},
        )


async def test_status_asked_in_private_chat_is_answered_there(app: App, runtime: Runtime) -> None:
    runtime.clock = lambda: AFTERNOON
    event = private_message("/提醒我", user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "get_group_member_info",
            {"group_id": GROUP, "user_id": SECRETARY},
            result={"role": "member"},
        )
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": SECRETARY, "message": TextStarts("南湖街道：已推荐作品 0 篇")},
            result={"message_id": 1},
        )


async def test_organizer_without_a_unit_is_told_so(app: App, runtime: Runtime) -> None:
    await _expect_reply(app, "/提醒 我", "您没有绑定单位。组织者可用 /提醒 预览 查看下一次提醒。")


# --- the automatic path ----------------------------------------------------------------------


async def test_wake_sends_the_due_reminder_through_the_connected_bot(
    app: App, runtime: Runtime
) -> None:
    runtime.clock = lambda: THREE_DAYS_BEFORE
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": TextStarts(REMINDER_HEAD)},
            result={"message_id": 1},
        )
        upcoming = await _wake()
    assert upcoming == datetime(2027, 6, 29, 9, 0, tzinfo=TZ)  # the next daily digest


async def test_wake_without_a_bot_keeps_the_reminder_for_a_retry(runtime: Runtime) -> None:
    runtime.clock = lambda: THREE_DAYS_BEFORE

    upcoming = await _wake()

    [pending] = await _runner(runtime).store.pending()
    assert pending.error is not None
    assert "OneBot" in pending.error
    assert upcoming == pending.next_try_at
