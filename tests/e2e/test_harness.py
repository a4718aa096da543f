"""The e2e harness proved against the bare echo bot (bench/echo_bot.py), not the app."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import (
    Adapter,
    GroupBanNoticeEvent,
    GroupDecreaseNoticeEvent,
    GroupIncreaseNoticeEvent,
    GroupMessageEvent,
    HeartbeatMetaEvent,
    LifecycleMetaEvent,
    Message,
    MessageSegment,
    PrivateMessageEvent,
)

from bot.demo.onebot import (
    FakeOneBot,
    FakeOneBotServer,
    HandshakeRejected,
    at,
    image,
    json_card,
    reply,
    text,
)

from .conftest import (
    ECHO_BOT,
    GROUP_ID,
    SELF_ID,
    TOKEN,
    AppProcess,
    AppStarter,
    ContestWriter,
    app_env,
)

ECHO = (sys.executable, str(ECHO_BOT))
MEMBER = 30_001


def as_message(segments: list[dict[str, Any]]) -> Message:
    return Message(MessageSegment(s["type"], s["data"]) for s in segments)


async def start_echo(start_app: AppStarter, **settings: object) -> AppProcess:
    return await start_app(ECHO, **settings)


async def test_echo_bot_answers_a_group_message(start_app: AppStarter, onebot: FakeOneBot) -> None:
    app = await start_echo(start_app)
    await onebot.connect(app.ws_url)

    await onebot.post_group_message(GROUP_ID, MEMBER, "/echo 你好")

    sent = await onebot.wait_sent(group_id=GROUP_ID)
    assert sent.text == "你好"
    assert onebot.sent_texts(group_id=GROUP_ID) == ["你好"]


async def test_echo_bot_answers_a_private_message(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_echo(start_app)
    await onebot.connect(app.ws_url)

    await onebot.post_private_message(MEMBER, "/echo 私聊")

    sent = await onebot.wait_sent(user_id=MEMBER)
    assert (sent.group_id, sent.text) == (None, "私聊")


async def test_cq_code_text_travels_as_text(start_app: AppStarter, onebot: FakeOneBot) -> None:
    """Text that looks like a CQ code is escaped in raw_message and echoed back as plain text."""
    app = await start_echo(start_app)
    await onebot.connect(app.ws_url)

    event = await onebot.post_group_message(GROUP_ID, MEMBER, "/echo [CQ:at,qq=all] & 1,2")

    assert event["raw_message"] == "/echo &#91;CQ:at,qq=all&#93; &amp; 1,2"
    sent = await onebot.wait_sent(group_id=GROUP_ID)
    assert sent.text == "[CQ:at,qq=all] & 1,2"
    assert sent.mentions == []


async def test_wrong_token_is_refused_with_403(start_app: AppStarter) -> None:
    app = await start_echo(start_app)

    with pytest.raises(HandshakeRejected) as rejected:
        await FakeOneBot(SELF_ID, "not-the-token").connect(app.ws_url)

    assert rejected.value.status == 403


async def test_missing_token_is_refused_with_403(start_app: AppStarter) -> None:
    app = await start_echo(start_app)

    with pytest.raises(HandshakeRejected) as rejected:
        await FakeOneBot(SELF_ID, None).connect(app.ws_url)

    assert rejected.value.status == 403


async def test_injected_failure_reaches_the_bot_and_the_next_send_succeeds(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_echo(start_app)
    await onebot.connect(app.ws_url)
    onebot.fail_next("send_msg")

    await onebot.post_group_message(GROUP_ID, MEMBER, "/echo 一")
    first = await onebot.wait_sent(group_id=GROUP_ID)
    await onebot.post_group_message(GROUP_ID, MEMBER, "/echo 二")
    second = await onebot.wait_sent(group_id=GROUP_ID)

    assert (first.text, first.failed) == ("一", True)
    assert (second.text, second.failed) == ("二", False)
    assert "ActionFailed" in app.log()


async def test_forward_websocket_mode_connects_and_answers(start_app: AppStarter) -> None:
    async with FakeOneBotServer(SELF_ID, TOKEN) as server:
        await start_echo(start_app, env={"ONEBOT_WS_URLS": f'["{server.url}"]'})
        await server.wait_connected()

        await server.post_group_message(GROUP_ID, MEMBER, "/echo 正向")

        sent = await server.wait_sent(group_id=GROUP_ID)
        assert sent.text == "正向"


async def test_forward_websocket_with_wrong_token_is_refused(start_app: AppStarter) -> None:
    async with FakeOneBotServer(SELF_ID, "server-token") as server:
        await start_echo(start_app, env={"ONEBOT_WS_URLS": f'["{server.url}"]'})

        assert await server.wait_rejected() == 403
        assert not server.connected


async def test_expect_silence_fails_when_the_bot_speaks(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_echo(start_app)
    await onebot.connect(app.ws_url)

    await onebot.post_group_message(GROUP_ID, MEMBER, "收到")
    await onebot.expect_silence(0.3)
    await onebot.post_group_message(GROUP_ID, MEMBER, "/echo 说话")
    with pytest.raises(AssertionError, match="说话"):
        await onebot.expect_silence(0.5)


async def test_restart_lets_the_implementation_reconnect(start_app: AppStarter) -> None:
    app = await start_echo(start_app)
    first = FakeOneBot(SELF_ID, TOKEN)
    await first.connect(app.ws_url)

    await app.restart()
    await first.wait_closed()
    async with FakeOneBot(SELF_ID, TOKEN) as second:
        await second.connect(app.ws_url)
        await second.post_group_message(GROUP_ID, MEMBER, "/echo 重连")
        assert (await second.wait_sent(group_id=GROUP_ID)).text == "重连"
    await first.close()


async def test_kill_ends_the_process_without_shutdown(start_app: AppStarter) -> None:
    app = await start_echo(start_app)

    app.kill()

    assert app.returncode == -9


# --- the fake's own behaviour (no subprocess) ---------------------------------------------------


def test_events_parse_as_the_onebot_adapter_expects() -> None:
    ob = FakeOneBot(SELF_ID)
    message = [reply(7), at(10_001), text(" 链接[1], 见图"), image(), json_card({"app": "x"})]
    group = Adapter.json_to_event(ob.group_message(GROUP_ID, MEMBER, message, role="admin"))

    assert isinstance(group, GroupMessageEvent)
    assert (group.sender.role, group.original_message) == ("admin", as_message(message))
    private = Adapter.json_to_event(ob.private_message(MEMBER, "hi"))
    assert isinstance(private, PrivateMessageEvent)
    assert isinstance(Adapter.json_to_event(ob.lifecycle()), LifecycleMetaEvent)
    assert isinstance(Adapter.json_to_event(ob.heartbeat()), HeartbeatMetaEvent)
    joined = Adapter.json_to_event(ob.member_joined(GROUP_ID, MEMBER))
    assert isinstance(joined, GroupIncreaseNoticeEvent)


def test_raw_message_round_trips_through_the_adapter() -> None:
    ob = FakeOneBot(SELF_ID)
    segments = [at(10_001), text(" a&b [x], y"), image()]

    event = ob.group_message(GROUP_ID, MEMBER, segments)

    assert Message(event["raw_message"]) == as_message(segments)


def test_bot_muted_and_kicked_notices_name_the_bot() -> None:
    ob = FakeOneBot(SELF_ID)

    ban = Adapter.json_to_event(ob.group_ban(GROUP_ID, duration=600))
    kicked = Adapter.json_to_event(ob.group_decrease(GROUP_ID))

    assert isinstance(ban, GroupBanNoticeEvent)
    assert (ban.user_id, ban.duration, ban.sub_type) == (SELF_ID, 600, "ban")
    assert isinstance(kicked, GroupDecreaseNoticeEvent)
    assert (kicked.user_id, kicked.sub_type) == (SELF_ID, "kick_me")


def test_failure_answer_has_the_go_cqhttp_shape() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.fail_next("send_group_msg", wording="消息发送失败")
    request = {"action": "send_group_msg", "params": {"group_id": 1, "message": "x"}, "echo": "7"}

    assert ob.answer(request) == {
        "status": "failed",
        "retcode": 100,
        "data": None,
        "msg": "SEND_MSG_API_ERROR",
        "wording": "消息发送失败",
        "echo": "7",
    }
    assert ob.answer(request)["status"] == "ok"


def test_persistent_failure_lasts_until_recover() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.fail_all("send_private_msg", retcode=1200, msg="", wording="对方不是好友")
    request = {"action": "send_private_msg", "params": {"user_id": 1, "message": "x"}, "echo": "1"}

    answers = [ob.answer(request)["retcode"] for _ in range(2)]
    ob.recover()

    assert answers == [1200, 1200]
    assert ob.answer(request)["retcode"] == 0


def test_unknown_action_is_api_not_found() -> None:
    ob = FakeOneBot(SELF_ID)

    answer = ob.answer({"action": "no_such_action", "params": {}, "echo": "3"})

    assert (answer["status"], answer["retcode"], answer["msg"]) == ("failed", 1404, "API_NOT_FOUND")


def test_member_role_comes_from_the_table() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.set_role(GROUP_ID, MEMBER, "admin")
    request = {
        "action": "get_group_member_info",
        "params": {"group_id": GROUP_ID, "user_id": MEMBER},
        "echo": "4",
    }

    assert ob.answer(request)["data"]["role"] == "admin"


def test_sent_texts_read_cq_strings_and_arrays() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.answer(
        {
            "action": "send_group_msg",
            "params": {"group_id": GROUP_ID, "message": "[CQ:at,qq=5] 价格&#91;1&#93;"},
            "echo": "1",
        }
    )
    ob.answer(
        {
            "action": "send_msg",
            "params": {"message_type": "group", "group_id": GROUP_ID, "message": [text("好")]},
            "echo": "2",
        }
    )

    assert ob.sent_texts(group_id=GROUP_ID) == [" 价格[1]", "好"]
    assert ob.sent(group_id=GROUP_ID)[0].mentions == ["5"]


async def test_wait_call_hands_out_each_call_once() -> None:
    ob = FakeOneBot(SELF_ID)
    for echo in ("1", "2"):
        ob.answer({"action": "get_login_info", "params": {"n": echo}, "echo": echo})

    first = await ob.wait_call("get_login_info")
    second = await ob.wait_call("get_login_info")

    assert (first["n"], second["n"]) == ("1", "2")
    with pytest.raises(AssertionError, match="no matching"):
        await ob.wait_call("get_login_info", timeout=0.1)


def test_contest_config_applies_overrides(contest_config: ContestWriter) -> None:
    path = contest_config({"messages": {"burst": 1_000_000, "interval": 0.001}})

    written = tomllib.loads(path.read_text(encoding="utf-8"))

    assert written["contest"]["groups"] == [GROUP_ID]
    assert (written["messages"]["burst"], written["messages"]["interval"]) == (1_000_000, 0.001)


def test_app_env_ignores_the_developers_bot_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://prod/contest")
    monkeypatch.setenv("ONEBOT_WS_URLS", '["ws://prod:3001"]')

    env = app_env(port=1, data_dir=tmp_path)

    assert env["DATABASE_URL"] == f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    assert env["ONEBOT_WS_URLS"] == "[]"


def _history_call(ob: FakeOneBot, **params: Any) -> dict[str, Any]:
    answer = ob.answer(
        {"action": "get_group_msg_history", "params": {"group_id": GROUP_ID, **params}, "echo": 9}
    )
    assert answer is not None
    return answer


def test_a_never_answered_send_is_shown_and_kept_in_history() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.never_answer("send_group_msg")
    request = {"action": "send_group_msg", "params": {"group_id": GROUP_ID, "message": "提醒"}}

    first = ob.answer({**request, "echo": "1"})
    second = ob.answer({**request, "echo": "2"})

    assert first is None  # shown, never answered
    assert second is not None
    assert second["status"] == "ok"
    assert ob.sent_texts(group_id=GROUP_ID) == ["提醒", "提醒"]
    history = _history_call(ob, count=20)["data"]["messages"]
    assert [m["sender"]["user_id"] for m in history] == [SELF_ID, SELF_ID]
    assert history[0]["message"] == [text("提醒")]


def test_history_napcat_style_is_the_newest_and_lagrange_style_reads_back_from_an_id() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.events.append(ob.group_message(GROUP_ID, MEMBER, "第一条"))
    ob.events.append(ob.group_message(GROUP_ID, MEMBER, "第二条"))
    ob.events.append(ob.group_message(GROUP_ID + 1, MEMBER, "别的群"))
    first_id = ob.events[0]["message_id"]

    napcat = _history_call(ob, count=1)["data"]["messages"]
    ob.history_style = "lagrange"
    lagrange = _history_call(ob, message_id=first_id, count=5)["data"]["messages"]
    without_id = _history_call(ob, count=5)

    assert [m["raw_message"] for m in napcat] == ["第二条"]
    assert [m["raw_message"] for m in lagrange] == ["第一条"]
    assert (without_id["status"], without_id["retcode"]) == ("failed", 100)


def test_history_can_fail_or_be_missing() -> None:
    ob = FakeOneBot(SELF_ID)
    ob.history_style = "error"
    failing = _history_call(ob, count=5)
    ob.history_style = "missing"
    missing = _history_call(ob, count=5)

    assert (failing["status"], failing["retcode"]) == ("failed", 100)
    assert (missing["status"], missing["retcode"]) == ("failed", 1404)
