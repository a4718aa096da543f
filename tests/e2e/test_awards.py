"""From scores to published award lists in the running app: a judge scores on the dashboard, the
organizer previews and publishes in chat, the group sees the announcement, the results page
explains every total, and the award XLSX, the certificates XLSX and the print view agree with
it. Wrong and hostile input on the new routes gets a clear answer, never a 5xx."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import io
import os
import re
from pathlib import Path

import aiohttp
import openpyxl
import pytest

from bot.demo.onebot import FakeOneBot

from .conftest import GROUP_ID, ORGANIZER_ID, REPO_ROOT, AppStarter, ContestWriter
from .test_dashboard import JUDGE_ID, SHANGHAI, base, csrf_of, login_link, sign_in

NANHU, JIAOWEN = 10_001, 10_002
CHROMIUM = Path("/usr/bin/chromium")
JUDGING = {
    "judges_per_entry": 1,
    "normalization": "none",
    "criteria": [{"id": "quality", "name": "质量", "weight": 100, "source": "judges"}],
    "tiers": [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 1}],
    "unit_awards": [{"name": "优秀组织奖", "min_completion": 0.0, "min_mean": 50, "count": 1}],
}


async def _say(onebot: FakeOneBot, user: int, text: str) -> str:
    event = await onebot.post_group_message(GROUP_ID, user, text)
    quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
    reply = await onebot.wait_sent(
        group_id=GROUP_ID, predicate=lambda m: bool(m.segments) and m.segments[0] == quoted
    )
    return reply.text + "\n".join(reply.node_texts)


async def test_scores_to_published_awards_and_their_files(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    local = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    config = contest_config(
        {
            "contest": {
                "start": local - dt.timedelta(days=3),
                "deadline": local + dt.timedelta(days=4),
                "judges": [JUDGE_ID],
            },
            "submission": {"verify": False},
            "judging": JUDGING,
        },
        from_shipped=False,
    )
    app = await start_app(config=config)
    await onebot.connect(app.ws_url)
    onebot.on_action("upload_private_file", lambda params: None)

    assert "还没有发布评审结果" in await _say(onebot, ORGANIZER_ID, "/评奖 导出")
    assert "组织者" in await _say(onebot, NANHU, "/评奖 发布")
    posts = [
        (NANHU, "张三", 1), (NANHU, "李四", 2), (NANHU, "", 3), (JIAOWEN, "王五", 4),
    ]  # fmt: skip
    for user, author, n in posts:
        reply = await _say(onebot, user, f"/提交 {author} https://weibo.com/123456/Qq{n}zz")
        assert "已登记" in reply, reply
    assert "还没有任何作品完成评分" in await _say(onebot, ORGANIZER_ID, "/评奖 发布")

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as judge:
        async with await sign_in(judge, await login_link(onebot, JUDGE_ID)) as signed:
            assert signed.status == 303
        csrf = await csrf_of(judge, app)
        for receipt, quality in ((1, 9), (2, 6), (3, 10), (4, 8)):
            async with judge.post(
                f"{base(app)}/dashboard/entries/{receipt}/score",
                data={"csrf": csrf, "quality": str(quality), "comment": ""},
                allow_redirects=False,
            ) as scored:
                assert scored.status == 303
        # A judge may read the results but neither publish nor print certificates.
        async with judge.post(
            f"{base(app)}/dashboard/results/publish", data={"csrf": csrf}, allow_redirects=False
        ) as refused:
            assert refused.status == 403

    preview = await _say(onebot, ORGANIZER_ID, "/评奖 预览")
    assert "已评完 4/4 篇作品" in preview
    assert "个人奖：一等奖 1 人、二等奖 1 人" in preview
    assert "未署名作品 #3" in preview  # 10 points, but nobody's: never awarded

    published = await _say(onebot, ORGANIZER_ID, "/评奖 发布 初评")
    assert "已发布评审结果第 1 版" in published
    notice = await onebot.wait_sent(
        group_id=GROUP_ID, predicate=lambda m: "评审结果已发布（第 1 版）" in m.text
    )
    assert "个人奖：一等奖 1 人、二等奖 1 人。" in notice.text
    assert "/dashboard/results" in notice.text
    assert notice.mentions == []

    assert "已私聊发送第 1 版" in await _say(onebot, ORGANIZER_ID, "/评奖 导出")
    uploads = onebot.calls_of("upload_private_file")
    assert len(uploads) == 2
    files = {
        call.params["name"]: base64.b64decode(call.params["file"].removeprefix("base64://"))
        for call in uploads
    }
    awards_name = next(n for n in files if n.startswith("获奖名单"))
    sheet = openpyxl.load_workbook(io.BytesIO(files[awards_name]))["个人奖"]
    winners = [row[1:4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert winners == [("一等奖", "南湖街道", "张三"), ("二等奖", "区教文体局", "王五")]

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with await sign_in(web, await login_link(onebot, ORGANIZER_ID)) as signed:
            assert signed.status == 303
        async with web.get(f"{base(app)}/dashboard/results") as page:
            html = await page.text()
        assert "第 1 版" in html
        assert "（初评）" in html
        for _award, unit, author in winners:
            assert author in html
            assert unit in html
        async with web.get(f"{base(app)}/dashboard/results?tab=entries") as page:
            html = await page.text()
        assert "质量 9.0（1 位评委，平均）→ 综合 90.0" in html
        async with web.get(f"{base(app)}/dashboard/results/certificates.xlsx?v=1") as got:
            assert got.status == 200
            rows = list(
                openpyxl.load_workbook(io.BytesIO(await got.read()))["证书"].iter_rows(
                    min_row=2, values_only=True
                )
            )
        assert [r[1:4] for r in rows] == [
            ("张三", "南湖街道", "一等奖"),
            ("王五", "区教文体局", "二等奖"),
            (rows[2][1], rows[2][1], "优秀组织奖"),
        ]
        assert all(re.fullmatch(r"\d{4}-\d-\d{4}", r[0]) for r in rows)
        async with web.get(
            f"{base(app)}/dashboard/results/certificates?v=1&top=9999&left=-3&size=abc"
        ) as printed:
            html = await printed.text()
            assert printed.status == 200
        assert html.count('class="certificate"') == 3
        assert 'value="80"' in html  # the top margin held to what fits A4
        async with web.get(f"{base(app)}/dashboard/results/certificates.css?top=12") as css:
            assert "padding: 12mm" in await css.text()

        for path, status in (
            ("/dashboard/results?v=99999999999999999999", 404),
            ("/dashboard/results?v=abc", 404),
            ("/dashboard/results?v=2", 404),
            ("/dashboard/results?tab=<script>&page=-1", 200),
            ("/dashboard/results/other.xlsx", 404),
            ("/dashboard/results/awards.xlsx?v=0", 404),
        ):
            async with web.get(f"{base(app)}{path}") as answer:
                assert answer.status == status, path
                if status == 404:
                    assert "没有" in await answer.text()


async def test_organizers_merge_and_sign_authors_before_judging(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    local = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    config = contest_config(
        {
            "contest": {
                "start": local - dt.timedelta(days=3),
                "deadline": local + dt.timedelta(days=4),
                "judges": [JUDGE_ID],
            },
            "submission": {"verify": False},
        },
        from_shipped=False,
    )
    app = await start_app(config=config)
    await onebot.connect(app.ws_url)
    for author, n in (("张三", 1), ("张叁", 2), ("", 3), ("李晓明", 4), ("李小明", 5)):
        reply = await _say(onebot, NANHU, f"/提交 {author} https://weibo.com/123456/Qq{n}zz")
        assert "已登记" in reply, reply

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as judge:
        async with await sign_in(judge, await login_link(onebot, JUDGE_ID)) as signed:
            assert signed.status == 303
        async with judge.get(f"{base(app)}/dashboard/authors") as refused:
            assert refused.status == 403

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with await sign_in(web, await login_link(onebot, ORGANIZER_ID)) as signed:
            assert signed.status == 303
        csrf = await csrf_of(web, app)
        async with web.get(f"{base(app)}/dashboard/authors") as page:
            html = await page.text()
        assert "可能是同一人（2 组）" in html
        assert html.count("<td>读音相同</td>") == 2  # 张三 / 张叁, 李晓明 / 李小明
        assert "未署名作品（1 篇）" in html
        unit = re.search(r'name="unit" value="(\d+)"', html)
        assert unit

        async with web.post(
            f"{base(app)}/dashboard/authors/merge",
            data={"csrf": csrf, "unit": unit.group(1), "source": "张叁", "target": "张三"},
            allow_redirects=False,
        ) as merged:
            assert merged.status == 303
        async with web.post(
            f"{base(app)}/dashboard/entries/3/author",
            data={"csrf": csrf, "author": "王五"},
            allow_redirects=False,
        ) as signed_entry:
            assert signed_entry.status == 303
        async with web.get(f"{base(app)}/dashboard/authors") as page:
            html = await page.text()
        assert "未署名作品（0 篇）" in html
        assert "张叁" not in html
        assert "可能是同一人（1 组）" in html

        merge_path, rename_path = "/dashboard/authors/merge", "/dashboard/entries/1/author"
        nanhu = unit.group(1)
        for path, data, status, words in (
            (merge_path, {"unit": "999999", "source": "a", "target": "b"}, 404, "没有这个单位"),
            (merge_path, {"unit": nanhu, "source": "张三", "target": "张 三"}, 400, "不需要合并"),
            (merge_path, {"unit": nanhu, "source": "无此人", "target": "张三"}, 404, "没有作者"),
            (merge_path, {"unit": nanhu, "source": "张三", "target": "<b>x</b>"}, 400, "符号"),
            (rename_path, {"author": "[CQ:at,qq=all]"}, 400, "符号"),
            (rename_path, {"author": "名" * 50}, 400, "不能超过"),
            ("/dashboard/entries/99999999999999999999/author", {"author": "张三"}, 404, "没有找到"),
        ):  # fmt: skip
            async with web.post(
                f"{base(app)}{path}", data={"csrf": csrf, **data}, allow_redirects=False
            ) as answer:
                assert answer.status == status, (path, data, answer.status)
                assert words in await answer.text(), (path, data)
    mine = await _say(onebot, NANHU, "/我的提交")
    assert mine.count("张三") == 2
    assert "王五" in mine


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="Playwright 或 /usr/bin/chromium 不可用",
)
async def test_the_results_page_and_certificates_on_a_phone_and_paper(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    """The published results at phone size (no sideways scrolling, every total explained) and
    the certificates' print view; screenshots for the README with UPDATE_SCREENSHOTS=1."""
    from playwright.async_api import async_playwright, expect

    from .test_dashboard_browser import CHROMIUM_ARGS
    from .test_dashboard_browser import sign_in as browser_sign_in

    local = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    config = contest_config(
        {
            "contest": {
                "start": local - dt.timedelta(days=3),
                "deadline": local + dt.timedelta(days=4),
                "judges": [JUDGE_ID],
            },
            "submission": {"verify": False},
            "judging": JUDGING,
        },
        from_shipped=False,
    )
    app = await start_app(config=config)
    await onebot.connect(app.ws_url)
    for user, author, n in ((NANHU, "张三", 1), (NANHU, "李四", 2), (JIAOWEN, "王五", 3)):
        assert "已登记" in await _say(onebot, user, f"/提交 {author} https://weibo.com/1/Qq{n}zz")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as judge:
        async with await sign_in(judge, await login_link(onebot, JUDGE_ID)) as signed:
            assert signed.status == 303
        csrf = await csrf_of(judge, app)
        for receipt, quality in ((1, 9), (2, 6), (3, 8)):
            async with judge.post(
                f"{base(app)}/dashboard/entries/{receipt}/score",
                data={"csrf": csrf, "quality": str(quality)},
                allow_redirects=False,
            ) as scored:
                assert scored.status == 303
    assert "已发布评审结果第 1 版" in await _say(onebot, ORGANIZER_ID, "/评奖 发布")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
        )
        page = await context.new_page()
        await browser_sign_in(page, await login_link(onebot, ORGANIZER_ID))
        await page.goto(f"{base(app)}/dashboard/results")
        await expect(page.locator("#results-version")).to_contain_text("第 1 版")
        await expect(page.get_by_role("cell", name="张三")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            await page.screenshot(path=str(REPO_ROOT / "docs" / "results-phone.png"))
        await page.get_by_role("link", name="全部作品").click()
        await expect(page.locator("#result-1")).to_contain_text(
            "质量 9.0（1 位评委，平均）→ 综合 90.0"
        )

        paper = await browser.new_context(viewport={"width": 794, "height": 1123}, locale="zh-CN")
        printed = await paper.new_page()
        await browser_sign_in(printed, await login_link(onebot, ORGANIZER_ID))
        await printed.goto(f"{base(app)}/dashboard/results/certificates?v=1&top=60")
        await expect(printed.locator(".certificate")).to_have_count(3)
        await expect(printed.locator(".certificate .name").first).to_have_text("张三")
        centred = await printed.locator(".certificate").first.evaluate(
            "e => getComputedStyle(e).textAlign"
        )
        assert centred == "center"  # the certificate stylesheet applied
        padding = await printed.locator(".certificate").first.evaluate(
            "e => getComputedStyle(e).paddingTop"
        )
        assert padding.endswith("px")
        assert abs(float(padding[:-2]) - 60 * 96 / 25.4) < 1  # 60 mm as chosen
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            await printed.screenshot(path=str(REPO_ROOT / "docs" / "certificate.png"))
        await browser.close()
