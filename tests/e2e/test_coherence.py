"""Two bot processes on one database, each with its own QQ account in the group (issue 15):
what an organizer changes through one is known to the other within two seconds — a secretary
bound through bot A submits through bot B; an FAQ entry added through A is answered by B — on
SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import aiohttp

from bot.demo.onebot import FakeOneBot

from .conftest import GROUP_ID, ORGANIZER_ID, TOKEN, AppProcess, AppStarter, ContestWriter
from .test_dashboard import base, csrf_of, login_link, sign_in

VISIBLE_WITHIN = 2.0
NEW_SECRETARY = 30_001


async def _answer(onebot: FakeOneBot, user: int, text: str, card: str = "") -> str:
    event = await onebot.post_group_message(GROUP_ID, user, text, card=card)
    quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
    reply = await onebot.wait_sent(
        group_id=GROUP_ID, predicate=lambda m: bool(m.segments) and m.segments[0] == quoted
    )
    return reply.text + "\n".join(reply.node_texts)


async def _until(check, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `check()` (awaited) is true; AssertionError after `timeout`."""
    began = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not visible within {timeout} s")


async def test_a_change_through_one_bot_is_known_to_the_other(
    start_app: AppStarter,
    contest_config: ContestWriter,
    shared: str,
    record_property: Callable[[str, object], None],
) -> None:
    local = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    window = {"start": local - dt.timedelta(days=1), "deadline": local + dt.timedelta(days=7)}
    config = contest_config(
        {
            "contest": window,
            "submission": {"verify": False},
            "faq": {"passive": False},
            # The probes are replies: pacing (3, then one per 1.5 s) would be what is measured.
            "messages": {"burst": 1000, "interval": 0.001},
        }
    )
    env = {"DATABASE_URL": shared}
    first = await start_app(config=config, env=env)
    second = await start_app(config=config, env=env)
    async with FakeOneBot(2_000_000_001, TOKEN) as bot_a, FakeOneBot(2_000_000_002, TOKEN) as bot_b:
        await bot_a.connect(first.ws_url)
        await bot_b.connect(second.ws_url)

        # Before: B does not know the new secretary either.
        refused = await _answer(bot_b, NEW_SECRETARY, "/提交 张三 https://weibo.com/1/Qq1zz")
        assert "绑定" in refused

        bound = await _answer(bot_a, ORGANIZER_ID, f"/单位 绑定 南湖街道 {NEW_SECRETARY}")
        assert "绑定" in bound
        assert "南湖街道" in bound
        n = iter(range(2, 1000))

        async def accepted_by_b() -> bool:
            reply = await _answer(
                bot_b, NEW_SECRETARY, f"/提交 张三 https://weibo.com/1/Qq{next(n)}zz"
            )
            return "已登记" in reply

        seconds = await _until(accepted_by_b, 5.0)
        record_property("binding_visible_seconds", round(seconds, 3))
        assert seconds <= VISIBLE_WITHIN, seconds

        # An FAQ entry added through A is answered by B.
        added = await _answer(
            bot_a,
            ORGANIZER_ID,
            "/faq 添加 reading-week-venue 读书周启动仪式在哪里举行 | 在区行政中心三楼报告厅。",
        )
        assert "reading-week-venue" in added or "已添加" in added, added

        async def answered_by_b() -> bool:
            reply = await _answer(bot_b, ORGANIZER_ID, "/faq 测试 读书周启动仪式在哪里举行")
            return "reading-week-venue" in reply

        seconds = await _until(answered_by_b, 5.0)
        record_property("faq_visible_seconds", round(seconds, 3))
        assert seconds <= VISIBLE_WITHIN, seconds


async def test_a_dashboard_sign_in_holds_on_every_process_and_signing_out_ends_it_everywhere(
    start_app: AppStarter, contest_config: ContestWriter, shared: str
) -> None:
    env = {"DATABASE_URL": shared, "DASHBOARD_SECRET": "s" * 48}
    config = contest_config()
    first = await start_app(config=config, env=env)
    second = await start_app(config=config, env=env)
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        FakeOneBot(2_000_000_001, TOKEN) as bot_a,
        aiohttp.ClientSession(cookie_jar=jar) as client,
    ):
        await bot_a.connect(first.ws_url)
        async with await sign_in(client, await login_link(bot_a, ORGANIZER_ID)) as signed:
            assert signed.status == 303
        cookies = {c.key: c.value for c in jar}

        async def page(app: AppProcess) -> int:
            async with (
                aiohttp.ClientSession() as other,
                other.get(
                    f"{base(app)}/dashboard/units", cookies=cookies, allow_redirects=False
                ) as response,
            ):
                return response.status

        assert await page(second) == 200  # signed in on A, recognised by B
        csrf = await csrf_of(client, first)
        async with client.post(
            f"{base(first)}/dashboard/logout", data={"csrf": csrf}, allow_redirects=False
        ):
            pass
        assert await page(second) != 200  # signed out on A: gone on B too
