"""The real app (`python -m bot`) against a fake OneBot v11 implementation over a WebSocket."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.onebot import FakeOneBot, FakeOneBotServer, HandshakeRejected, at, text
from tests.databases import postgres_database

from .conftest import (
    GROUP_ID,
    ORGANIZER_ID,
    OTHER_GROUP_ID,
    REPO_ROOT,
    SELF_ID,
    TOKEN,
    AppStarter,
    ContestWriter,
    app_env,
    free_port,
)

MEMBER_ID = 30_001
SECRETARY_ID = 10_005  # 南湖街道's secretary in the shipped config/contest.toml


async def test_help_differs_for_member_secretary_and_organizer(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)

    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
    member = await onebot.wait_sent(group_id=GROUP_ID)
    await onebot.post_group_message(GROUP_ID, SECRETARY_ID, "/帮助")
    secretary = await onebot.wait_sent(group_id=GROUP_ID)
    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/帮助")
    organizer = await onebot.wait_sent(group_id=GROUP_ID)

    assert member.text.startswith("可用指令：")
    assert "/单位" not in member.text
    assert secretary.text.startswith("您是「南湖街道」的联络员")
    assert "/我的单位" in secretary.text
    assert organizer.text.startswith("您是组织者")
    assert "/单位" in organizer.text
    assert member.segments[0]["type"] == "reply"  # answers quote the question


async def test_group_admin_is_treated_as_organizer(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助", role="admin")
    assert (await onebot.wait_sent(group_id=GROUP_ID)).text.startswith("您是组织者")


async def test_non_served_group_gets_no_reply(start_app: AppStarter, onebot: FakeOneBot) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(OTHER_GROUP_ID, ORGANIZER_ID, "/帮助")
    await onebot.expect_silence(1.0)


async def test_wrong_token_is_rejected_with_403(start_app: AppStarter) -> None:
    app = await start_app()
    intruder = FakeOneBot(SELF_ID, "not-the-token")
    with pytest.raises(HandshakeRejected) as rejected:
        await intruder.connect(app.ws_url)
    assert rejected.value.status == 403
    await intruder.close()


async def test_cq_code_text_never_becomes_a_mention(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(
        GROUP_ID, ORGANIZER_ID, text("/单位 添加 [CQ:at,qq=all]@全体成员 镇、街道")
    )
    sent = await onebot.wait_sent(group_id=GROUP_ID)
    assert "不能含" in sent.text
    assert sent.mentions == []
    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/单位 列表")
    listing = await onebot.wait_sent(group_id=GROUP_ID)
    assert "CQ" not in listing.text


async def test_empty_command_and_huge_messages(start_app: AppStarter, onebot: FakeOneBot) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)

    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/")
    assert "请在 / 后面写上指令" in (await onebot.wait_sent(group_id=GROUP_ID)).text

    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "字" * 10_000)
    await onebot.expect_silence(1.0)

    await onebot.post_group_message(
        GROUP_ID, ORGANIZER_ID, "/单位 添加 " + "长" * 10_000 + " 镇、街道"
    )
    refused = await onebot.wait_sent(group_id=GROUP_ID)
    assert "不能超过" in refused.text
    assert len(refused.text) < 200


async def test_failed_send_is_logged_and_the_bot_keeps_working(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    onebot.fail_next("send_group_msg", retcode=100, msg="SEND_MSG_API_ERROR")
    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
    failed = await onebot.wait_sent(group_id=GROUP_ID)
    assert failed.failed
    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
    assert not (await onebot.wait_sent(group_id=GROUP_ID)).failed
    await asyncio.sleep(0.2)
    assert "retcode=100" in app.log() or "retcode 100" in app.log() or "100" in app.log_tail()


async def test_units_added_and_bound_in_chat_survive_a_restart(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/单位 添加 七星社区 镇、街道 30")
    assert "已添加单位「七星社区」" in (await onebot.wait_sent(group_id=GROUP_ID)).text
    await onebot.post_group_message(
        GROUP_ID, ORGANIZER_ID, [text("/单位 绑定 七星社区 "), at(MEMBER_ID)]
    )
    assert "七星社区" in (await onebot.wait_sent(group_id=GROUP_ID)).text

    await onebot.close()
    await app.restart()
    fresh = FakeOneBot(SELF_ID, TOKEN)
    try:
        await fresh.connect(app.ws_url)
        await fresh.post_group_message(GROUP_ID, MEMBER_ID, "/我的单位")
        mine = await fresh.wait_sent(group_id=GROUP_ID)
        assert "七星社区" in mine.text
        assert "配额30" in mine.text
    finally:
        await fresh.close()


@pytest.mark.postgres
async def test_the_app_runs_on_postgresql_with_no_code_change(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    async with postgres_database() as url:
        app = await start_app(env={"DATABASE_URL": url})
        await onebot.connect(app.ws_url)
        await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/单位 添加 新丰社区 town")
        assert "已添加单位「新丰社区」" in (await onebot.wait_sent(group_id=GROUP_ID)).text
        await onebot.close()
        await app.restart()
        fresh = FakeOneBot(SELF_ID, TOKEN)
        try:
            await fresh.connect(app.ws_url)
            await fresh.post_group_message(GROUP_ID, ORGANIZER_ID, "/单位 列表")
            assert "新丰社区" in (await fresh.wait_sent(group_id=GROUP_ID)).text
        finally:
            await fresh.close()
        await app.stop()


async def test_new_member_is_welcomed(start_app: AppStarter, onebot: FakeOneBot) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    await onebot.post(onebot.member_joined(GROUP_ID, MEMBER_ID))
    welcome = await onebot.wait_sent(group_id=GROUP_ID)
    assert welcome.mentions == [str(MEMBER_ID)]
    assert "/帮助" in welcome.text


async def test_organizers_are_told_when_the_bot_is_muted(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app()
    await onebot.connect(app.ws_url)
    await onebot.post(onebot.group_ban(GROUP_ID, duration=3600))
    told = await onebot.wait_sent(user_id=ORGANIZER_ID)
    assert "禁言" in told.text
    assert str(GROUP_ID) in told.text


async def test_forward_websocket_connects_to_onebot(start_app: AppStarter) -> None:
    async with FakeOneBotServer(SELF_ID, TOKEN) as server:
        await start_app(env={"ONEBOT_WS_URLS": f'["{server.url}"]'})
        await server.wait_connected(timeout=15)
        await server.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
        assert (await server.wait_sent(group_id=GROUP_ID)).text.startswith("可用指令：")


def _run_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_public_address_without_token_refuses_to_start(tmp_path: Path) -> None:
    env = app_env(port=free_port(), data_dir=tmp_path, token=None, host="0.0.0.0")
    result = _run_bot(env)
    assert result.returncode != 0
    assert "ONEBOT_ACCESS_TOKEN" in result.stdout
    assert not (tmp_path / "bot.db").exists()


def test_invalid_config_refuses_to_start_and_lists_every_problem(
    tmp_path: Path, contest_config: ContestWriter
) -> None:
    config = contest_config({"contest": {"timezone": "Mars/Base", "groups": []}})
    env = app_env(port=free_port(), data_dir=tmp_path, config=config)
    result = _run_bot(env)
    assert result.returncode == 1
    assert "contest.timezone" in result.stdout
    assert "contest.groups" in result.stdout
    checked = _run_bot(env, "check")
    assert checked.returncode == 1
    assert checked.stdout == result.stdout


def test_check_prints_ok_for_the_shipped_config(tmp_path: Path) -> None:
    env = app_env(port=free_port(), data_dir=tmp_path)
    env.pop("BOT_CONFIG", None)
    result = _run_bot(env, "check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK")


async def test_access_token_never_reaches_the_log(
    start_app: AppStarter, onebot: FakeOneBot
) -> None:
    app = await start_app(log_level="DEBUG")
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
    await onebot.wait_sent(group_id=GROUP_ID)
    log = app.log()
    assert "Loaded Config" in log  # DEBUG really was on
    assert TOKEN not in log
