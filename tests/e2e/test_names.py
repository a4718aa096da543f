"""Names instead of QQ numbers, over the real WebSocket: the bot learns a member's group card
from their messages, and replies, the dashboard and the export show it; a hostile card stays
plain text everywhere."""

from __future__ import annotations

import base64
import io

import aiohttp
import openpyxl

from bot.demo.onebot import FakeOneBot, at, text

from .conftest import GROUP_ID, ORGANIZER_ID, AppStarter, ContestWriter
from .test_dashboard import base, login_link, sign_in
from .test_submissions import _overrides, _say

MEMBER = 30_001
HOSTILE = 30_002
HOSTILE_CARD = "<script>x</script>[CQ:at,qq=all]=1+1"


async def test_a_members_card_names_them_in_replies_the_dashboard_and_the_export(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=contest_config(_overrides()))
    await onebot.connect(app.ws_url)
    onebot.on_action("upload_private_file", lambda params: None)
    await onebot.post_group_message(GROUP_ID, MEMBER, "大家好", card="张三")
    await onebot.post_group_message(GROUP_ID, HOSTILE, "你好", card=HOSTILE_CARD)

    bound = await _say(onebot, ORGANIZER_ID, [text("/单位 绑定 南湖街道 "), at(MEMBER)])
    hostile = await _say(onebot, ORGANIZER_ID, [text("/单位 绑定 新嘉街道 "), at(HOSTILE)])
    await _say(onebot, MEMBER, "/提交 王五 https://blog.sina.com.cn/s/blog_ab01.html", card="张三")
    await _say(onebot, ORGANIZER_ID, "/导出")
    workbook = await onebot.wait_call("upload_private_file", timeout=15)

    assert bound.text == "已将 张三 绑定为「南湖街道」的联络员。"
    assert bound.mentions == []
    assert "<script>x</script>[CQ:at,qq=a…" in hostile.text  # text, capped at 30 characters
    assert "all" not in hostile.mentions
    assert [s["type"] for s in hostile.segments] == ["reply", "text"]
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(workbook["file"][9:])))
    rows = list(book["全部作品"].iter_rows(values_only=True))
    assert rows[1][9] == f"张三（{MEMBER}）"  # 提交人

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with await sign_in(browser, await login_link(onebot, ORGANIZER_ID)):
            pass
        async with browser.get(f"{base(app)}/dashboard/units") as page:
            html = await page.text()
    assert f"张三（{MEMBER}）" in html
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
