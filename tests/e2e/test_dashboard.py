"""The dashboard over HTTP in the real app (`python -m bot`): one-time sign-in links, sessions,
the read-only API token and what judges may not do."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import openpyxl
import pytest

from bot.demo.onebot import FakeOneBot

from .conftest import (
    GROUP_ID,
    ORGANIZER_ID,
    AppProcess,
    AppStarter,
    ContestWriter,
)
from .dashboard_seed import seed

JUDGE_ID = 20_001
SECRETARY_ID = 10_001  # 南湖街道's secretary in the minimal contest
API_TOKEN = "district-api-token-0123456789"
SHANGHAI = ZoneInfo("Asia/Shanghai")
LINK = re.compile(r"https?://\S+/dashboard/login\?t=[\w-]+")


def open_contest(contest_config: ContestWriter, judges: tuple[int, ...] = (JUDGE_ID,)) -> Path:
    """The minimal contest, open now (three days in, four to go), without link fetching."""
    local = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    return contest_config(
        {
            "contest": {
                "start": local - dt.timedelta(days=3),
                "deadline": local + dt.timedelta(days=4),
                "judges": list(judges),
            },
            "submission": {"verify": False},
        },
        from_shipped=False,
    )


async def seeded_app(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path, **kw: Any
) -> AppProcess:
    """The app on a database holding 8 units and 60 entries (besides the config's units)."""
    db = tmp_path / "seeded.db"
    now = dt.datetime.now(dt.UTC)
    await seed(
        f"sqlite+aiosqlite:///{db}",
        units=8,
        entries=60,
        opened=now - dt.timedelta(days=3),
        now=now,
        judges=(JUDGE_ID,),
    )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", **kw.pop("env", {})}
    return await start_app(config=open_contest(contest_config), env=env, **kw)


def base(app: AppProcess) -> str:
    return f"http://{app.host}:{app.port}"


def database_file(app: AppProcess) -> Path:
    return Path(app.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))


async def login_link(onebot: FakeOneBot, user_id: int) -> str:
    await onebot.post_private_message(user_id, "/后台")
    reply = await onebot.wait_sent(user_id=user_id)
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(0)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: keep cookies from an IP address host (127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def sign_in(client: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    token = link.partition("?t=")[2]
    url = link.partition("?")[0]
    return await client.post(url, data={"t": token}, allow_redirects=False)


async def csrf_of(client: aiohttp.ClientSession, app: AppProcess) -> str:
    async with client.get(f"{base(app)}/dashboard/entries") as page:
        html = await page.text()
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def entry_status(app: AppProcess, receipt: int) -> str:
    with sqlite3.connect(database_file(app)) as db:
        return db.execute("SELECT status FROM entry WHERE receipt = ?", (receipt,)).fetchone()[0]


async def first_accepted(app: AppProcess) -> int:
    with sqlite3.connect(database_file(app)) as db:
        row = db.execute("SELECT min(receipt) FROM entry WHERE status = 'accepted'").fetchone()
    return int(row[0])


# ------------------------------------------------------------------ sign-in


async def test_a_link_signs_in_once_and_opening_it_does_not_use_it(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    link = await login_link(onebot, ORGANIZER_ID)

    # QQ's link scanner opens it first, with its own client: it sees only a button.
    async with aiohttp.ClientSession() as scanner, scanner.get(link) as scanned:
        assert scanned.status == 200
        assert "登录后台" in await scanned.text()
        assert "dashboard_session" not in scanned.cookies

    token = link.partition("?t=")[2]
    async with await sign_in(client, link) as first:
        assert first.status == 303
        assert first.headers["Location"] == "/dashboard/"
        cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Max-Age=43200" in cookie
    async with client.get(f"{base(app)}/dashboard/") as overview:
        assert overview.status == 200
        assert "各单位进度" in await overview.text()

    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other,
        await sign_in(other, link) as second,
    ):
        assert second.status == 400
        assert "已使用或已过期" in await second.text()
        assert "Set-Cookie" not in second.headers
        async with other.get(f"{base(app)}/dashboard/api/units") as data:
            assert data.status == 401
    assert token not in app.log()  # the access log shows the link without its token


async def test_an_expired_link_gives_no_session(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    link = await login_link(onebot, ORGANIZER_ID)
    with sqlite3.connect(database_file(app)) as db:  # eleven minutes later
        past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).replace(tzinfo=None)
        db.execute("UPDATE login_token SET expires_at = ?", (past.isoformat(" "),))

    async with client.get(link) as opened:
        assert "已使用或已过期" in await opened.text()
        assert "登录后台</button>" not in await opened.text()
    async with await sign_in(client, link) as pressed:
        assert pressed.status == 400
        assert "Set-Cookie" not in pressed.headers
    async with client.get(f"{base(app)}/dashboard/", allow_redirects=False) as page:
        assert page.status == 303


async def test_without_a_session_pages_redirect_and_json_is_401(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    receipt = await first_accepted(app)

    for path in ("/", "/units", "/entries", "/faq", "/downloads", "/downloads/xlsx"):
        async with client.get(f"{base(app)}/dashboard{path}", allow_redirects=False) as page:
            assert page.status == 303, path
            assert page.headers["Location"] == "/dashboard/login"
    for path in ("/api/units", "/api/entries", "/api/faq"):
        async with client.get(f"{base(app)}/dashboard{path}") as data:
            assert data.status == 401, path
            assert "units" not in await data.text()
    async with client.post(
        f"{base(app)}/dashboard/entries/{receipt}/withdraw", allow_redirects=False
    ) as change:
        assert change.status == 303
    async with client.get(f"{base(app)}/dashboard/login") as signin:
        assert "请在 QQ 私聊机器人发送 /后台 获取登录链接" in await signin.text()
    assert await entry_status(app, receipt) == "accepted"


async def test_a_cookie_copied_before_logout_opens_nothing_afterwards(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    receipt = await first_accepted(app)
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass
    csrf = await csrf_of(client, app)
    copied = {c.key: c.value for c in client.cookie_jar}

    async with client.post(
        f"{base(app)}/dashboard/logout", data={"csrf": csrf}, allow_redirects=False
    ) as out:
        assert out.status == 303

    async with aiohttp.ClientSession(cookies=copied) as thief:
        async with thief.get(f"{base(app)}/dashboard/", allow_redirects=False) as page:
            assert page.status == 303
            assert page.headers["Location"] == "/dashboard/login"
        async with thief.get(f"{base(app)}/dashboard/api/units") as data:
            assert data.status == 401
        async with thief.post(
            f"{base(app)}/dashboard/entries/{receipt}/withdraw",
            data={"csrf": csrf},
            allow_redirects=False,
        ) as change:
            assert change.status == 303
    assert await entry_status(app, receipt) == "accepted"


async def test_a_judge_removed_from_the_config_loses_access_at_the_restart(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    async with await sign_in(client, await login_link(onebot, JUDGE_ID)):
        pass
    async with client.get(f"{base(app)}/dashboard/api/units") as before:
        assert before.status == 200

    app.env["BOT_CONFIG"] = str(open_contest(contest_config, judges=()))
    await app.restart()

    async with client.get(f"{base(app)}/dashboard/api/units") as after:
        assert after.status == 401
    async with client.get(f"{base(app)}/dashboard/", allow_redirects=False) as page:
        assert page.status == 303


async def test_a_forged_cookie_gets_no_data(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    expiry = int(dt.datetime.now(dt.UTC).timestamp()) + 3600
    signature = "A" * 43
    forged = {"dashboard_session": f"{ORGANIZER_ID}.o.{expiry}.{signature}"}
    async with (
        aiohttp.ClientSession(cookies=forged) as client,
        client.get(f"{base(app)}/dashboard/api/units") as data,
    ):
        assert data.status == 401


# ------------------------------------------------------------------ API token


async def test_api_token_reads_json_but_nothing_else(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(
        start_app, contest_config, tmp_path, env={"DASHBOARD_API_TOKEN": API_TOKEN}
    )
    receipt = await first_accepted(app)
    bearer = {"Authorization": f"Bearer {API_TOKEN}"}

    async with client.get(f"{base(app)}/dashboard/api/units", headers=bearer) as units:
        assert units.status == 200
        body = await units.json()
    async with client.get(
        f"{base(app)}/dashboard/api/entries?per_page=5&status=accepted", headers=bearer
    ) as entries:
        page = await entries.json()
    async with client.get(f"{base(app)}/dashboard/api/faq", headers=bearer) as faq:
        assert faq.status == 200
    async with client.get(
        f"{base(app)}/dashboard/api/units", headers={"Authorization": "Bearer wrong-token-xyz"}
    ) as wrong:
        assert wrong.status == 401
    async with client.get(f"{base(app)}/dashboard/", headers=bearer, allow_redirects=False) as html:
        assert html.status == 303
    async with client.post(
        f"{base(app)}/dashboard/entries/{receipt}/withdraw", headers=bearer, allow_redirects=False
    ) as change:
        assert change.status == 303

    with sqlite3.connect(database_file(app)) as db:
        assert len(body["units"]) == db.execute("SELECT count(*) FROM unit").fetchone()[0]
    assert {"name", "quota", "accepted", "completion", "avg_quality"} <= set(body["units"][0])
    assert len(page["entries"]) == 5
    assert page["total"] > 5
    assert all(e["status"] == "accepted" for e in page["entries"])
    assert await entry_status(app, receipt) == "accepted"


# ------------------------------------------------------------------ roles


async def test_judge_can_score_but_not_withdraw(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    receipt = await first_accepted(app)
    async with await sign_in(client, await login_link(onebot, JUDGE_ID)) as signed:
        assert signed.status == 303
    csrf = await csrf_of(client, app)

    async with client.post(
        f"{base(app)}/dashboard/entries/{receipt}/withdraw",
        data={"csrf": csrf},
        allow_redirects=False,
    ) as refused:
        assert refused.status == 403
        assert "评委" in await refused.text()
    async with client.post(
        f"{base(app)}/dashboard/entries/{receipt}/score",
        data={"csrf": csrf, "quality": "9", "comment": "主题鲜明", "back": "/dashboard/entries"},
        allow_redirects=False,
    ) as scored:
        assert scored.status == 303
    async with client.get(f"{base(app)}/dashboard/api/entries?q=%23{receipt}") as data:
        found = (await data.json())["entries"]

    assert await entry_status(app, receipt) == "accepted"
    assert [e["receipt"] for e in found] == [receipt]
    assert found[0]["scores"] >= 1


async def test_organizer_withdraws_and_restores_with_csrf_only(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    receipt = await first_accepted(app)
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass
    csrf = await csrf_of(client, app)
    url = f"{base(app)}/dashboard/entries/{receipt}"

    async with client.post(f"{url}/withdraw", data={"csrf": "forged"}) as no_csrf:
        assert no_csrf.status == 403
    assert await entry_status(app, receipt) == "accepted"
    async with client.post(f"{url}/withdraw", data={"csrf": csrf}, allow_redirects=False) as done:
        assert done.status == 303
    assert await entry_status(app, receipt) == "withdrawn"
    async with client.post(f"{url}/restore", data={"csrf": csrf}, allow_redirects=False):
        pass
    assert await entry_status(app, receipt) == "accepted"


async def test_refusals_are_answered_with_their_reason_and_status(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    receipt = await first_accepted(app)
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass
    csrf = await csrf_of(client, app)
    entries = f"{base(app)}/dashboard/entries"

    async with client.post(f"{entries}/999999/withdraw", data={"csrf": csrf}) as unknown:
        assert unknown.status == 404
        assert "没有找到回执 #999999" in await unknown.text()
    async with client.post(f"{entries}/{receipt}/restore", data={"csrf": csrf}) as not_withdrawn:
        assert not_withdrawn.status == 400
        assert "没有撤回，无需恢复" in await not_withdrawn.text()
    async with client.post(f"{entries}/{receipt}/score", data={"csrf": csrf}) as not_a_judge:
        assert not_a_judge.status == 403
    assert await entry_status(app, receipt) == "accepted"


# ------------------------------------------------------------------ downloads


async def test_concurrent_downloads_and_chat_exports_all_give_complete_files(
    start_app: AppStarter,
    contest_config: ContestWriter,
    tmp_path: Path,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    """Twelve downloads and two /导出 at once: every one a whole workbook (they used to share
    one temporary file per second and break each other)."""
    app = await seeded_app(start_app, contest_config, tmp_path)
    await onebot.connect(app.ws_url)
    onebot.on_action("upload_private_file", lambda params: None)
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass

    async def download() -> tuple[int, bytes]:
        async with client.get(f"{base(app)}/dashboard/downloads/xlsx") as answer:
            return answer.status, await answer.read()

    async def export_in_chat() -> None:
        await onebot.post_private_message(ORGANIZER_ID, "/导出")

    results = await asyncio.gather(
        *[download() for _ in range(12)], *[export_in_chat() for _ in range(2)]
    )
    uploads = [await onebot.wait_call("upload_private_file", timeout=30) for _ in range(4)]

    downloads = [r for r in results if r is not None]
    assert [status for status, _ in downloads] == [200] * 12
    workbooks = [body for _, body in downloads]
    workbooks += [
        base64.b64decode(u["file"].removeprefix("base64://"))
        for u in uploads
        if u["name"].endswith(".xlsx")
    ]
    assert len(workbooks) == 14
    with sqlite3.connect(database_file(app)) as db:
        total = db.execute("SELECT count(*) FROM entry").fetchone()[0]
    for body in workbooks:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        assert book.sheetnames == ["单位进度", "全部作品"]
        assert sum(1 for _ in book["全部作品"].iter_rows()) == total + 1
    # One export job: nothing changed between the requests, so all share its two files.
    names = {u["name"] for u in uploads}
    assert len(names) == 2
    exports = Path(app.env["BOT_DATA_DIR"]) / "exports"
    assert sorted(p.name for p in exports.iterdir()) == sorted(names)


async def test_dashboard_command_in_a_group_sends_no_link(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=open_contest(contest_config))
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/后台")
    reply = await onebot.wait_sent(group_id=GROUP_ID)
    assert "私聊" in reply.text
    assert not LINK.search(reply.text)


async def test_secretary_gets_no_link(
    start_app: AppStarter, contest_config: ContestWriter, onebot: FakeOneBot
) -> None:
    app = await start_app(config=open_contest(contest_config))
    await onebot.connect(app.ws_url)
    await onebot.post_private_message(SECRETARY_ID, "/后台")
    reply = await onebot.wait_sent(user_id=SECRETARY_ID)
    assert "仅限评委和组织者" in reply.text
    assert not LINK.search(reply.text)


async def test_faq_page_shows_how_often_each_entry_was_answered(
    start_app: AppStarter,
    contest_config: ContestWriter,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await start_app(config=open_contest(contest_config))
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(GROUP_ID, 30_001, "/问 博客链接怎么复制")
    await onebot.wait_sent(group_id=GROUP_ID)
    async with await sign_in(client, await login_link(onebot, JUDGE_ID)):
        pass

    # The answer is counted once the platform confirms it was sent, a moment after the
    # member sees it: wait for the count (at most 5 s) rather than race it.
    for _ in range(100):
        async with client.get(f"{base(app)}/dashboard/api/faq") as data:
            body = await data.json()
        if body["most_asked"]:
            break
        await asyncio.sleep(0.05)
    async with client.get(f"{base(app)}/dashboard/faq") as page:
        html = await page.text()

    row = re.search(r'<tr data-entry="blog-link">(.*?)</tr>', html, re.DOTALL)
    assert row
    assert re.search(r'<td class="num">1</td>', row.group(1))
    assert "不统计" not in html
    assert body["counts_answers"] is True
    [asked] = body["most_asked"]
    assert (asked["id"], asked["count"]) == ("blog-link", 1)
    assert asked["question"]


async def test_organizer_attaches_an_unanswered_question_and_a_judge_may_not(
    start_app: AppStarter,
    contest_config: ContestWriter,
    onebot: FakeOneBot,
    client: aiohttp.ClientSession,
) -> None:
    app = await start_app(config=open_contest(contest_config))
    await onebot.connect(app.ws_url)
    await onebot.post_group_message(GROUP_ID, 30_001, "/问 作品被退回来了咋办")
    await onebot.wait_sent(group_id=GROUP_ID)
    await onebot.post_group_message(GROUP_ID, 30_002, "/问 作品被退回来了咋办呀")
    await onebot.wait_sent(group_id=GROUP_ID)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as judge:
        async with await sign_in(judge, await login_link(onebot, JUDGE_ID)):
            pass
        async with judge.get(f"{base(app)}/dashboard/faq") as page:
            html = await page.text()
        judge_csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert judge_csrf
        assert "作品被退回来了咋办" in html
        assert "另有 1 种相近问法：作品被退回来了咋办呀" in html
        assert "步骤待核对的问答" in html  # the shipped faq.yaml has unchecked steps
        assert "归入</button>" not in html
        async with judge.get(f"{base(app)}/dashboard/api/faq") as data:
            question = (await data.json())["unanswered"][0]
        async with judge.post(
            f"{base(app)}/dashboard/faq/learn",
            data={"csrf": judge_csrf.group(1), "unanswered": question["id"], "entry": "x"},
        ) as refused:
            assert refused.status == 403
    async with await sign_in(client, await login_link(onebot, ORGANIZER_ID)):
        pass
    async with client.get(f"{base(app)}/dashboard/faq") as page:
        html = await page.text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    entry = re.search(r'<option value="([\w-]+)">', html)
    assert csrf
    assert entry

    async with client.post(
        f"{base(app)}/dashboard/faq/learn",
        data={"csrf": csrf.group(1), "unanswered": question["id"], "entry": entry.group(1)},
        allow_redirects=False,
    ) as learned:
        assert learned.status == 303
    async with client.get(f"{base(app)}/dashboard/api/faq") as data:
        left = (await data.json())["unanswered"]

    assert question["text"] == "作品被退回来了咋办"
    assert (question["count"], question["alike"]) == (2, ["作品被退回来了咋办呀"])
    assert left == []
