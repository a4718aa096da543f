"""The dashboard in a real browser: headless Chromium from Debian (/usr/bin/chromium) driven
by Playwright, against the real app (`python -m bot`) with a few dozen units and a few hundred
entries. With UPDATE_SCREENSHOTS=1 it also saves docs/dashboard-overview.png, the screenshot the
README shows (never on an ordinary run, so a test run leaves the working tree alone).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.demo.onebot import FakeOneBot
from bot.submissions.export import ENTRIES_SHEET, PROGRESS_SHEET

from .conftest import ORGANIZER_ID, REPO_ROOT, AppProcess, AppStarter, ContestWriter
from .dashboard_seed import seed
from .test_dashboard import JUDGE_ID, base, database_file, login_link, open_contest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO_ROOT / "docs" / "dashboard-overview.png"
UNITS = 36
ENTRIES = 420

if importlib.util.find_spec("playwright") is None:
    pytest.skip(
        "Playwright 未安装（pip install playwright；浏览器用 Debian 的 chromium）",
        allow_module_level=True,
    )
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} 不存在：请 apt-get install chromium（Playwright 自带的浏览器下载不可用）",
        allow_module_level=True,
    )

from playwright.async_api import Browser, Page, async_playwright, expect


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def app(start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path) -> AppProcess:
    db = tmp_path / "contest.db"
    now = dt.datetime.now(dt.UTC)
    await seed(
        f"sqlite+aiosqlite:///{db}",
        units=UNITS,
        entries=ENTRIES,
        opened=now - dt.timedelta(days=3),
        now=now,
        judges=(JUDGE_ID,),
    )
    return await start_app(
        config=open_contest(contest_config), env={"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    )


def query(app: AppProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database_file(app)) as db:
        return db.execute(sql, params).fetchall()


async def new_page(browser: Browser, **options: Any) -> Page:
    context = await browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, **options
    )
    return await context.new_page()


async def nav(page: Page, name: str) -> None:
    await page.get_by_role("banner").get_by_role("link", name=name, exact=True).click()


async def sign_in(page: Page, link: str) -> None:
    await page.goto(link)
    await page.get_by_role("button", name="登录后台").click()
    await page.wait_for_url("**/dashboard/")


async def test_organizer_signs_in_sees_the_chart_filters_withdraws_and_downloads(
    app: AppProcess, onebot: FakeOneBot, browser: Browser, tmp_path: Path
) -> None:
    await onebot.connect(app.ws_url)
    page = await new_page(browser, accept_downloads=True)
    await sign_in(page, await login_link(onebot, ORGANIZER_ID))

    # Overview: one bar per unit, the units behind first.
    units = query(app, "SELECT count(*) FROM unit")[0][0]
    bars = page.locator("#unit-chart g.bar")
    await expect(bars).to_have_count(units)
    assert units >= UNITS
    assert "behind" in (await bars.first.get_attribute("class") or "")
    await expect(page.locator("#day-chart g.day")).to_have_count(4)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # the README's picture, on request only
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Entries: filter by the unit with the most entries.
    unit_id, unit_name, count = query(
        app,
        "SELECT unit.id, unit.name, count(*) FROM entry JOIN unit ON unit.id = entry.unit_id"
        " WHERE status = 'accepted' GROUP BY unit.id ORDER BY count(*) DESC LIMIT 1",
    )[0]
    await nav(page, "作品")
    await page.get_by_label("单位").select_option(str(unit_id))
    await page.wait_for_url(f"**unit={unit_id}**")
    await page.get_by_label("状态").select_option("accepted")
    await page.wait_for_url("**status=accepted**")
    await expect(page.locator("#entry-total")).to_have_text(f"共 {count} 条")
    unit_cells = page.locator("#entries tbody tr.entry td:nth-child(2)")
    assert set(await unit_cells.all_inner_texts()) == {unit_name}

    # Withdraw the first one (confirming the dialog); the unit's count drops by one.
    page.once("dialog", lambda dialog: dialog.accept())
    first = page.locator("#entries tbody tr.entry").first
    receipt = int(await first.get_attribute("data-receipt") or 0)
    await first.get_by_role("button", name="撤回").click()
    await expect(page.locator("#done")).to_have_text(f"已撤回 #{receipt}。")
    await expect(page.locator("#entry-total")).to_have_text(f"共 {count - 1} 条")
    await nav(page, "单位")
    row = page.locator(f'#units tr[data-unit="{unit_name}"] td.accepted')
    await expect(row).to_have_text(str(count - 1))
    await nav(page, "总览")
    bar = page.locator(f'#unit-chart g.bar[data-unit="{unit_name}"]')
    await expect(bar).to_have_attribute("data-accepted", str(count - 1))
    assert query(app, "SELECT status FROM entry WHERE receipt = ?", receipt) == [("withdrawn",)]

    # Download the workbook and read it back.
    await nav(page, "下载")
    async with page.expect_download() as waiting:
        await page.locator("#download-xlsx").click()
    download = await waiting.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.suffix == ".xlsx"
    book = load_workbook(saved)
    assert book.sheetnames == [PROGRESS_SHEET, ENTRIES_SHEET]
    assert book[ENTRIES_SHEET].max_row == ENTRIES + 1
    assert book[PROGRESS_SHEET].max_row == units + 1


async def test_judge_scores_an_entry_and_sees_the_average(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    page = await new_page(browser)
    await sign_in(page, await login_link(onebot, JUDGE_ID))
    await page.goto(f"{base(app)}/dashboard/entries?q=%23{ENTRIES}")
    row = page.locator("#entries tbody tr.entry").first
    await expect(row.get_by_role("button", name="撤回")).to_have_count(0)

    await row.locator("summary").click()
    await row.get_by_label("质量（1–10）").fill("7")
    await row.get_by_label("评语").fill("结合实际，感悟真切")
    await row.get_by_role("button", name="保存").click()

    await expect(page.locator("#done")).to_have_text(f"已保存对 #{ENTRIES} 的评分。")
    await expect(page.locator("#entries tbody tr.entry td.num").nth(1)).to_contain_text("7.0")
    assert query(app, "SELECT quality, comment FROM entry_score WHERE receipt = ?", ENTRIES) == [
        (7, "结合实际，感悟真切")
    ]


async def test_used_or_expired_links_and_no_cookie_get_no_data(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    used = await login_link(onebot, ORGANIZER_ID)
    await sign_in(await new_page(browser), used)

    stranger = await new_page(browser)
    await stranger.goto(used)
    await expect(stranger.locator("#message")).to_contain_text("已使用或已过期")
    await expect(stranger.get_by_role("button", name="登录后台")).to_have_count(0)

    expired = await login_link(onebot, ORGANIZER_ID)
    await stranger.goto(expired)  # still valid: the page offers the button
    await expect(stranger.get_by_role("button", name="登录后台")).to_have_count(1)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with sqlite3.connect(database_file(app)) as db:
        db.execute(
            "UPDATE login_token SET expires_at = ? WHERE used_at IS NULL",
            (past.replace(tzinfo=None).isoformat(" "),),
        )
    await stranger.get_by_role("button", name="登录后台").click()
    await expect(stranger.locator("#message")).to_contain_text("已使用或已过期")

    for path in ("/", "/entries", "/units"):
        await stranger.goto(f"{base(app)}/dashboard{path}")
        await expect(stranger.locator("#message")).to_have_text(
            "请在 QQ 私聊机器人发送 /后台 获取登录链接。"
        )
        await expect(stranger.locator("#unit-chart")).to_have_count(0)
    answer = await stranger.request.get(f"{base(app)}/dashboard/api/entries")
    assert answer.status == 401


async def test_organizer_starts_a_new_round_and_browses_last_year(
    app: AppProcess, onebot: FakeOneBot, browser: Browser, tmp_path: Path
) -> None:
    """The 轮次 page: confirm with this round's name, start the next; the switcher shows last
    year's archive on every page, read-only, and its workbook still downloads whole."""
    await onebot.connect(app.ws_url)
    page = await new_page(browser, accept_downloads=True)
    await sign_in(page, await login_link(onebot, ORGANIZER_ID))
    [(label,)] = query(app, "SELECT label FROM contest_round")

    await nav(page, "轮次")
    await page.get_by_label("新一轮名称").fill("明年")
    await page.get_by_label(f"确认：请输入本轮名称「{label}」").fill(label)
    await page.get_by_role("button", name="归档本轮并开始新一轮").click()
    await expect(page.get_by_role("status")).to_contain_text("已开始「明年」")
    assert query(app, "SELECT count(*) FROM entry") == [(0,)]

    switch = page.get_by_role("navigation", name="轮次")
    await switch.get_by_role("link", name=label).click()
    await expect(page.locator("#archived")).to_contain_text(f"正在查看「{label}」的归档")
    await nav(page, "作品")
    await expect(page.locator("#entry-total")).to_have_text(f"共 {ENTRIES} 条")
    await expect(page.locator("#archived")).to_be_visible()

    await nav(page, "下载")
    async with page.expect_download() as waiting:
        await page.locator("#download-xlsx").click()
    saved = tmp_path / (await waiting.value).suggested_filename
    await (await waiting.value).save_as(saved)
    assert load_workbook(saved)[ENTRIES_SHEET].max_row == ENTRIES + 1

    await page.locator("#archived").get_by_role("link", name="回到本轮").click()
    await nav(page, "作品")
    await expect(page.locator("#entry-total")).to_have_text("共 0 条")
    await expect(page.locator("#archived")).to_have_count(0)
