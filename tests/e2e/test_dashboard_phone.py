# ruff: noqa: F811 (the fixtures `app` and `browser` come from test_dashboard_browser)
"""The dashboard on a phone (390×844, as QQ's in-app browser shows it) and on a projector
(1920×1080, `?big=1`), in headless Chromium against the real app.

On a phone: the header stays within 80 px and its menu scrolls sideways; the page itself never
scrolls sideways (and is not made to by hiding the overflow); every entry is a card whose
receipt, status and buttons are on screen; twenty entries fit in three screens.
With UPDATE_SCREENSHOTS=1 the README's phone and projector pictures are saved to docs/.
"""

from __future__ import annotations

import os
from typing import Any

from playwright.async_api import Browser, Page, expect

from bot.demo.onebot import FakeOneBot

from .conftest import ORGANIZER_ID, REPO_ROOT, AppProcess
from .test_dashboard import JUDGE_ID, base, login_link
from .test_dashboard_browser import app, browser, sign_in  # noqa: F401 (fixtures)

PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
PAGES = (
    "/",
    "/entries",
    "/units",
    "/faq",
    "/downloads",
    "/sessions",
    "/metrics",
    "/recheck",
    "/results",
    "/authors",
    "/accounts",
)
DOCS = REPO_ROOT / "docs"


async def phone_page(browser: Browser) -> Page:
    context = await browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Mobile Safari/537.36 QQ/9.0.0 V1_AND_SQ_9.0.0",
    )
    return await context.new_page()


async def layout(page: Page) -> dict[str, Any]:
    return await page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            height: document.documentElement.scrollHeight,
            overflowX: [getComputedStyle(document.documentElement).overflowX,
                        getComputedStyle(document.body).overflowX],
            header: document.querySelector('header.top')?.getBoundingClientRect().height ?? 0,
        })"""
    )


async def test_every_page_fits_a_phone_without_sideways_scrolling(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    page = await phone_page(browser)
    await sign_in(page, await login_link(onebot, ORGANIZER_ID))

    for path in PAGES:
        await page.goto(f"{base(app)}/dashboard{path}")
        found = await layout(page)
        assert found["scrollWidth"] <= found["innerWidth"], (path, found)
        assert "hidden" not in found["overflowX"], (path, found)
        assert 0 < found["header"] <= 80, (path, found)
        if path == "/" and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            await page.screenshot(path=str(DOCS / "dashboard-phone.png"))


async def test_every_menu_item_can_be_reached_and_opened_on_a_phone(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    page = await phone_page(browser)
    await sign_in(page, await login_link(onebot, ORGANIZER_ID))
    menu = page.get_by_role("banner").get_by_role("navigation")

    for name, path in (("登录", "/sessions"), ("下载", "/downloads"), ("单位", "/units")):
        link = menu.get_by_role("link", name=name, exact=True)
        await link.scroll_into_view_if_needed()
        box = await link.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        await link.click()
        await page.wait_for_url(f"**/dashboard{path}")
        # One line per menu item: no name broken one character per line.
        assert box["height"] < 40, (name, box)


async def test_twenty_entries_are_cards_with_everything_on_screen_within_three_screens(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    page = await phone_page(browser)
    await sign_in(page, await login_link(onebot, ORGANIZER_ID))
    await page.goto(f"{base(app)}/dashboard/entries?per_page=20")

    cards = page.locator("#entries tbody tr.entry")
    await expect(cards).to_have_count(20)
    found = await layout(page)
    assert found["height"] <= 3 * PHONE["height"], found
    assert found["scrollWidth"] <= found["innerWidth"], found
    for index in range(20):
        card = cards.nth(index)
        for part in ("td.receipt", "td.status", "td.actions button"):
            box = await card.locator(part).first.bounding_box()
            assert box is not None, (index, part)
            assert box["x"] >= 0, (index, part, box)
            assert box["x"] + box["width"] <= PHONE["width"], (index, part, box)


async def test_a_judge_scores_on_a_phone(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    page = await phone_page(browser)
    await sign_in(page, await login_link(onebot, JUDGE_ID))
    await page.goto(f"{base(app)}/dashboard/entries?per_page=20")
    card = page.locator("#entries tbody tr.entry").first
    receipt = await card.get_attribute("data-receipt")

    await card.locator("summary").click()
    await card.get_by_label("质量（1–10）").fill("8")
    box = await card.get_by_role("button", name="保存").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    await card.get_by_role("button", name="保存").click()

    await expect(page.locator("#done")).to_have_text(f"已保存对 #{receipt} 的评分。")
    found = await layout(page)
    assert found["scrollWidth"] <= found["innerWidth"]


async def test_the_projector_view_reads_from_the_back_of_the_room(
    app: AppProcess, onebot: FakeOneBot, browser: Browser
) -> None:
    await onebot.connect(app.ws_url)
    context = await browser.new_context(locale="zh-CN", viewport=PROJECTOR)
    page = await context.new_page()
    await sign_in(page, await login_link(onebot, ORGANIZER_ID))
    await page.goto(f"{base(app)}/dashboard/?big=1")

    sizes = await page.evaluate(
        """() => ({
            total: parseFloat(
                getComputedStyle(document.querySelector('#total-accepted')).fontSize),
            chart: document.querySelector('#unit-chart').getBoundingClientRect().width,
            label: parseFloat(
                getComputedStyle(document.querySelector('#unit-chart text')).fontSize),
        })"""
    )
    found = await layout(page)
    assert sizes["total"] >= 64, sizes
    assert sizes["label"] >= 20, sizes
    assert sizes["chart"] >= 0.8 * PROJECTOR["width"], sizes
    assert found["scrollWidth"] <= found["innerWidth"]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        await page.screenshot(path=str(DOCS / "dashboard-projector.png"))
