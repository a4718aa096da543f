"""The single matcher: what reaches a command, what stays silent, and how refusals read."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment
from nonebug import App

from bot.runtime import Runtime
from tests.fake import (
    JUDGE,
    MEMBER,
    SELF_ID,
    NoMentions,
    expect_reply,
    group_message,
    reply_starting,
    reply_to,
)


async def _silent(app: App, event) -> None:
    from plugins.router import router

    async with app.test_matcher(router) as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_not_pass_rule(router)


async def test_chatter_is_not_for_the_bot(app: App, runtime: Runtime) -> None:
    await _silent(app, group_message("收到，谢谢老师"))


async def test_unknown_command_far_from_ours_stays_silent(app: App, runtime: Runtime) -> None:
    """Other bots in the group have their own / commands; we do not answer those."""
    await _silent(app, group_message("/签到"))


async def test_ten_thousand_character_chatter_is_ignored(app: App, runtime: Runtime) -> None:
    await _silent(app, group_message("啊" * 10_000))


async def test_own_messages_are_ignored(app: App, runtime: Runtime) -> None:
    await _silent(app, group_message("/帮助", user_id=SELF_ID))


async def test_listed_bots_are_ignored(app: App, runtime: Runtime, monkeypatch) -> None:
    from dataclasses import replace

    contest = runtime.contest
    monkeypatch.setattr(
        runtime,
        "contest",
        replace(contest, bot=replace(contest.bot, ignore_users=frozenset({MEMBER}))),
    )
    await _silent(app, group_message("/帮助", user_id=MEMBER))


async def test_empty_command_gets_a_hint(app: App, runtime: Runtime) -> None:
    event = group_message("／")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(*reply_to(event, "请在 / 后面写上指令，例如 /帮助。"), result={})


async def test_mistyped_command_gets_a_suggestion(app: App, runtime: Runtime) -> None:
    event = group_message("/帮组")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(event, "没有这个指令。您是不是要用 /帮助？发送 /帮助 可查看全部指令。"),
            result={},
        )


async def test_a_command_typed_with_the_wrong_character_of_the_same_sound_is_suggested(
    app: App, runtime: Runtime
) -> None:
    """提叫 sounds like 提交 (a pinyin keyboard's slip); 提问 looks as close but sounds apart."""
    event = group_message("/提叫 https://blog.sina.com.cn/s/blog_1.html")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(event, "没有这个指令。您是不是要用 /提交？发送 /帮助 可查看全部指令。"),
            result={},
        )


async def test_an_unknown_command_addressed_to_the_bot_is_answered(
    app: App, runtime: Runtime
) -> None:
    event = group_message("/签到", to_me=True)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_to(event, "没有这个指令。发送 /帮助 可查看全部指令。"), result={}
        )


async def test_command_after_a_mention_of_the_bot_still_works(app: App, runtime: Runtime) -> None:
    event = group_message(MessageSegment.at(SELF_ID) + " /帮助")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(*reply_starting(event, "可用指令："), result={})


async def test_cq_code_text_in_arguments_stays_text(app: App, runtime: Runtime) -> None:
    """`/帮助 [CQ:at,qq=all]` typed as text is answered normally; no @全体成员 goes out."""
    event = group_message(Message([MessageSegment.text("/帮助 [CQ:at,qq=all] @全体成员")]))
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg", {"group_id": event.group_id, "message": NoMentions()}, {}
        )


async def test_organizer_only_command_is_refused_politely(app: App, runtime: Runtime) -> None:
    event = group_message("/单位 列表")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(*reply_to(event, "抱歉，/单位 仅限组织者使用。"), result={})


NOT_BOUND = "您还没有绑定单位，请联系组织者发送“/单位 绑定 单位名 @您”为您绑定。"


async def test_a_judge_is_told_a_secretary_command_is_for_secretaries_and_organizers(
    app: App, runtime: Runtime
) -> None:
    await expect_reply(app, "/撤回 2", "抱歉，/撤回 仅限联络员和组织者使用。", user_id=JUDGE)
    await expect_reply(
        app,
        "/提交 https://blog.sina.com.cn/s/blog_1.html",
        "抱歉，/提交 仅限联络员和组织者使用。",
        user_id=JUDGE,
    )


async def test_a_judge_is_told_an_organizer_subcommand_is_for_organizers(
    app: App, runtime: Runtime
) -> None:
    await expect_reply(app, "/提醒 立即", "抱歉，/提醒 立即 仅限组织者使用。", user_id=JUDGE)


async def test_a_member_is_told_an_organizer_subcommand_is_for_organizers(
    app: App, runtime: Runtime
) -> None:
    await expect_reply(app, "/提醒 立即", "抱歉，/提醒 立即 仅限组织者使用。")


async def test_a_member_using_a_secretary_command_is_told_how_to_get_bound(
    app: App, runtime: Runtime
) -> None:
    await expect_reply(app, "/撤回 2", NOT_BOUND)


async def test_failed_send_does_not_break_the_next_command(app: App, runtime: Runtime) -> None:
    from nonebot.adapters.onebot.v11 import ActionFailed

    first, second = group_message("/帮助"), group_message("/帮助")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, first)
        ctx.should_call_api(
            *reply_starting(first, "可用指令："),
            exception=ActionFailed(status="failed", retcode=100, msg="SEND_MSG_API_ERROR"),
        )
    assert runtime.outbox.failed_total == 1
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, second)
        ctx.should_call_api(*reply_starting(second, "可用指令："), result={})
