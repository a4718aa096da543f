"""Contest rounds in the real app (`python -m bot`) over real HTTP and WebSocket: an organizer
starts next year's round on the dashboard; chat starts afresh with the same units; last year
stays browsable and exportable, and nothing can change it."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import openpyxl

from bot.demo.onebot import FakeOneBot

from .conftest import GROUP_ID, ORGANIZER_ID, REPO_ROOT, TOKEN, AppStarter, ContestWriter
from .test_dashboard import (
    base,
    client,  # noqa: F401  (fixture)
    csrf_of,
    database_file,
    login_link,
    seeded_app,
    sign_in,
)

SECRETARY_ID = 10_001  # 南湖街道
PAGES = (
    "/",
    "/units",
    "/entries",
    "/faq",
    "/metrics",
    "/judge",
    "/results",
    "/downloads",
    "/recheck",
    "/authors",
    "/sessions",
    "/accounts",
    "/rounds",
    "/api/units",
    "/api/entries",
)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


async def _text(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def test_a_new_round_on_the_dashboard_archives_last_year_read_only(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,  # noqa: F811
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    db = database_file(app)
    [(first_label,)] = _rows(db, "SELECT label FROM contest_round")
    [(before,)] = _rows(db, "SELECT count(*) FROM entry")
    [(old_url,)] = _rows(db, "SELECT given_url FROM entry ORDER BY receipt LIMIT 1")
    await onebot.connect(app.ws_url)
    await sign_in(client, await login_link(onebot, ORGANIZER_ID))
    root = f"{base(app)}/dashboard"

    status, page = await _text(client, f"{root}/rounds")
    assert status == 200
    assert f"{first_label}（本轮）" in page
    csrf = await csrf_of(client, app)

    # A wrong confirmation, or a hostile label: refused, nothing changed.
    for form in (
        {"label": "2027年", "confirm": "不对"},
        {"label": "[CQ:at,qq=all]", "confirm": first_label},
        {"label": "x" * 5000, "confirm": first_label},
    ):
        async with client.post(f"{root}/rounds/new", data={"csrf": csrf, **form}) as refused:
            assert refused.status == 400, form
    assert _rows(db, "SELECT count(*) FROM contest_round") == [(1,)]
    assert _rows(db, "SELECT count(*) FROM entry") == [(before,)]

    form = {"csrf": csrf, "label": "2027年", "confirm": first_label}
    async with client.post(f"{root}/rounds/new", data=form) as started:
        assert started.status == 200
        assert "已开始「2027年」" in await started.text()
    assert _rows(db, "SELECT count(*) FROM entry") == [(0,)]
    [(archive_name,)] = _rows(db, "SELECT archive FROM contest_round WHERE id = 1")
    archive = db.parent / archive_name
    assert _rows(archive, "SELECT count(*) FROM entry") == [(before,)]

    # Chat: the same secretary, the same unit; receipts start again and last year's link is new.
    await onebot.post_group_message(GROUP_ID, SECRETARY_ID, f"/提交 {old_url}")
    reply = await onebot.wait_sent(group_id=GROUP_ID)
    assert "#1" in reply.text, reply.text
    await onebot.post_group_message(GROUP_ID, SECRETARY_ID, "/进度")
    progress = await onebot.wait_sent(group_id=GROUP_ID)
    assert "南湖街道" in progress.text
    assert "1 篇" in progress.text or "1/" in progress.text, progress.text

    # Last year: every page opens, shows the archive, and says it is read-only.
    async with client.get(f"{root}/round/1", allow_redirects=False) as chosen:
        assert chosen.status == 303
    for path in PAGES:
        status, text = await _text(client, f"{root}{path}")
        assert status == 200, (path, text[:300])
    status, text = await _text(client, f"{root}/entries")
    assert f"正在查看「{first_label}」的归档" in text
    assert f"共 {before} 篇" in text or str(before) in text
    async with client.get(f"{root}/downloads/xlsx") as download:
        assert download.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await download.read()))
        texts = {str(c) for sheet in book.worksheets for row in sheet.values for c in row}
        assert old_url in texts or any(old_url in t for t in texts)
        assert max(sheet.max_row for sheet in book.worksheets) > before
    statuses = "SELECT receipt, status FROM entry ORDER BY receipt"
    kept = _rows(archive, statuses)
    for path in ("/entries/1/withdraw", "/entries/1/restore", "/recheck/start", "/judge/open"):
        async with client.post(f"{root}{path}", data={"csrf": csrf}) as refused:
            assert refused.status == 403, path
            assert "已归档" in await refused.text()
    assert _rows(archive, statuses) == kept
    assert _rows(db, "SELECT count(*) FROM entry") == [(1,)]
    # The FAQ and sign-ins are shared by every round: those pages are the live ones.
    status, text = await _text(client, f"{root}/faq")
    assert status == 200
    assert "正在查看" not in text

    # Hostile choices fall back to a clear answer; a forged cookie shows this year.
    for which in ("999", "99999999999999999999999", "abc", "-1", "%00"):
        status, _ = await _text(client, f"{root}/round/{which}")
        assert status == 404, which
    async with client.get(f"{root}/round/now", allow_redirects=False) as back:
        assert back.status == 303
    status, text = await _text(client, f"{root}/entries")
    assert "正在查看" not in text
    assert "2027年（本轮）" in text
    client.cookie_jar.update_cookies({"dashboard_round": "' OR 1=1 --"})
    status, text = await _text(client, f"{root}/entries")
    assert status == 200
    assert "正在查看" not in text


def test_round_commands_on_the_command_line(tmp_path: Path) -> None:
    """`round list` and `round new` without --yes (refused, nothing changed), then with it."""
    db = tmp_path / "cli.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "BOT_DATA_DIR": str(tmp_path),
        "BOT_CONFIG": str(REPO_ROOT / "config" / "contest.toml"),
        "HOME": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "round", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    listed = run("list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "进行中" in listed.stdout
    refused = run("new")
    assert refused.returncode == 2
    assert "--yes" in refused.stdout
    assert _rows(db, "SELECT count(*) FROM contest_round") == [(1,)]
    bad = run("new", "--yes", "--label", "@全体成员")
    assert bad.returncode == 1
    assert "不能含有" in bad.stdout
    done = run("new", "--yes", "--label", "2099年")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "已开始「2099年」" in done.stdout
    listed = run("list")
    assert "已归档" in listed.stdout
    assert "2099年 · 进行中" in listed.stdout
    assert (tmp_path / "cli.round-1.sqlite").is_file()


async def test_a_round_started_from_the_command_line_reaches_every_running_process(
    start_app: AppStarter, contest_config: ContestWriter, shared: str
) -> None:
    """Two bots on one database (SQLite, PostgreSQL); `round new` from the command line while
    both run: B's dashboard lists the new round within two seconds and shows last year's
    archive (a file / a schema), and B's chat starts from receipt #1."""
    local = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    config = contest_config(
        {
            "contest": {
                "start": local - dt.timedelta(days=1),
                "deadline": local + dt.timedelta(days=7),
            },
            "submission": {"verify": False},
            "faq": {"passive": False},
            "messages": {"burst": 1000, "interval": 0.001},
        }
    )
    env = {"DATABASE_URL": shared, "DASHBOARD_SECRET": "s" * 48}
    first = await start_app(config=config, env=env)
    second = await start_app(config=config, env=env)
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        FakeOneBot(2_000_000_001, TOKEN) as bot_a,
        FakeOneBot(2_000_000_002, TOKEN) as bot_b,
        aiohttp.ClientSession(cookie_jar=jar) as browser,
    ):
        await bot_a.connect(first.ws_url)
        await bot_b.connect(second.ws_url)
        for n in range(1, 4):
            await bot_a.post_group_message(
                GROUP_ID, SECRETARY_ID, f"/提交 张三 https://weibo.com/1/Rd{n}zz"
            )
            await bot_a.wait_sent(group_id=GROUP_ID, predicate=lambda m: "已登记" in m.text)
        await sign_in(browser, await login_link(bot_b, ORGANIZER_ID))
        root = f"{base(second)}/dashboard"

        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "round", "new", "--yes", "--label", "下一年"],
            cwd=REPO_ROOT,
            env={**first.env},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        began = time.monotonic()
        while True:
            status, page = await _text(browser, f"{root}/entries")
            if "下一年（本轮）" in page:
                break
            assert time.monotonic() - began < 2.0, "the new round is not visible on B"
            await asyncio.sleep(0.1)

        await browser.get(f"{root}/round/1")
        status, page = await _text(browser, f"{root}/entries")
        assert status == 200
        assert "正在查看" in page
        assert "Rd3zz" in page

        await bot_b.post_group_message(
            GROUP_ID, SECRETARY_ID, "/提交 张三 https://weibo.com/1/Rd1zz"
        )
        reply = await bot_b.wait_sent(group_id=GROUP_ID)
        assert "#1" in reply.text, reply.text
