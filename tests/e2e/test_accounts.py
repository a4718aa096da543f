"""Two QQ accounts, each held by its own bot process on one database (issue 15, part 2): to the
group they are one bot. Every message reaches both accounts, as QQ delivers it; exactly one
answers — the senior one — and the other takes over when it disconnects or is muted. Automatic
reminders go out once, each through an account that is in the group.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import sqlalchemy as sa

from bot.demo.onebot import FakeOneBot, SentMessage
from bot.storage.db import make_engine

from .conftest import GROUP_ID, ORGANIZER_ID, OTHER_GROUP_ID, TOKEN, AppStarter, ContestWriter
from .test_dashboard import base, login_link, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCOUNT_A = 2_000_000_001
ACCOUNT_B = 2_000_000_002
MEMBER = 30_123
# The waiting account acts on an unclaimed event after 3 s (bot.accounts.registry.FALLBACK):
# a second reply would have come by then.
SECOND_REPLY_WINDOW = 4.5


async def _until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > timeout:
            raise AssertionError("the registry never showed it")
        await asyncio.sleep(0.1)


async def _registry(url: str, sql: str) -> Any:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(sa.text(sql))).scalar()
    finally:
        await engine.dispose()


async def _settled(url: str, sql: str) -> None:
    """Until `sql` is true in the database, then long enough for every process to re-read it."""

    async def shown() -> bool:
        return bool(await _registry(url, sql))

    await _until(shown)
    await asyncio.sleep(1.2)  # the other process polls every 0.5 s (SQLite)


def _member_of(bot: FakeOneBot, *groups: int) -> None:
    for group in groups:
        bot.groups[group] = f"测试群{group}"


async def _everyone_sees(bots: Sequence[FakeOneBot], make: Callable[[FakeOneBot], dict]) -> None:
    """One event, as QQ delivers it to each account in the group (its own self_id and message
    id; the same time, sender and text)."""
    event = make(bots[0])
    for bot in bots:
        copy = {**event, "self_id": bot.self_id}
        if "message_id" in copy:
            copy["message_id"] = copy["real_id"] = copy["message_seq"] = bot.next_message_id()
        await bot.post(copy)


def _replies(bot: FakeOneBot) -> list[SentMessage]:
    return [m for m in bot.sent(group_id=GROUP_ID) if not m.failed]


async def _who_answers(bots: Sequence[FakeOneBot], make: Callable[[FakeOneBot], dict]) -> list[int]:
    """The accounts that replied in the group to one event everybody saw."""
    before = {bot.self_id: len(_replies(bot)) for bot in bots}
    await _everyone_sees(bots, make)
    await asyncio.sleep(SECOND_REPLY_WINDOW)
    return sorted(
        bot.self_id for bot in bots for _ in range(len(_replies(bot)) - before[bot.self_id])
    )


def _help(bot: FakeOneBot) -> dict:
    return bot.group_message(GROUP_ID, MEMBER, "/帮助")


async def test_two_accounts_in_one_group_answer_once_and_stand_in_for_each_other(
    start_app: AppStarter, contest_config: ContestWriter, shared: str
) -> None:
    config = contest_config({"faq": {"passive": False}, "bot": {"welcome": True}})
    env = {"DATABASE_URL": shared}
    first = await start_app(config=config, env=env)
    second = await start_app(config=config, env=env)
    async with FakeOneBot(ACCOUNT_A, TOKEN) as bot_a, FakeOneBot(ACCOUNT_B, TOKEN) as bot_b:
        _member_of(bot_a, GROUP_ID)
        _member_of(bot_b, GROUP_ID)
        await bot_a.connect(first.ws_url)
        await _settled(shared, "SELECT count(*) = 1 FROM bot_group")
        await bot_b.connect(second.ws_url)
        await _settled(shared, "SELECT count(*) = 2 FROM bot_group")
        both = [bot_a, bot_b]

        # A command, a newcomer's welcome: once, from the senior account.
        assert await _who_answers(both, _help) == [ACCOUNT_A]
        joined = await _who_answers(both, lambda bot: bot.member_joined(GROUP_ID, 30_555))
        assert joined == [ACCOUNT_A]

        # A disconnects: B answers at once, not after the fallback wait.
        await bot_a.close()
        await _settled(shared, f"SELECT NOT connected FROM bot_account WHERE self_id={ACCOUNT_A}")
        began = time.monotonic()
        await bot_b.post(_help(bot_b))
        await bot_b.wait_sent(group_id=GROUP_ID, timeout=5)
        assert time.monotonic() - began < 2.5

        # A is back and answers again; B stays quiet.
        await bot_a.connect(first.ws_url)
        await _settled(shared, f"SELECT connected FROM bot_account WHERE self_id={ACCOUNT_A}")
        assert await _who_answers(both, _help) == [ACCOUNT_A]

        # QQ mutes A in the group (every member gets the notice): B takes over.
        await _everyone_sees(both, lambda bot: bot.group_ban(GROUP_ID, user_id=ACCOUNT_A))
        await _settled(shared, "SELECT count(*) = 1 FROM bot_group WHERE muted_until IS NOT NULL")
        assert await _who_answers(both, _help) == [ACCOUNT_B]
        # An @ of the muted account is still answered, by the account that can speak.
        mention = await _who_answers(
            both,
            lambda bot: bot.group_message(
                GROUP_ID,
                MEMBER,
                [
                    {"type": "at", "data": {"qq": str(ACCOUNT_A)}},
                    {"type": "text", "data": {"text": " /帮助"}},
                ],
            ),
        )
        assert mention == [ACCOUNT_B]

        # The organizer's dashboard (on B's process) shows both accounts and who answers.
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            async with await sign_in(client, await login_link(bot_b, ORGANIZER_ID)):
                pass
            async with client.get(f"{base(second)}/dashboard/accounts") as page:
                assert page.status == 200
                html = await page.text()
        rows = re.findall(r"<tr>(.*?)</tr>", html.partition("<tbody>")[2], re.S)
        assert len(rows) == 2
        assert str(ACCOUNT_A) in rows[0]
        assert "禁言中" in rows[0]
        assert "负责回复" not in rows[0]
        assert str(ACCOUNT_B) in rows[1]
        assert "在线" in rows[1]
        assert "本进程" in rows[1]
        assert f"{GROUP_ID}（负责回复）" in rows[1]


async def test_each_groups_reminder_goes_once_through_an_account_in_that_group(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    shared = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    now = dt.datetime.now(SHANGHAI).replace(microsecond=0, tzinfo=None)
    config = contest_config(
        {
            "contest": {
                "start": now - dt.timedelta(days=1),
                "deadline": now + dt.timedelta(seconds=45),
                "groups": [GROUP_ID, OTHER_GROUP_ID],
            },
            "reminders": {
                "offsets": ["25s"],
                "daily_at": "",
                "quiet_hours": [],
                "private": False,
            },
        },
        from_shipped=False,
    )
    env = {"DATABASE_URL": shared, "REMINDERS_AUTORUN": "true"}
    first = await start_app(config=config, env=env)
    second = await start_app(config=config, env=env)
    async with FakeOneBot(ACCOUNT_A, TOKEN) as bot_a, FakeOneBot(ACCOUNT_B, TOKEN) as bot_b:
        _member_of(bot_a, GROUP_ID)  # A is not in the other group
        _member_of(bot_b, GROUP_ID, OTHER_GROUP_ID)
        await bot_a.connect(first.ws_url)
        await bot_b.connect(second.ws_url)

        def reminder(message: SentMessage) -> bool:
            return "进度提醒" in message.text

        await bot_b.wait_sent(group_id=OTHER_GROUP_ID, predicate=reminder, timeout=40)
        await asyncio.sleep(3)

        in_group = [m for bot in (bot_a, bot_b) for m in bot.sent(GROUP_ID) if reminder(m)]
        assert len(in_group) == 1
        assert [m for m in bot_a.sent(OTHER_GROUP_ID) if reminder(m)] == []
        assert len([m for m in bot_b.sent(OTHER_GROUP_ID) if reminder(m)]) == 1
        # Taken on by B's process from the start: not first tried (and failed) by A's.
        attempts = await _registry(
            shared, f"SELECT attempts FROM reminder_send WHERE target = 'group:{OTHER_GROUP_ID}'"
        )
        assert attempts == 1
