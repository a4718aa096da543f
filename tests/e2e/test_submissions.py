"""Submissions in the real app (`python -m bot`) against the fake OneBot: submit, progress,
withdraw; duplicates one after the other and at the same moment; refused platforms; verification
against a local HTTPS server; a restart and a crash in between; the organizer's export.

The contest window is built around the real clock (start yesterday, deadline in a week), since
the app runs with its real clock.

Verification: submitted links are normalised to `https://…` on port 443, and links with another
port are refused, so the local page server must answer HTTPS on port 443. It does so on a random
address of the loopback network (127.x.y.z, so it cannot collide with anything on 127.0.0.1:443)
with a certificate for blog.sina.com.cn signed by a throwaway CA made here with `openssl`; the
app gets `[submission] verify_resolve` (blog.sina.com.cn -> that address, honoured only with
`verify_allow_private = true`) and `SSL_CERT_FILE` pointing at the CA, so it checks the
certificate as it would in production. Binding port 443 needs root (or CAP_NET_BIND_SERVICE):
without it, or without `openssl`, the verification test is skipped and says why.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import random
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from aiohttp import web

from bot.demo.onebot import FakeOneBot, SentMessage, at, reply, text
from tests.databases import postgres_database

from .conftest import (
    GROUP_ID,
    ORGANIZER_ID,
    SELF_ID,
    TOKEN,
    AppProcess,
    AppStarter,
    ContestWriter,
)

TZ = ZoneInfo("Asia/Shanghai")
NANHU = 10_005  # 南湖街道's secretary in the shipped config/contest.toml
XINJIA = 10_004  # 新嘉街道's secretary
MEMBER_ID = 30_001

BLOG_HOST = "blog.sina.com.cn"
WEIBO = "https://weibo.com/1234567890/Abc123"
WEIBO_STORED = "https://m.weibo.cn/status/22432863907"


def blog(name: str | int) -> str:
    return f"https://{BLOG_HOST}/s/blog_{name}.html"


def shown(url: str) -> str:
    return url.removeprefix("https://")


def _window(now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """Start yesterday, deadline in a week: local times in the contest's timezone."""
    local = (now or dt.datetime.now(TZ)).astimezone(TZ).replace(tzinfo=None, microsecond=0)
    return {"start": local - dt.timedelta(days=1), "deadline": local + dt.timedelta(days=7)}


def _overrides(**submission: Any) -> dict[str, Any]:
    return {
        "contest": _window(),
        "messages": {"burst": 1000, "interval": 0.001},
        "submission": {"verify": False, **submission},
        "faq": {"passive": False},  # chatter with links must not draw FAQ answers here
    }


# --- databases ---------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """Extra app environment: nothing for SQLite (the data dir's bot.db), or DATABASE_URL of a
    fresh PostgreSQL database (skipped without TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        yield {}
        return
    async with postgres_database() as url:
        yield {"DATABASE_URL": url}


@pytest.fixture
async def app(
    start_app: AppStarter, contest_config: ContestWriter, database: dict[str, str]
) -> AppProcess:
    return await start_app(config=contest_config(_overrides()), env=database)


@pytest.fixture
async def chat(app: AppProcess, onebot: FakeOneBot) -> FakeOneBot:
    await onebot.connect(app.ws_url)
    return onebot


async def _say(onebot: FakeOneBot, user_id: int, message: Any, **sender: Any) -> SentMessage:
    """Post a group message and return the bot's answer to it (the reply quoting it)."""
    event = await onebot.post_group_message(GROUP_ID, user_id, message, **sender)
    return await _answer_to(onebot, event)


async def _answer_to(onebot: FakeOneBot, event: dict[str, Any], timeout: float = 10) -> SentMessage:
    quoted = {"type": "reply", "data": {"id": str(event["message_id"])}}
    return await onebot.wait_sent(
        group_id=GROUP_ID,
        predicate=lambda m: bool(m.segments) and m.segments[0] == quoted,
        timeout=timeout,
    )


async def _reconnect(app: AppProcess) -> FakeOneBot:
    fresh = FakeOneBot(SELF_ID, TOKEN)
    await fresh.connect(app.ws_url)
    return fresh


# --- the happy path ----------------------------------------------------------------------------


async def test_submit_progress_withdraw_progress(chat: FakeOneBot) -> None:
    submitted = await _say(chat, NANHU, f"/提交 张三 {WEIBO} 李四 {blog(1)}")
    assert submitted.text == "#1 已登记（张三）\n#2 已登记（李四）\n南湖街道 已提交 2/50"
    assert (await _say(chat, NANHU, "/进度")).text == "南湖街道 已提交 2/50"

    withdrawn = await _say(chat, NANHU, "/撤回 #1")
    assert withdrawn.text == "#1 已撤回。\n南湖街道 已提交 1/50"
    assert (await _say(chat, NANHU, "/进度")).text == "南湖街道 已提交 1/50"

    mine = await _say(chat, NANHU, "/我的提交")
    assert mine.text.splitlines() == [
        "「南湖街道」的作品（第 1/1 页，共 1 篇，另有 1 篇已撤回）：",
        f"#2 李四 新浪博客 {shown(blog(1))}",
        f"#1 张三 新浪微博 {shown(WEIBO)}【已撤回】",
    ]


async def test_secretary_submits_by_replying_to_a_members_message(chat: FakeOneBot) -> None:
    """The QQ client sends reply + @author + text; the adapter fetches the quoted message."""
    chat.set_member(GROUP_ID, MEMBER_ID, card="王五")
    posted = await chat.post_group_message(
        GROUP_ID, MEMBER_ID, f"这是我的学习心得，请大家指正：{blog('wangwu')}"
    )
    answer = await _say(chat, NANHU, [reply(posted["message_id"]), at(MEMBER_ID), text(" /提交")])
    assert answer.text == "#1 已登记（王五）\n南湖街道 已提交 1/50"
    assert answer.mentions == []


# --- duplicates --------------------------------------------------------------------------------


async def test_sequential_duplicate_names_the_first_receipt(chat: FakeOneBot) -> None:
    assert (await _say(chat, NANHU, f"/提交 {blog(1)}")).text.startswith("#1 已登记")
    again = await _say(chat, XINJIA, "/提交 http://www.blog.sina.com.cn/s/blog_1.html?from=qq")
    assert again.text == f"重复：{shown(blog(1))} 已由「南湖街道」提交（#1）\n新嘉街道 已提交 0/50"
    own = await _say(chat, NANHU, f"/提交 {blog(1)}")
    assert own.text == f"重复：{shown(blog(1))} 本单位已提交（#1）\n南湖街道 已提交 1/50"


async def test_concurrent_duplicates_end_with_exactly_one_entry(chat: FakeOneBot) -> None:
    """Two secretaries of two units post the same link at the same moment, ten times over."""
    rounds = 10
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for n in range(rounds):
        first, second = (NANHU, XINJIA) if n % 2 == 0 else (XINJIA, NANHU)
        events = (
            chat.group_message(GROUP_ID, first, f"/提交 {blog(n)}"),
            chat.group_message(GROUP_ID, second, f"/提交 {blog(n)}"),
        )
        await chat.post_many(events)  # back to back, without waiting for an answer
        pairs.append(events)

    units = {NANHU: "南湖街道", XINJIA: "新嘉街道"}
    receipts: list[int] = []
    for n, events in enumerate(pairs):
        answers = [(await _answer_to(chat, e)).text.splitlines()[0] for e in events]
        accepted = [a for a in answers if a.endswith("已登记")]
        assert len(accepted) == 1, answers
        receipt = int(accepted[0].removeprefix("#").split()[0])
        winner = events[answers.index(accepted[0])]["user_id"]
        [duplicate] = [a for a in answers if a not in accepted]
        assert duplicate == f"重复：{shown(blog(n))} 已由「{units[winner]}」提交（#{receipt}）"
        receipts.append(receipt)
    assert sorted(receipts) == list(range(1, rounds + 1))  # gap-free: no number lost to a race

    nanhu = (await _say(chat, ORGANIZER_ID, "/进度 南湖街道")).text
    xinjia = (await _say(chat, ORGANIZER_ID, "/进度 新嘉街道")).text
    counts = [int(re.search(r"已提交 (\d+)/", t)[1]) for t in (nanhu, xinjia)]  # type: ignore[index]
    assert sum(counts) == rounds


# --- refused -----------------------------------------------------------------------------------


async def test_refused_platform_and_hostile_links_change_nothing(chat: FakeOneBot) -> None:
    answer = await _say(
        chat,
        NANHU,
        text(
            "/提交 https://www.zhihu.com/p/1 javascript:alert(1) http://127.0.0.1/x [CQ:at,qq=all]"
        ),
    )
    assert answer.text.splitlines() == [
        "未登记：www.zhihu.com/p/1 —— 不是大赛指定的平台"
        "（可用：新浪博客、新浪微博、腾讯、新华网、人民网）",
        "未登记：javascript:alert(1) —— 只收 http:// 或 https:// 开头的网页链接"
        "（这是 javascript: 链接）",
        "未登记：127.0.0.1/x —— 不能用 IP 地址，请发网站域名的链接",
        "南湖街道 已提交 0/50",
    ]
    assert answer.mentions == []
    assert (await _say(chat, NANHU, "/我的提交")).text == "「南湖街道」还没有提交作品。"


# --- restart and crash -------------------------------------------------------------------------


async def test_entries_survive_a_restart_and_stay_duplicates(
    app: AppProcess, chat: FakeOneBot
) -> None:
    assert (await _say(chat, NANHU, f"/提交 张三 {blog(1)}")).text.startswith("#1 已登记")
    await chat.close()
    await app.restart()

    fresh = await _reconnect(app)
    try:
        mine = await _say(fresh, NANHU, "/我的提交")
        assert mine.text.splitlines()[1] == f"#1 张三 新浪博客 {shown(blog(1))}"
        again = await _say(fresh, XINJIA, f"/提交 {blog(1)}")
        assert again.text.startswith(f"重复：{shown(blog(1))} 已由「南湖街道」提交（#1）")
        # Receipts carry on after the restart.
        assert (await _say(fresh, NANHU, f"/提交 {blog(2)}")).text.startswith("#2 已登记")
    finally:
        await fresh.close()


async def test_nothing_accepted_is_lost_when_the_app_is_killed(
    app: AppProcess, chat: FakeOneBot
) -> None:
    assert (await _say(chat, NANHU, f"/提交 {blog(1)} {blog(2)}")).text.startswith("#1 已登记")
    app.kill()  # SIGKILL right after the receipt: no shutdown hook runs
    await chat.close()
    await app.start()

    fresh = await _reconnect(app)
    try:
        assert (await _say(fresh, NANHU, "/进度")).text == "南湖街道 已提交 2/50"
        again = await _say(fresh, NANHU, f"/提交 {blog(2)} {blog(3)}")
        assert again.text == (
            f"重复：{shown(blog(2))} 本单位已提交（#2）\n#3 已登记\n南湖街道 已提交 3/50"
        )
    finally:
        await fresh.close()


# --- export ------------------------------------------------------------------------------------

PROGRESS_HEADER = ("单位", "类别", "配额", "已提交", "逾期", "存疑", "完成率")
ENTRY_HEADER = (
    "回执编号",
    "单位",
    "作者",
    "链接",
    "平台",
    "标题",
    "字数",
    "核验结果",
    "存疑原因",
    "提交人",
    "提交时间",
    "状态",
    "提交的原链接",  # added later, at the end
)


async def test_organizer_exports_a_workbook_that_opens(chat: FakeOneBot) -> None:
    chat.on_action("upload_private_file", lambda params: None)
    await _say(chat, NANHU, f"/提交 张三 {blog(1)} 李四 {WEIBO}")
    await _say(chat, XINJIA, f"/提交 王五 {blog(2)}")
    await _say(chat, NANHU, "/撤回 2")

    answer = await _say(chat, ORGANIZER_ID, "/导出")
    assert answer.text == "导出完成，文件已私聊发送给您。"
    workbook_call = await chat.wait_call("upload_private_file", timeout=15)
    csv_call = await chat.wait_call("upload_private_file", timeout=15)
    assert int(workbook_call["user_id"]) == int(csv_call["user_id"]) == ORGANIZER_ID
    assert workbook_call["name"].endswith(".xlsx")
    assert csv_call["name"].endswith(".csv")

    data = base64.b64decode(workbook_call["file"].removeprefix("base64://"))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["单位进度", "全部作品"]
    units = list(book["单位进度"].iter_rows(values_only=True))
    assert units[0] == PROGRESS_HEADER
    by_unit = {row[0]: row for row in units[1:]}
    assert by_unit["南湖街道"][1:4] == ("镇、街道", 50, 1)
    assert by_unit["新嘉街道"][1:4] == ("镇、街道", 50, 1)
    entries = list(book["全部作品"].iter_rows(values_only=True))
    assert entries[0] == ENTRY_HEADER
    rows = [(r[0], r[1], r[2], r[3], r[4], r[9], r[11]) for r in entries[1:]]
    # 提交人 by name and number: the fake OneBot's nickname for a secretary is 用户<QQ>.
    nanhu, xinjia = f"用户{NANHU}（{NANHU}）", f"用户{XINJIA}（{XINJIA}）"
    assert rows == [
        (1, "南湖街道", "张三", blog(1), "新浪博客", nanhu, "有效"),
        (2, "南湖街道", "李四", WEIBO_STORED, "新浪微博", nanhu, "已撤回"),
        (3, "新嘉街道", "王五", blog(2), "新浪博客", xinjia, "有效"),
    ]
    # Beside the normalised link, the one the secretary pasted, to check against their list.
    assert entries[2][12] == WEIBO

    csv_text = base64.b64decode(csv_call["file"].removeprefix("base64://")).decode("utf-8-sig")
    assert csv_text.splitlines()[0] == ",".join(ENTRY_HEADER)
    assert len(csv_text.splitlines()) == 4


async def test_export_upload_refused_gives_the_saved_path(
    app: AppProcess, chat: FakeOneBot
) -> None:
    """The fake OneBot does not know upload_private_file (as plain OneBot v11 implementations)."""
    await _say(chat, NANHU, f"/提交 {blog(1)}")
    answer = await _say(chat, ORGANIZER_ID, "/导出")
    lines = answer.text.splitlines()
    assert len(lines) == 2
    paths = [Path(line.split("文件已保存在服务器：", 1)[1]) for line in lines]
    assert [p.suffix for p in paths] == [".xlsx", ".csv"]
    assert all(p.is_file() and p.parent.name == "exports" for p in paths)
    assert all(line.startswith("文件发送失败（") for line in lines)


# --- verification against a local HTTPS server ------------------------------------------------

PARAGRAPH = (
    "学习贯彻党的创新理论，要坚持学思用贯通、知信行统一。我们社区组织党员干部开展读书活动，"
    "结合基层治理实际，撰写学习心得，交流工作体会，推动各项任务落地见效。"
)


def _page(title: str, paragraphs: int, published: dt.date) -> str:
    body = "".join(f"<p>{PARAGRAPH}</p>\n" for _ in range(paragraphs))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}_新浪博客</title></head><body><nav>首页 博文目录</nav>"
        f"<div class='articalContent'><span class='time'>({published:%Y-%m-%d} 10:12:33)</span>"
        f"{body}</div><footer>版权所有</footer></body></html>"
    )


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA bundle, server certificate, server key): a throwaway CA and a certificate for
    blog.sina.com.cn signed by it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a certificate for the local blog")
    folder = tmp_path_factory.mktemp("tls")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=e2e throwaway CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", *ec, "-keyout", "site.key", "-out", "site.csr", "-subj", f"/CN={BLOG_HOST}",
        cwd=folder,
    )  # fmt: skip
    (folder / "site.ext").write_text(
        f"subjectAltName=DNS:{BLOG_HOST}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        "x509", "-req", "-in", "site.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "site.pem", "-days", "2", "-extfile", "site.ext",
        cwd=folder,
    )  # fmt: skip
    return folder / "ca.pem", folder / "site.pem", folder / "site.key"


class BlogServer:
    """HTTPS on <address>:443 playing blog.sina.com.cn; counts the requests per path."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.hits: dict[str, int] = {}
        self.address = (
            f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        )
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        page = self.pages.get(request.path)
        if page is None:
            raise web.HTTPNotFound()
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def start(self, certificate: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        application = web.Application()
        application.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address, 443, ssl_context=context)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            pytest.skip(
                f"cannot serve HTTPS on {self.address}:443 ({error}); verification e2e needs "
                "root or CAP_NET_BIND_SERVICE, because submitted links are https on port 443"
            )

    async def wait_hit(self, path: str, timeout: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.hits.get(path):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path} was never fetched; hits: {self.hits}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def blog_server(certificates: tuple[Path, Path, Path]) -> AsyncIterator[BlogServer]:
    today = dt.datetime.now(TZ).date()
    server = BlogServer(
        {
            "/s/blog_short.html": _page("短文", 1, today),
            "/s/blog_long.html": _page("长文", 12, today),
        }
    )
    _ca, certificate, key = certificates
    await server.start(certificate, key)
    yield server
    await server.close()


async def test_verification_flags_a_short_post_in_one_follow_up(
    start_app: AppStarter,
    contest_config: ContestWriter,
    onebot: FakeOneBot,
    blog_server: BlogServer,
    certificates: tuple[Path, Path, Path],
) -> None:
    config = contest_config(
        _overrides(
            verify=True,
            verify_allow_private=True,
            verify_resolve={BLOG_HOST: blog_server.address},
            min_chars=600,
        )
    )
    ca, _certificate, _key = certificates
    app = await start_app(config=config, env={"SSL_CERT_FILE": str(ca)})
    await onebot.connect(app.ws_url)

    # A short post: the receipt at once, then one follow-up @-ing the submitter.
    receipt = await _say(onebot, NANHU, f"/提交 张三 {blog('short')}")
    assert receipt.text == "#1 已登记（张三）\n南湖街道 已提交 1/50"
    follow_up = await onebot.wait_sent(
        group_id=GROUP_ID, predicate=lambda m: "请留意" in m.text, timeout=15
    )
    assert follow_up.mentions == [str(NANHU)]
    lines = follow_up.text.strip().splitlines()
    assert lines[0] == "以下作品已登记，但请留意："
    assert re.fullmatch(r"#1 正文约 \d+ 字，少于 600 字", lines[1]), lines
    assert len(lines) == 2

    # A long post: fetched, and nothing to say about it.
    assert (await _say(onebot, NANHU, f"/提交 李四 {blog('long')}")).text.startswith("#2 已登记")
    await blog_server.wait_hit("/s/blog_long.html")
    await onebot.expect_silence(1.5, group_id=GROUP_ID)

    # What was recorded, as the organizer sees it.
    short = await _say(onebot, ORGANIZER_ID, "/核验 1")
    assert short.text.splitlines()[:2] == ["#1 已核验", "标题：短文"]
    assert "存疑：正文约" in short.text
    long = await _say(onebot, ORGANIZER_ID, "/核验 2")
    assert long.text.splitlines()[:2] == ["#2 已核验", "标题：长文"]
    assert "存疑" not in long.text
    mine = await _say(onebot, NANHU, "/我的提交")
    assert mine.text.splitlines()[1:] == [
        "#2 李四 新浪博客 长文",  # the verified title tells the posts apart
        "#1 张三 新浪博客 短文【存疑】",
    ]
