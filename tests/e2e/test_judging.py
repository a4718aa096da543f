"""Judging in the running app (issue 13, part 5): refused before the deadline; opened after it,
entries assigned without conflicts; a judge scores on the phone in Chromium, one entry per
screen; progress, a judge dropping out, reminders; wrong input refused, never a 5xx."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path

import aiohttp
import pytest

from bot.demo.onebot import FakeOneBot

from .conftest import GROUP_ID, ORGANIZER_ID, AppStarter, ContestWriter
from .test_dashboard import SHANGHAI, base, csrf_of, login_link, sign_in

CHROMIUM = Path("/usr/bin/chromium")
NANHU, JIAOWEN = 10_001, 10_002
JUDGES = [
    {"qq": 20_001, "name": "王老师", "units": ["南湖街道"]},  # never judges 南湖街道
    {"qq": 20_002, "name": "李老师"},
    {"qq": 20_003, "name": "赵老师"},
]
JUDGING = {
    "judges_per_entry": 2,
    "normalization": "none",
    "criteria": [
        {"id": "quality", "name": "质量", "weight": 70, "source": "judges"},
        {"id": "idea", "name": "创意", "weight": 30, "source": "judges"},
    ],
}


async def _say(onebot: FakeOneBot, user: int, text: str) -> str:
    event = await onebot.post_group_message(GROUP_ID, user, text)
    quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
    reply = await onebot.wait_sent(
        group_id=GROUP_ID, predicate=lambda m: bool(m.segments) and m.segments[0] == quoted
    )
    return reply.text + "\n".join(reply.node_texts)


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="Playwright 或 /usr/bin/chromium 不可用",
)
async def test_judging_from_opening_to_scores_on_a_phone(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    from .test_dashboard_browser import CHROMIUM_ARGS
    from .test_dashboard_browser import sign_in as browser_sign_in

    local = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    shared = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"}

    def config(deadline: dt.datetime) -> Path:
        return contest_config(
            {
                "contest": {"start": local - dt.timedelta(days=7), "deadline": deadline},
                "submission": {"verify": False},
                "messages": {"burst": 1000, "interval": 0.001},
                "judging": JUDGING,
                "judges": JUDGES,
            },
            from_shipped=False,
        )

    # During the reading week: entries come in; judging cannot open yet.
    open_week = await start_app(config=config(local + dt.timedelta(days=1)), env=shared)
    async with FakeOneBot(2_000_000_001, "e2e-secret-token") as onebot:
        await onebot.connect(open_week.ws_url)
        for user, n in ((NANHU, 1), (NANHU, 2), (NANHU, 3), (JIAOWEN, 4), (JIAOWEN, 5)):
            assert "已登记" in await _say(
                onebot, user, f"/提交 作者{n} https://weibo.com/1/Qq{n}zz"
            )
        assert "截止" in await _say(onebot, ORGANIZER_ID, "/评审 开始")
    await open_week.stop()

    # After the deadline.
    app = await start_app(config=config(local - dt.timedelta(hours=1)), env=shared)
    onebot = FakeOneBot(2_000_000_001, "e2e-secret-token")
    await onebot.connect(app.ws_url)
    try:
        assert "还没有开始" in await _say(onebot, ORGANIZER_ID, "/评审 进度")
        opened = await _say(onebot, ORGANIZER_ID, "/评审 开始")
        assert "5 篇作品已分给 3 位评委，每篇 2 位" in opened, opened
        again = await _say(onebot, ORGANIZER_ID, "/评审 开始")
        assert "新分配 0 篇" in again  # nothing doubled

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as wang:
            async with await sign_in(wang, await login_link(onebot, 20_001)) as signed:
                assert signed.status == 303
            async with wang.get(f"{base(app)}/dashboard/judge") as page:
                html = await page.text()
            mine = {int(r) for r in re.findall(r"judge\?e=(\d+)", html)}
            assert mine
            assert mine <= {4, 5}  # 王老师 belongs to 南湖街道: none of its entries
            csrf = await csrf_of(wang, app)
            for receipt, form, status, words in (
                (1, {"quality": "8", "idea": "7"}, 404, "没有分给您"),
                (4, {"quality": "0", "idea": "7"}, 400, "1–10"),
                (4, {"quality": "11", "idea": "7"}, 400, "1–10"),
                (4, {"quality": "８", "idea": "7"}, 400, "1–10"),
                (4, {"quality": str(2**63), "idea": "7"}, 400, "1–10"),
                (4, {"quality": "8"}, 400, "创意"),
                (4, {"quality": "8", "idea": "7", "comment": "好" * 600}, 400, "500"),
            ):
                async with wang.post(
                    f"{base(app)}/dashboard/judge/{receipt}/score",
                    data={"csrf": csrf, **form},
                    allow_redirects=False,
                ) as answer:
                    assert answer.status in (status, 413), (receipt, form, answer.status)
                    if answer.status != 413:
                        assert words in await answer.text(), (receipt, form)
            for path in ("/dashboard/judge/open", "/dashboard/judge/drop"):
                async with wang.post(f"{base(app)}{path}", data={"csrf": csrf}) as refused:
                    assert refused.status == 403  # organizers only

        # 李老师 scores on a phone, one entry per screen.
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            page = await context.new_page()
            await browser_sign_in(page, await login_link(onebot, 20_002))
            await page.goto(f"{base(app)}/dashboard/judge")
            progress = page.locator("#judge-progress")
            total = int(re.search(r"共 (\d+) 篇", await progress.inner_text()).group(1))  # type: ignore[union-attr]
            for done in (1, 2):
                await page.get_by_label("质量（1–10 分）").fill("8")
                await page.get_by_label("创意（1–10 分）").fill("6")
                await page.get_by_label("评语（可不写）").fill("结构清楚")
                await page.locator("#judge-save").click()
                await expect(progress).to_contain_text(f"还剩 {total - done} 篇 · 已评 {done} 篇")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            await browser.close()

        progress_text = await _say(onebot, ORGANIZER_ID, "/评审 进度")
        assert "李老师 2/" in progress_text, progress_text
        dropped = await _say(onebot, ORGANIZER_ID, "/评审 退出 20003")
        assert "赵老师 已退出评审" in dropped, dropped
        assert "请 @ 要退出的评委" in await _say(onebot, ORGANIZER_ID, "/评审 退出 abc")
        assert "请 @ 要退出的评委" in await _say(onebot, ORGANIZER_ID, "/评审 退出 99999")
        reminded = await _say(onebot, ORGANIZER_ID, "/评审 提醒")
        assert "已私聊提醒" in reminded
        privately = [m for m in onebot.sent() if m.user_id in (20_001, 20_002)]
        assert any("评审作品还剩" in m.text for m in privately)
        assert all(m.user_id != 20_003 for m in onebot.sent() if "评审作品还剩" in m.text)
    finally:
        await onebot.close()
