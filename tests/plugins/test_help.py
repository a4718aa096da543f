from __future__ import annotations

from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.runtime import Runtime
from tests.fake import (
    GROUP,
    JUDGE,
    MEMBER,
    ORGANIZER,
    OTHER_GROUP,
    SECRETARY,
    SELF_ID,
    HelpText,
    expect_reply,
    group_increase,
    group_message,
    private_message,
    reply_starting,
    text_message,
)

MEMBER_SHOWN = ("/帮助", "/进度")
MEMBER_HIDDEN = ("/提交", "/我的单位", "/单位", "/导出")
SECRETARY_SHOWN = ("/帮助", "/提交", "/撤回", "/我的单位", "/我的提交")
ORGANIZER_ONLY = ("/单位", "/导出", "/核验")


def _help(event, head: str, shown: tuple[str, ...], hidden: tuple[str, ...]) -> tuple[str, dict]:
    if event.message_type == "group":
        return "send_group_msg", {
            "group_id": event.group_id,
            "message": HelpText(event.message_id, head, shown, hidden),
        }
    return "send_private_msg", {
        "user_id": event.user_id,
        "message": HelpText(None, head, shown, hidden),
    }


async def test_member_gets_member_help(app: App, runtime: Runtime) -> None:
    event = group_message("/帮助")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *_help(event, "可用指令：", MEMBER_SHOWN, MEMBER_HIDDEN), result={"message_id": 1}
        )


async def test_english_alias_and_full_width_slash_work(app: App, runtime: Runtime) -> None:
    for text in ("/help", "／帮助", "  /HELP  "):
        event = group_message(text)
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
            ctx.receive_event(bot, event)
            ctx.should_call_api(
                *_help(event, "可用指令：", MEMBER_SHOWN, MEMBER_HIDDEN), result={"message_id": 1}
            )


async def test_organizer_sees_unit_commands(app: App, runtime: Runtime) -> None:
    event = group_message("/帮助", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *_help(event, "您是组织者，可用指令：", (*SECRETARY_SHOWN, *ORGANIZER_ONLY), ()),
            result={"message_id": 1},
        )


async def test_group_admin_counts_as_organizer(app: App, runtime: Runtime) -> None:
    event = group_message("/帮助", user_id=MEMBER, role="admin")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(*reply_starting(event, "您是组织者"), result={})


async def test_secretary_is_told_their_unit(app: App, runtime: Runtime) -> None:
    event = group_message("/帮助", user_id=SECRETARY)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *_help(event, "您是「南湖街道」的联络员，可用指令：", SECRETARY_SHOWN, ORGANIZER_ONLY),
            result={"message_id": 1},
        )


async def test_judge_help_names_the_role(app: App, runtime: Runtime) -> None:
    event = group_message("/帮助", user_id=JUDGE)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *_help(event, "您是评委，可用指令：", ("/帮助",), ("/提交", *ORGANIZER_ONLY)),
            result={"message_id": 1},
        )


async def test_other_groups_get_no_reply(app: App, runtime: Runtime) -> None:
    from plugins.router import router

    async with app.test_matcher(router) as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_message("/帮助", group_id=OTHER_GROUP))
        ctx.should_not_pass_rule(router)


async def test_member_in_private_chat_gets_no_reply(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, private_message("/帮助", user_id=MEMBER))
        ctx.should_call_api(
            "get_group_member_info",
            {"group_id": GROUP, "user_id": MEMBER},
            {"group_id": GROUP, "user_id": MEMBER, "role": "member"},
        )


async def test_organizer_in_private_chat_gets_help(app: App, runtime: Runtime) -> None:
    event = private_message("/帮助", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(*reply_starting(event, "您是组织者"), result={})


async def test_new_member_is_welcomed_once(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_increase(30001))
        ctx.should_call_api(
            "send_group_msg",
            {
                "group_id": GROUP,
                "message": [
                    {"type": "at", "data": {"qq": "30001"}},
                    {
                        "type": "text",
                        "data": {
                            "text": " 欢迎加入！有问题可以直接在群里提问，"
                            "或发送 /帮助 查看可用指令。" + runtime.contest.bot.rules_hint
                        },
                    },
                ],
            },
            {"message_id": 2},
        )


async def test_bot_joining_is_not_welcomed(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_increase(SELF_ID))


async def test_help_for_one_command_shows_its_usage_and_example(app: App, runtime: Runtime) -> None:
    await expect_reply(
        app,
        "/帮助 提交",
        "/提交（提交作品链接，可带作者、可一次多个）\n例如：/提交 张三 https://weibo.com/…\n"
        "（您目前的身份不能使用这个指令。）",
    )


async def test_help_for_a_group_lists_the_subcommands_one_may_use(
    app: App, runtime: Runtime
) -> None:
    event = group_message("/help /单位", user_id=ORGANIZER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            *reply_starting(
                event, "/单位（查看单位、绑定联络员、添加单位、改配额）\n用法：\n/单位 列表"
            ),
            result={},
        )


async def test_help_for_an_unknown_command_says_so(app: App, runtime: Runtime) -> None:
    await expect_reply(app, "/帮助 签到", "没有“签到”这个指令。发送 /帮助 可查看全部指令。")
    await expect_reply(
        app,
        text_message("/帮助 [CQ:at,qq=all]"),
        "没有“[CQ:at,qq=”这个指令。发送 /帮助 可查看全部指令。",
    )
