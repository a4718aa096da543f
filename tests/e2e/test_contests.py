"""Two contests in one deployment (issue 15, part 4), through the real app over real WebSocket
and HTTP, on SQLite and PostgreSQL: config/contest.toml (南湖, group A) and
config/contests/xihu.toml (西湖, group B). Neither contest's people, units, receipts or pages
ever show the other's."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
import sqlalchemy as sa

from bot.demo.onebot import FakeOneBot
from bot.storage.db import make_engine, search_path

from .conftest import (
    GROUP_ID,
    ORGANIZER_ID,
    REPO_ROOT,
    TOKEN,
    AppStarter,
    ContestWriter,
    write_contest,
)
from .test_dashboard import base, login_link, sign_in
from .test_rounds import PAGES
from .test_showcase import publish

EVERY_PAGE = PAGES  # every dashboard page (tests/e2e/test_rounds.py)
GROUP_B = 700_000_222
ONLY_A = "青枫社区"  # a unit of A's that no example text mentions
ORGANIZER_B = 50_000
SECRETARY_A = 10_001  # 南湖街道, contest A
SECRETARY_B = 40_001  # 西湖街道, contest B


def _window() -> dict[str, Any]:
    local = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    return {"start": local - dt.timedelta(days=1), "deadline": local + dt.timedelta(days=7)}


def _configs(contest_config: ContestWriter, b: dict[str, Any] | None = None) -> Path:
    """Contest A (config/contest.toml) and B (config/contests/xihu.toml; `b`: more of B's
    settings)."""
    common = {
        "submission": {"verify": False},
        "faq": {"passive": False},
        "messages": {"burst": 1000, "interval": 0.001},
    }
    units_a = [
        {"name": "南湖街道", "category": "town", "secretaries": [SECRETARY_A]},
        {"name": ONLY_A, "category": "town", "secretaries": [10_003]},
    ]
    first = contest_config({"contest": _window(), "units": units_a, **common}, from_shipped=False)
    folder = first.parent / "contests"
    folder.mkdir(exist_ok=True)
    write_contest(
        folder / "xihu.toml",
        {
            "contest": {
                "name": "西湖区学习博客大赛",
                **_window(),
                "groups": [GROUP_B],
                "organizers": [ORGANIZER_B],
            },
            "units": [
                {"name": "西湖街道", "category": "town", "secretaries": [SECRETARY_B]},
                {"name": "区文旅局", "category": "dept", "secretaries": [40_002]},
            ],
            **common,
            **(b or {}),
        },
        from_shipped=False,
    )
    return first


async def _say(onebot: FakeOneBot, group: int, user: int, text: str) -> str:
    event = await onebot.post_group_message(group, user, text)
    quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
    reply = await onebot.wait_sent(
        group_id=group, predicate=lambda m: bool(m.segments) and m.segments[0] == quoted
    )
    return reply.text + "\n".join(reply.node_texts)


async def _count(url: str, schema: str | None, sql: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite+aiosqlite:///"))
        if schema:
            path = path.with_name(f"{path.stem}.xihu{path.suffix}")
        url = f"sqlite+aiosqlite:///{path}"
        engine = make_engine(url)
    else:
        engine = make_engine(url, **(search_path(schema) if schema else {}))
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def test_two_contests_in_one_deployment_never_see_each_other(
    start_app: AppStarter, contest_config: ContestWriter, shared: str
) -> None:
    app = await start_app(config=_configs(contest_config), env={"DATABASE_URL": shared})
    async with FakeOneBot(2_000_000_001, TOKEN) as onebot:
        onebot.set_member(GROUP_B, SECRETARY_B, card="西湖联络员")
        await onebot.connect(app.ws_url)

        # Each contest numbers its own receipts; a secretary counts only in her own contest.
        said = await _say(onebot, GROUP_ID, SECRETARY_A, "/提交 张三 https://weibo.com/1/Aa1zz")
        assert "#1" in said, said
        said = await _say(onebot, GROUP_B, SECRETARY_B, "/提交 李四 https://weibo.com/1/Bb1zz")
        assert "#1" in said, said
        said = await _say(onebot, GROUP_B, SECRETARY_A, "/提交 张三 https://weibo.com/1/Aa2zz")
        assert "绑定" in said, said
        # The same link in the other contest is that contest's own entry, not a duplicate.
        said = await _say(onebot, GROUP_B, SECRETARY_B, "/提交 李四 https://weibo.com/1/Aa1zz")
        assert "#2" in said, said

        # Every organizer command that lists or counts, in B's group: nothing of A.
        for command in ("/单位 列表", "/提醒 预览", "/评奖 预览", "/帮助", "/我的单位"):
            said = await _say(onebot, GROUP_B, ORGANIZER_B, command)
            assert ONLY_A not in said, (command, said)
        assert ONLY_A in await _say(onebot, GROUP_ID, ORGANIZER_ID, "/单位 列表")
        progress_b = await _say(onebot, GROUP_B, ORGANIZER_B, "/进度")
        assert "西湖街道" in progress_b
        assert "南湖街道" not in progress_b
        progress_a = await _say(onebot, GROUP_ID, ORGANIZER_ID, "/进度")
        assert "南湖街道" in progress_a
        assert "西湖街道" not in progress_a

        # B's organizer is nobody in A: A's organizer commands are refused to him.
        said = await _say(onebot, GROUP_ID, ORGANIZER_B, "/单位 绑定 南湖街道 50001")
        assert "组织者" in said, said
        # Another contest's receipt: #1 in B is B's, A's #1 stays accepted.
        said = await _say(onebot, GROUP_B, SECRETARY_B, "/撤回 1")
        assert "撤回" in said, said
        assert (
            await _count(shared, None, "SELECT count(*) FROM entry WHERE status = 'accepted'") == 1
        )
        schema = "contest_xihu"
        accepted_b = "SELECT count(*) FROM entry WHERE status = 'accepted'"
        assert await _count(shared, schema, accepted_b) == 1
        assert (
            await _count(shared, schema, "SELECT count(*) FROM unit WHERE name = '南湖街道'") == 0
        )

        # The dashboards: each organizer's link signs in to their own contest only.
        for organizer, own, other in (
            (ORGANIZER_B, "西湖街道", "南湖街道"),
            (ORGANIZER_ID, "南湖街道", "西湖街道"),
        ):
            link = await login_link(onebot, organizer)
            if organizer == ORGANIZER_B:
                assert "t=xihu--" in link
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
                async with await sign_in(client, link) as signed:
                    assert signed.status == 303
                for path in EVERY_PAGE:
                    async with client.get(f"{base(app)}/dashboard{path}") as page:
                        text = await page.text()
                        assert page.status == 200, path
                        assert other not in text, (organizer, path)
                        assert organizer == ORGANIZER_ID or ONLY_A not in text, path
                for path in ("/units", "/", "/api/units"):
                    async with client.get(f"{base(app)}/dashboard{path}") as page:
                        assert own in await page.text(), path
                async with client.get(f"{base(app)}/dashboard/entries") as page:
                    text = await page.text()
                if organizer == ORGANIZER_B:
                    assert "Bb1zz" in text
                    assert not re.search(r"Aa1zz.*南湖", text)
                else:
                    assert "Bb1zz" not in text


async def test_each_contest_has_its_own_public_showcase(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> None:
    database = tmp_path / "s.db"
    tiers = [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 1}]
    showcase_b = {"judging": {"tiers": tiers, "public_showcase": True}}
    app = await start_app(
        config=_configs(contest_config, b=showcase_b),
        env={"DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
    )
    async with FakeOneBot(2_000_000_001, TOKEN) as onebot:
        await onebot.connect(app.ws_url)
        for n in (1, 2):
            said = await _say(
                onebot, GROUP_B, SECRETARY_B, f"/提交 李四 https://weibo.com/1/Sb{n}zz"
            )
            assert f"#{n}" in said, said
    await publish(database.with_name("s.xihu.db"), [1, 2])

    async with aiohttp.ClientSession() as web:

        async def get(path: str) -> tuple[int, str]:
            async with web.get(f"{base(app)}{path}") as answer:
                return answer.status, await answer.text()

        # A's showcase is off: its page does not exist, B's published results do not leak there.
        for path in ("/showcase", "/showcase/style.css"):
            status, text = await get(path)
            assert (status, "一等奖" in text) == (404, False), path
        status, html = await get("/showcase?contest=xihu")
        assert status == 200
        assert "<h2>一等奖" in html
        assert "Sb1zz" in html or "张三" in html
        assert 'href="/showcase/style.css?contest=xihu"' in html
        assert (await get("/showcase/style.css?contest=xihu"))[0] == 200
        # Unknown, hostile and oversized names: the page does not exist, nothing is echoed.
        for wanted in ("nosuch", "<script>alert(1)</script>", "xihu'--", "x" * 5000, "%00"):
            status, text = await get(f"/showcase?contest={quote(wanted)}")
            assert status == 404, wanted[:20]
            assert "没有这个页面" in text
            assert "<script>alert" not in text


async def test_the_api_token_reads_any_contest_and_a_session_only_its_own(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> None:
    token = "district-api-token-0123456789"
    app = await start_app(
        config=_configs(contest_config),
        env={
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}",
            "DASHBOARD_API_TOKEN": token,
        },
    )
    bearer = {"Authorization": f"Bearer {token}"}

    async def units(client: aiohttp.ClientSession, query: str, **kw: Any) -> tuple[int, Any]:
        async with client.get(f"{base(app)}/dashboard/api/units{query}", **kw) as answer:
            return answer.status, await answer.json()

    async with aiohttp.ClientSession() as client:
        status, body = await units(client, "", headers=bearer)
        assert status == 200
        assert {u["name"] for u in body["units"]} >= {"南湖街道", ONLY_A}
        status, body = await units(client, "?contest=xihu", headers=bearer)
        assert status == 200
        assert body["contest"] == "西湖区学习博客大赛"
        assert {u["name"] for u in body["units"]} == {"西湖街道", "区文旅局"}
        for wanted in ("nosuch", "<script>", "x" * 5000, "xihu'--", "%00"):
            status, body = await units(client, f"?contest={quote(wanted)}", headers=bearer)
            assert (status, body["error"]) == (404, "unknown_contest"), wanted[:20]
            assert "<script>" not in body["message"]
        # Without the token, naming a contest opens nothing.
        status, body = await units(client, "?contest=xihu")
        assert status == 401

    # A session reads its own contest whatever the query names.
    async with FakeOneBot(2_000_000_001, TOKEN) as onebot:
        await onebot.connect(app.ws_url)
        link = await login_link(onebot, ORGANIZER_ID)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            async with await sign_in(client, link):
                pass
            status, body = await units(client, "?contest=xihu")
            assert status == 200
            assert "西湖街道" not in {u["name"] for u in body["units"]}


PROVINCE = 60_000


async def test_a_province_viewer_reads_every_contest_and_changes_nothing(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    env["PROVINCE_VIEWERS"] = f'["{PROVINCE}"]'
    app = await start_app(config=_configs(contest_config), env=env)
    async with FakeOneBot(2_000_000_001, TOKEN) as onebot:
        await onebot.connect(app.ws_url)
        await _say(onebot, GROUP_ID, SECRETARY_A, "/提交 张三 https://weibo.com/1/Pa1zz")
        await _say(onebot, GROUP_B, SECRETARY_B, "/提交 李四 https://weibo.com/1/Pb1zz")
        await _say(onebot, GROUP_B, SECRETARY_B, "/提交 李四 https://weibo.com/1/Pb2zz")
        # In a group, a province viewer is nobody special: no link there.
        said = await _say(onebot, GROUP_ID, PROVINCE, "/后台")
        assert "http" not in said

        link = await login_link(onebot, PROVINCE)
        assert "t=province--" in link
        root = f"{base(app)}/dashboard"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            async with await sign_in(client, link) as signed:
                assert signed.status == 303
            async with client.get(f"{root}/province") as page:
                text = await page.text()
                assert page.status == 200, text[:300]
            assert "西湖区学习博客大赛" in text
            assert "南湖" in text
            assert re.search(r'data-contest="xihu">.*?class="accepted">2', text, re.S), text

            async with client.get(f"{root}/contest/xihu") as chosen:
                assert chosen.status == 200
            async with client.get(f"{root}/units") as page:
                text = await page.text()
            assert "西湖街道" in text
            assert "南湖街道" not in text
            csrf = re.search(r'name="csrf" value="([^"]+)"', text)
            assert csrf
            async with client.post(
                f"{root}/entries/1/withdraw", data={"csrf": csrf.group(1)}
            ) as refused:
                assert refused.status == 403
                assert "省级" in await refused.text()
            for which in ("evil", "../main", "x" * 300, "%00"):
                async with client.get(f"{root}/contest/{which}") as bad:
                    assert bad.status == 404, which
            async with client.get(f"{root}/contest/main") as chosen:
                assert chosen.status == 200
            async with client.get(f"{root}/units") as page:
                text = await page.text()
            assert "南湖街道" in text
            assert "西湖街道" not in text
        accepted = "SELECT count(*) FROM entry WHERE status = 'accepted'"
        assert await _count(env["DATABASE_URL"], "contest_xihu", accepted) == 2

        # An organizer of one contest does not see the province page.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            await sign_in(client, await login_link(onebot, ORGANIZER_ID))
            async with client.get(f"{root}/province") as page:
                assert page.status == 403


def test_the_command_line_works_on_a_chosen_contest(
    contest_config: ContestWriter, tmp_path: Path
) -> None:
    """`round new --contest xihu` starts xihu's next round only; an unknown contest is named."""
    config = _configs(contest_config)
    db = tmp_path / "cli.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "BOT_CONFIG": str(config),
        "HOME": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    assert run("round", "list").returncode == 0
    done = run("round", "new", "--yes", "--label", "西湖第二年", "--contest", "xihu")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "西湖第二年 · 进行中" in run("round", "list", "--contest", "xihu").stdout
    assert "进行中" in (first := run("round", "list").stdout)
    assert "西湖第二年" not in first
    assert (tmp_path / "cli.xihu.round-1.sqlite").is_file()
    unknown = run("round", "list", "--contest", "nope")
    assert unknown.returncode == 1
    assert "xihu" in unknown.stdout
    refused = run("migrate-to", "postgresql+asyncpg://u@127.0.0.1:1/x")
    assert refused.returncode == 1
    assert "多个大赛" in refused.stdout


async def test_each_contest_reminds_its_own_group_of_its_own_units(
    start_app: AppStarter, contest_config: ContestWriter, tmp_path: Path
) -> None:
    """Automatic reminders on the real clock (deadlines ~40 s ahead): A's reminder in A's group
    names A's units, B's in B's group names B's — each sent once."""
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0, tzinfo=None)
    soon = {"start": now - dt.timedelta(days=1), "deadline": now + dt.timedelta(seconds=40)}
    reminders = {"offsets": ["30s"], "daily_at": "", "quiet_hours": [], "private": False}
    config = _configs(contest_config)
    for path in (config, config.parent / "contests" / "xihu.toml"):
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        data["contest"].update(soon)
        data["reminders"] = reminders
        write_contest(path, data, from_shipped=False)
    app = await start_app(config=config, env={"REMINDERS_AUTORUN": "true"})
    async with FakeOneBot(2_000_000_001, TOKEN) as onebot:
        await onebot.connect(app.ws_url)
        in_a = await onebot.wait_sent(
            group_id=GROUP_ID, predicate=lambda m: "进度提醒" in m.text, timeout=30
        )
        in_b = await onebot.wait_sent(
            group_id=GROUP_B, predicate=lambda m: "进度提醒" in m.text, timeout=30
        )
        await onebot.expect_silence(2.0, group_id=GROUP_B)
    assert ONLY_A in in_a.text
    assert "西湖街道" not in in_a.text
    assert "西湖街道" in in_b.text
    assert ONLY_A not in in_b.text
    assert "西湖区学习博客大赛" in in_b.text
    assert str(SECRETARY_B) in in_b.mentions
    assert str(SECRETARY_A) not in in_b.mentions
    assert len([m for m in onebot.sent(group_id=GROUP_B) if "进度提醒" in m.text]) == 1
