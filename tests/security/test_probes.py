"""Hostile input against the running app, kept as regression tests: CQ codes and @全体成员 in
every command, commands beyond one's role, forged and stale forms, markup and formulas in every
field the dashboard and the exports show, and oversized input.

Each probe states what must hold whatever the input: no outgoing CQ code or @全体成员, nothing
changed by a refused request, no markup rendered, no formula in an export, never a 5xx.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import openpyxl

from bot.demo.onebot import FakeOneBot, SentMessage, at, text
from tests.e2e.conftest import GROUP_ID, ORGANIZER_ID, AppProcess, AppStarter, ContestWriter
from tests.e2e.dashboard_seed import seed
from tests.e2e.test_dashboard import (
    JUDGE_ID,
    base,
    csrf_of,
    login_link,
    open_contest,
    sign_in,
)
from tests.e2e.test_submissions import NANHU, _overrides, _say

MEMBER = 30_001
ALL = {"type": "at", "data": {"qq": "all"}}
SCRIPT = '<script>alert("title")</script>'
IMG = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example/","点我")'
UNIT_MARKUP = "<i>坏</i>单位"
# What may ever leave the bot in a group: these segment types, and @ of real QQ numbers.
SAFE_TYPES = {"text", "at", "reply", "image", "node", "face"}


def assert_safe(messages: list[SentMessage]) -> None:
    for message in messages:
        assert isinstance(message.params.get("message"), list), message.params  # arrays only
        assert {s["type"] for s in message.segments} <= SAFE_TYPES, message.cq
        for qq in message.mentions:
            assert qq.isdigit(), message.cq  # never "all"


# --- chat ----------------------------------------------------------------------------------------


async def test_no_input_makes_the_bot_send_a_cq_code_or_at_everyone(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=contest_config(_overrides()))
    await onebot.connect(app.ws_url)
    probes: list[tuple[int, Any]] = [
        (NANHU, "/提交 [CQ:at,qq=all] https://blog.sina.com.cn/s/blog_aa01.html"),
        (NANHU, [text("/提交 "), ALL, text(" https://blog.sina.com.cn/s/blog_aa02.html")]),
        (NANHU, "/提交 [CQ:at,qq=all]：https://blog.sina.com.cn/s/blog_aa03.html"),
        (NANHU, "/提交 =1+1 https://blog.sina.com.cn/s/blog_aa04.html"),
        (NANHU, "/我的提交 [CQ:at,qq=all]"),
        (MEMBER, "/问 [CQ:at,qq=all] 博客密码忘了怎么办"),
        (MEMBER, [text("/问 "), ALL, text(" 怎么发博客")]),
        (MEMBER, "/进度 [CQ:at,qq=all]"),
        (MEMBER, "/单位 &#91;CQ:at,qq=all&#93;"),
        (MEMBER, "/帮助 [CQ:image,file=http://evil.example/x.jpg]"),
        (ORGANIZER_ID, [text("/单位 绑定 南湖街道 "), ALL]),
        (ORGANIZER_ID, "/进度 [CQ:at,qq=all]"),
    ]
    answers = [await _say(onebot, user, message) for user, message in probes]

    assert_safe(onebot.sent(group_id=GROUP_ID))
    assert all(a.mentions == [] for a in answers), [a.cq for a in answers]
    # The author the parser cannot take is named in the receipt, not silently dropped.
    assert "无法识别" in answers[3].text


async def test_commands_beyond_ones_role_are_refused_and_change_nothing(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=contest_config(_overrides()))
    await onebot.connect(app.ws_url)
    onebot.on_action("upload_private_file", lambda params: None)
    await _say(onebot, NANHU, "/提交 https://blog.sina.com.cn/s/blog_bb01.html")

    refusals = [
        await _say(onebot, MEMBER, "/导出"),
        await _say(onebot, MEMBER, "/提醒 立即"),
        await _say(onebot, MEMBER, [text("/单位 绑定 南湖街道 "), at(MEMBER)]),
        await _say(onebot, MEMBER, "/撤回 1"),
        await _say(onebot, MEMBER, "/faq 删除 1"),
        await _say(onebot, JUDGE_ID, "/撤回 1"),
        await _say(onebot, JUDGE_ID, "/提交 https://blog.sina.com.cn/s/blog_bb02.html"),
        await _say(onebot, 10_001, "/撤回 1"),  # another unit's secretary
    ]
    mine = await _say(onebot, NANHU, "/我的提交")
    member_unit = await _say(onebot, MEMBER, "/我的单位")

    for answer in refusals:
        assert answer.mentions == []
        assert any(word in answer.text for word in ("仅限", "不是", "没有", "不能")), answer.text
    assert onebot.calls_of("upload_private_file") == []
    assert "共 1 篇" in mine.text
    assert "blog_bb02" not in mine.text
    assert "还没有绑定" in member_unit.text or "没有绑定" in member_unit.text


# --- dashboard and exports -----------------------------------------------------------------------


async def hostile_app(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> AppProcess:
    """A seeded database whose titles, authors and a unit name carry markup and formulas."""
    db = tmp_path / "hostile.db"
    now = dt.datetime.now(dt.UTC)
    await seed(
        f"sqlite+aiosqlite:///{db}",
        units=4,
        entries=12,
        opened=now - dt.timedelta(days=3),
        now=now,
        judges=(JUDGE_ID,),
    )
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entry SET title = ?, status = 'accepted' WHERE receipt = 1", (SCRIPT,))
        conn.execute(
            "UPDATE entry SET title = ?, status = 'accepted' WHERE receipt = 2", (FORMULA,)
        )
        conn.execute("UPDATE entry SET author = ?, status = 'accepted' WHERE receipt = 3", (IMG,))
        conn.execute(
            "UPDATE entry SET author = ? WHERE receipt = 4", ("@SUM(1+1)*cmd|' /C calc'!A0",)
        )
        conn.execute(
            "UPDATE unit SET name = ? WHERE id = (SELECT min(id) FROM unit)", (UNIT_MARKUP,)
        )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    return await start_app(config=open_contest(contest_config), env=env)


async def signed_in(app: AppProcess, onebot: FakeOneBot, user_id: int) -> aiohttp.ClientSession:
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with await sign_in(browser, await login_link(onebot, user_id)) as answer:
        assert answer.status == 303
    return browser


async def test_markup_in_every_shown_field_is_escaped_and_formulas_stay_text(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path, onebot: FakeOneBot
) -> None:
    app = await hostile_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    browser = await signed_in(app, onebot, ORGANIZER_ID)
    try:
        pages = {}
        for path in (
            "/dashboard/",
            "/dashboard/entries",
            "/dashboard/entries?q=%3Cscript%3E",
            "/dashboard/units",
            "/dashboard/sessions",
            "/dashboard/downloads",
        ):
            async with browser.get(base(app) + path) as page:
                assert page.status == 200, path
                pages[path] = await page.text()
        async with browser.get(f"{base(app)}/dashboard/downloads/xlsx") as xlsx:
            workbook = openpyxl.load_workbook(io.BytesIO(await xlsx.read()))
        async with browser.get(f"{base(app)}/dashboard/downloads/csv") as answer:
            rows = list(csv.reader(io.StringIO((await answer.read()).decode("utf-8-sig"))))
    finally:
        await browser.close()

    for path, html in pages.items():
        for raw in (SCRIPT, IMG, UNIT_MARKUP):
            assert raw not in html, (path, raw)
    assert "&lt;script&gt;" in pages["/dashboard/entries"]
    assert "&lt;i&gt;坏&lt;/i&gt;单位" in pages["/dashboard/units"]
    cells = [c for row in workbook["全部作品"].iter_rows() for c in row if c.value]
    formula_cells = [c for c in cells if str(c.value).startswith(("=", "@"))]
    assert formula_cells, "the hostile title and author are exported"
    assert all(c.data_type == "s" for c in formula_cells)
    flat = [value for row in rows for value in row]
    assert "'" + FORMULA in flat
    assert not [v for v in flat if v.startswith(("=", "@", "+"))]


async def test_forged_stale_and_foreign_forms_change_nothing(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path, onebot: FakeOneBot
) -> None:
    app = await hostile_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    before = _entry_state(app)
    organizer = await signed_in(app, onebot, ORGANIZER_ID)
    judge = await signed_in(app, onebot, JUDGE_ID)
    try:
        judges_csrf = await csrf_of(judge, app)
        statuses = []
        for data in ({}, {"csrf": ""}, {"csrf": "x" * 64}, {"csrf": judges_csrf}):
            async with organizer.post(
                f"{base(app)}/dashboard/entries/5/withdraw", data=data, allow_redirects=False
            ) as answer:
                statuses.append(answer.status)
        async with judge.post(
            f"{base(app)}/dashboard/entries/5/withdraw",
            data={"csrf": judges_csrf},
            allow_redirects=False,
        ) as by_judge:
            statuses.append(by_judge.status)
    finally:
        await organizer.close()
        await judge.close()

    assert statuses == [403, 403, 403, 403, 403]
    assert _entry_state(app) == before


def _entry_state(app: AppProcess) -> tuple[Any, ...]:
    """Entry 5's status and how many changes the log holds (beside the accounts' own comings and
    goings, "bot.*", which the connection writes in the background)."""
    with sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")) as db:
        status = db.execute("SELECT status FROM entry WHERE receipt = 5").fetchone()[0]
        logged = db.execute(
            "SELECT count(*) FROM change_log WHERE action NOT LIKE 'bot.%'"
        ).fetchone()[0]
    return status, logged


# --- oversized input -----------------------------------------------------------------------------


async def test_oversized_input_is_answered_briefly_and_never_with_a_5xx(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path, onebot: FakeOneBot
) -> None:
    app = await hostile_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    browser = await signed_in(app, onebot, ORGANIZER_ID)
    try:
        csrf = await csrf_of(browser, app)
        async with browser.post(
            f"{base(app)}/dashboard/entries/1/withdraw",
            data={"csrf": csrf, "back": "x" * 2_000_000},
            allow_redirects=False,
        ) as huge_form:
            form_status = huge_form.status
        statuses = []
        for path in (
            "/dashboard/entries/" + "9" * 5000 + "/withdraw",
            "/dashboard/entries?q=" + "长" * 20000,
            "/dashboard/entries?page=" + "9" * 40,
            "/dashboard/units?sort=" + "x" * 5000,
        ):
            method = browser.post if path.endswith("withdraw") else browser.get
            async with method(base(app) + path, data={"csrf": csrf}) as answer:
                statuses.append(answer.status)
    finally:
        await browser.close()
    huge_chat = await _say(onebot, ORGANIZER_ID, "/问 " + "怎么发博客" * 20_000)
    alive = await _say(onebot, MEMBER, "/帮助")

    assert form_status == 413
    assert all(status < 500 for status in statuses), statuses
    assert len(huge_chat.text) < 2_000
    assert huge_chat.mentions == []
    assert "/问" in alive.text
