"""Organizers hear privately when the bot is muted, removed, or back after an outage."""

from __future__ import annotations

import asyncio
import time

from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.runtime import Runtime
from tests.fake import GROUP, ORGANIZER, OTHER_GROUP, SELF_ID, group_ban, kicked, private_text

SUPERUSER = 10009  # SUPERUSERS in the test runtime's deployment: an organizer too


async def _hooks_done(ctx) -> None:
    """Connect hooks run in the driver's task group; let them finish (bounded)."""
    for _ in range(200):
        await asyncio.sleep(0.005)
        if ctx.wait_list.empty():
            return


def _both(text: str) -> list[tuple[str, dict]]:
    return [private_text(ORGANIZER, text), private_text(SUPERUSER, text)]


async def test_muting_the_bot_is_reported_with_its_duration(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_ban(SELF_ID, duration=7200))
        for call in _both(f"【大赛助手】我在群 {GROUP} 被禁言 2 小时，期间无法回复群消息。"):
            ctx.should_call_api(*call, result={"message_id": 1})


async def test_lifting_the_mute_is_reported(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_ban(SELF_ID, duration=0, sub_type="lift_ban"))
        for call in _both(f"【大赛助手】我在群 {GROUP} 的禁言已解除。"):
            ctx.should_call_api(*call, result={"message_id": 1})


async def test_muting_a_member_is_not_reported(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_ban(30001))


async def test_mute_in_another_group_is_ignored(app: App, runtime: Runtime) -> None:
    from plugins.router import router

    async with app.test_matcher(router) as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, group_ban(SELF_ID, group_id=OTHER_GROUP))
        ctx.should_not_pass_rule(router)


async def test_removal_from_the_group_is_reported(app: App, runtime: Runtime) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, kicked())
        for call in _both(f"【大赛助手】我已被移出群 {GROUP}，该群的答疑与提醒已停止。"):
            ctx.should_call_api(*call, result={"message_id": 1})


async def test_a_refused_private_message_does_not_stop_the_others(
    app: App, runtime: Runtime
) -> None:
    """QQ refuses private messages to non-friends; the next organizer still hears."""
    from nonebot.adapters.onebot.v11 import ActionFailed

    first, second = _both(f"【大赛助手】我已被移出群 {GROUP}，该群的答疑与提醒已停止。")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        ctx.receive_event(bot, kicked())
        ctx.should_call_api(
            *first, exception=ActionFailed(status="failed", retcode=1200, msg="不是好友")
        )
        ctx.should_call_api(*second, result={"message_id": 3})


async def test_reconnecting_after_an_outage_is_reported(app: App, runtime: Runtime) -> None:
    from plugins.watch import _disconnected_at

    _disconnected_at[str(SELF_ID)] = time.monotonic() - 600
    async with app.test_api() as ctx:
        ctx.should_call_api(
            *private_text(
                ORGANIZER, "【大赛助手】已重新连接，中断约 10 分钟。中断期间的群消息可能未被处理。"
            ),
            result={"message_id": 1},
        )
        ctx.should_call_api(
            *private_text(
                SUPERUSER, "【大赛助手】已重新连接，中断约 10 分钟。中断期间的群消息可能未被处理。"
            ),
            result={"message_id": 2},
        )
        ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        await _hooks_done(ctx)


async def test_a_short_blip_is_not_reported(app: App, runtime: Runtime, monkeypatch) -> None:
    import plugins.watch as watch

    told: list[str] = []

    async def record(_bot: Bot, _runtime: Runtime, text: str) -> None:
        told.append(text)

    monkeypatch.setattr(watch, "tell_organizers", record)
    watch._disconnected_at[str(SELF_ID)] = time.monotonic() - 5
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id=str(SELF_ID))
        await _hooks_done(ctx)
    assert str(SELF_ID) not in watch._disconnected_at
    assert told == []
