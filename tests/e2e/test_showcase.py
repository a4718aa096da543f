"""`python -m bot showcase --out DIR` on a database with published results: the static site has
the awarded and the picked posts, no QQ numbers, escaped text, and renders in Chromium from the
files alone with every network request refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.demo.onebot import FakeOneBot
from bot.judging.results import EntryRow, PersonRow, ResultsBook, ResultSet, UnitRow
from bot.storage.db import open_storage

from .conftest import (
    GROUP_ID,
    REPO_ROOT,
    AppStarter,
    ContestWriter,
    app_env,
    free_port,
    write_contest,
)

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<script>alert(1)</script>读书&笔记"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def publish(database: Path, receipts: list[int]) -> None:
    """A published version naming `receipts[0]` (一等奖) and `receipts[1]` (二等奖)."""
    storage = await open_storage(f"sqlite+aiosqlite:///{database}")
    try:
        now = dt.datetime.now(dt.UTC)
        result = ResultSet(
            formula="综合 = (质量×100) ÷ 100 × 10",
            entries=tuple(
                EntryRow(r, "南湖街道", "张三", "", "u", 90.0 - r, "质量") for r in receipts
            ),
            people=(
                PersonRow(1, "一等奖", "南湖街道", "张三", 89.0, (receipts[0],)),
                PersonRow(2, "二等奖", "区教文体局", "王五", 88.0, (receipts[1],)),
            ),
            units=(UnitRow("南湖街道", 3, 50, 0.06, 89.0, 2, None, None),),
            unnamed=(),
            computed_at=now,
        )
        await ResultsBook(storage.sessions).publish(result, actor=10000, now=now)
        async with storage.engine.begin() as connection:  # a title as a page might have it
            await connection.execute(
                sa.text("UPDATE entry SET title = :t WHERE receipt = :r"),
                {"t": HOSTILE, "r": receipts[1]},
            )
    finally:
        await storage.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    local = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) + dt.timedelta(hours=8)
    config = tmp_path / "contest.toml"
    write_contest(
        config,
        {
            "contest": {
                "start": local - dt.timedelta(days=1),
                "deadline": local + dt.timedelta(days=7),
            },
            "judging": {"tiers": [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 1}]},
        },
        from_shipped=False,
    )
    data = tmp_path / "data"
    env = app_env(port=free_port(), data_dir=data, config=config)
    sheet = tmp_path / "links.csv"
    sheet.write_text(
        "单位,链接,作者\n"
        "南湖街道,https://weibo.com/1234567890/z0JH2lOMb,张三\n"
        "区教文体局,https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html,王五\n"
        "南湖街道,https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOp,李四\n",
        encoding="utf-8",
    )
    before = run(env, "showcase", "--out", str(tmp_path / "site"))
    assert before.returncode == 1, (
        before.stdout + before.stderr
    )  # no database yet, nothing published
    assert "没有已发布的评审结果" in before.stdout
    assert run(env, "import-submissions", str(sheet)).returncode == 0
    asyncio.run(publish(data / "bot.db", [1, 2]))

    wrong = run(env, "showcase", "--out", str(tmp_path / "site"), "--include", "3,abc")
    assert (wrong.returncode, "不是作品编号" in wrong.stdout) == (2, True), wrong.stdout
    done = run(env, "showcase", "--out", str(tmp_path / "site"), "--include", "3,#99")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "共 3 篇" in done.stdout
    assert "没有这些编号的作品，已略过：#99" in done.stdout
    return tmp_path / "site"


def test_the_showcase_shows_the_awarded_and_picked_posts_without_numbers(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    assert (site / "style.css").exists()
    assert html.index("<h2>一等奖") < html.index("<h2>二等奖") < html.index("<h2>优秀作品")
    assert "张三" in html
    assert "李四" in html  # picked by the organizer
    assert "alert(1)</script>" not in html  # a hostile title is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;读书&amp;笔记" in html
    assert "10000" not in html  # no QQ numbers
    assert "<script" not in html
    assert "综合" not in html  # no scores unless asked
    assert 'rel="noopener noreferrer"' in html


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="Playwright 或 /usr/bin/chromium 不可用",
)
async def test_the_showcase_renders_offline_on_a_phone(site: Path) -> None:
    from playwright.async_api import async_playwright, expect

    from .test_dashboard_browser import CHROMIUM_ARGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        refused: list[str] = []

        async def block(route) -> None:  # type: ignore[no-untyped-def]
            refused.append(route.request.url)
            await route.abort()

        await context.route("http*://**", block)
        page = await context.new_page()
        await page.goto((site / "index.html").as_uri())
        await expect(page.get_by_role("heading", level=2).first).to_contain_text("一等奖")
        await expect(page.locator(".card")).to_have_count(3)
        # The stylesheet applied from the local file: the header is the showcase's red.
        color = await page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(183, 28, 28)"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # no sideways scrolling on a phone
        assert refused == []  # it asked the network for nothing
        await browser.close()


async def test_the_public_showcase_is_off_by_default_and_read_only_when_on(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    local = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) + dt.timedelta(hours=8)
    window = {"start": local - dt.timedelta(days=1), "deadline": local + dt.timedelta(days=7)}
    tiers = [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 1}]
    off = await start_app(config=contest_config({"contest": window}, from_shipped=False))
    on = await start_app(
        config=contest_config(
            {"contest": window, "judging": {"tiers": tiers, "public_showcase": True}},
            from_shipped=False,
        )
    )
    async with aiohttp.ClientSession() as web:
        for path in ("/showcase", "/showcase/style.css"):
            async with web.get(f"http://{off.host}:{off.port}{path}") as answer:
                assert answer.status == 404, path
        async with web.get(f"http://{on.host}:{on.port}/showcase") as answer:
            assert answer.status == 404
            assert "尚未发布" in await answer.text()

        await onebot.connect(on.ws_url)
        for n, author in ((1, "张三"), (2, "王五")):
            event = await onebot.post_group_message(
                GROUP_ID, 10_001, f"/提交 {author} https://weibo.com/123456/Qq{n}zz"
            )
            quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
            await onebot.wait_sent(
                group_id=GROUP_ID,
                predicate=lambda m, q=quoted: bool(m.segments) and m.segments[0] == q,
            )
        database = Path(on.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))
        await publish(database, [1, 2])

        async with web.get(f"http://{on.host}:{on.port}/showcase") as answer:
            assert answer.status == 200
            html = await answer.text()
            assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "<h2>一等奖" in html
        assert "张三" in html
        assert "&lt;script&gt;" in html
        assert 'href="/showcase/style.css"' in html
        async with web.get(f"http://{on.host}:{on.port}/showcase/style.css") as answer:
            assert answer.status == 200
        async with web.post(f"http://{on.host}:{on.port}/showcase", data={"x": "1"}) as answer:
            assert answer.status == 405  # read-only
        statuses = []
        for _ in range(70):
            async with web.get(f"http://{on.host}:{on.port}/showcase") as answer:
                statuses.append(answer.status)
                if answer.status == 429:
                    assert "太频繁" in await answer.text()
        assert 429 in statuses
        assert all(s in (200, 429) for s in statuses)
