"""`python -m bot demo` as a newcomer runs it: the real bot in a subprocess, the OneBot stand-in,
and the QQ-like page at /try/, driven in Chromium at phone size.

Also: the page's API refuses bad, oversized and hostile input with a clear answer and never a
5xx; the demo starts and answers with the network namespace cut off from everything but
loopback; the production app has no /try/; a HOST other machines could reach is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .conftest import REPO_ROOT, AppProcess, AppStarter, app_env, free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO_ROOT / "docs" / "demo.png"
READY_WITHIN = 15.0  # the promise, from the command to a working page


class Demo:
    """`python -m bot demo` running; `page` is its /try/ address."""

    def __init__(self, app: AppProcess, page_port: int) -> None:
        self.app = app
        self.page_port = page_port
        self.ready_after: float | None = None

    @property
    def page(self) -> str:
        return f"http://127.0.0.1:{self.page_port}/try/"

    @property
    def api(self) -> str:
        return self.page + "api/"


async def wait_ready(demo: Demo, timeout: float = 60.0) -> None:
    began = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while True:
            if not demo.app.running:
                raise AssertionError(f"demo exited:\n{demo.app.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(demo.api + "state") as response:
                    if response.status == 200 and (await response.json())["ready"]:
                        demo.ready_after = time.monotonic() - began
                        return
            if time.monotonic() - began > timeout:
                raise AssertionError(f"demo not ready in {timeout} s:\n{demo.app.log_tail()}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    bot_port, page_port = free_port(), free_port()
    env = app_env(port=bot_port, data_dir=tmp_path / "unused", log_level="INFO")
    app = AppProcess(
        env,
        tmp_path / "demo.log",
        command=(sys.executable, "-m", "bot", "demo", "--port", str(page_port)),
        cwd=tmp_path,  # a newcomer's directory: no .env, no config/
    )
    app.port = page_port  # wait for the page, not the bot
    began = time.monotonic()
    app.spawn()
    running = Demo(app, page_port)
    try:
        await wait_ready(running)
        running.ready_after = time.monotonic() - began
        yield running
    finally:
        await app.stop()


async def say(session: aiohttp.ClientSession, demo: Demo, body: Any) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
    async with session.post(
        demo.api + "say", data=data, headers={"Content-Type": "application/json"}
    ) as response:
        return response.status, await response.json()


async def bot_lines(
    session: aiohttp.ClientSession,
    demo: Demo,
    predicate: Any,
    *,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """The first message from the bot matching `predicate(text, item)`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with session.get(demo.api + "events", params={"after": "0", "wait": "0"}) as r:
            items = (await r.json())["items"]
        for item in items:
            text = "".join(
                p.get("text", "") if p["type"] == "text" else f"@{p.get('name', '')}"
                for p in item["parts"]
                if p["type"] in ("text", "at")
            )
            if item["bot"] and predicate(text, item):
                return item
        await asyncio.sleep(0.2)
    raise AssertionError("no such message from the bot")


# --- the page in a browser --------------------------------------------------------------------

needs_browser = pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="Playwright 或 /usr/bin/chromium 不可用",
)


@needs_browser
async def test_a_newcomer_tries_every_role_in_the_browser(demo: Demo) -> None:
    from playwright.async_api import async_playwright, expect

    from .test_dashboard_browser import CHROMIUM_ARGS

    assert demo.ready_after is not None
    assert demo.ready_after < READY_WITHIN * 2, demo.ready_after
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
        )
        page = await context.new_page()
        await page.goto(demo.page)
        await expect(page.get_by_text("演示环境，消息不会发到 QQ")).to_be_visible()

        # The secretary of 南湖街道 submits a link: the receipt and the progress line.
        await page.locator('[data-persona="secretary"]').click()
        await page.get_by_role("button", name="/提交 张三 新浪博客链接").click()
        receipt = page.locator(".msg.bot .bubble", has_text="已登记（张三）").last
        await expect(receipt).to_be_visible(timeout=15_000)
        await expect(receipt).to_contain_text("南湖街道 已提交 19/50")
        await expect(receipt.locator(".quote")).to_contain_text("/提交 张三")

        # A member asks a question in plain words and gets the answer.
        await page.locator('[data-persona="member"]').click()
        await page.locator("#text").fill("博客密码忘了怎么办")
        await page.locator("#text").press("Enter")
        answer = page.locator(".msg.bot .bubble", has_text="忘记密码").last
        await expect(answer).to_be_visible(timeout=15_000)

        # The organizer: a merged-forward card that opens, then /后台 in the private tab.
        await page.locator('[data-persona="organizer"]').click()
        await page.locator("#text").fill("/单位 列表")
        await page.locator("#send").click()
        card = page.locator(".forward-card").last
        await expect(card).to_be_visible(timeout=15_000)
        await card.click()
        await expect(page.locator("#forward-body")).to_contain_text("南湖街道")
        await page.locator("#forward-close").click()

        await page.locator("#tab-private").click()
        await page.locator("#text").fill("/后台")
        await page.locator("#send").click()
        link = page.locator(".msg.bot .bubble a", has_text="/dashboard/login").last
        await expect(link).to_be_visible(timeout=15_000)
        async with context.expect_page() as opened:
            await link.click()
        dashboard = await opened.value
        await dashboard.get_by_role("button", name="登录后台").click()
        # Signed in, and shown by the name the group knows (not a QQ number).
        await expect(dashboard.get_by_role("banner")).to_contain_text("陈老师", timeout=15_000)
        await dashboard.close()

        # /导出 arrives as files to download.
        await page.locator("#text").fill("/导出")
        await page.locator("#send").click()
        workbook = page.locator(".file-card", has_text=".xlsx").last
        await expect(workbook).to_be_visible(timeout=30_000)
        async with page.expect_download() as download_info:
            await workbook.click()
        download = await download_info.value
        saved = await download.path()
        assert (await asyncio.to_thread(saved.read_bytes))[:2] == b"PK"  # a real XLSX (a zip)

        # Three days before the deadline: the bot's own reminder @s the secretaries behind.
        await page.locator("#tab-group").click()
        await page.locator("#jump").click()
        reminder = page.locator(".msg.bot .bubble", has_text="距截止还有 3 天").last
        await expect(reminder).to_be_visible(timeout=45_000)
        await expect(reminder.locator(".at", has_text="@南湖街道-李秀英")).to_have_count(1)
        await expect(reminder.locator(".at", has_text="@七星街道")).to_have_count(1)
        await expect(reminder).not_to_contain_text("新兴街道")  # done: not reminded

        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            await page.locator('[data-persona="secretary"]').click()
            await page.screenshot(path=str(SCREENSHOT))
        await browser.close()


# --- the page's API: wrong, empty, oversized, hostile ------------------------------------------


async def test_the_page_api_refuses_bad_input_clearly(demo: Demo) -> None:
    async with aiohttp.ClientSession() as session:
        cases: list[tuple[Any, int, str]] = [
            ("not json", 400, "JSON"),
            ("[1, 2]", 400, "JSON 对象"),
            ({"as": "nobody", "text": "你好"}, 400, "没有这个身份"),
            ({"as": None, "text": "你好"}, 400, "没有这个身份"),
            ({"as": "member", "text": ""}, 400, "请先输入"),
            ({"as": "member", "text": "   "}, 400, "请先输入"),
            ({"as": "member", "text": 12}, 400, "请先输入"),
            ({"as": "member", "text": "好" * 2001}, 413, "太长"),
            ({"as": "member", "chat": "channel", "text": "你好"}, 400, "群聊或私聊"),
            ({"as": "member", "text": "你好", "reply_to": 2**63}, 400, "不存在"),
            ({"as": "member", "text": "你好", "reply_to": -1}, 400, "不存在"),
            ({"as": "member", "text": "你好", "reply_to": True}, 400, "不存在"),
        ]
        for body, status, words in cases:
            got, answer = await say(session, demo, body)
            assert (got, words in answer.get("error", "")) == (status, True), (body, answer)
        async with session.post(demo.api + "say", data=b"x" * 100_000) as response:
            assert response.status in (413, 415)
        async with session.post(
            demo.api + "say", data=b"x" * 100_000, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 413
            assert "太长" in (await response.json())["error"]
        async with session.post(demo.api + "say", data="{}") as response:
            assert response.status == 415  # not JSON: a form post from another page
        async with session.post(
            demo.api + "restart",
            data="{}",
            headers={"Content-Type": "application/json", "Origin": "https://evil.example"},
        ) as response:
            assert response.status == 403
        for path in ("events?after=99999999999999999999999", "events?after=-1&wait=0", "media/zz"):
            async with session.get(demo.api.removesuffix("api/") + "api/" + path) as response:
                assert response.status < 500, path
        async with session.get(demo.page + "media/0123456789abcdef") as response:
            assert response.status == 404

        # Hostile text is text: a typed CQ code is not a mention, a member's @全体成员 neither.
        status, _ = await say(
            session,
            demo,
            {"as": "member", "text": "[CQ:at,qq=all] @全体成员 /问 博客怎么注册"},
        )
        assert status == 200
        answer = await bot_lines(session, demo, lambda text, item: "注册" in text)
        assert not any(p["type"] == "at" and p["name"] == "全体成员" for p in answer["parts"])
        async with session.get(demo.api + "events", params={"after": "0", "wait": "0"}) as r:
            mine = [i for i in (await r.json())["items"] if i["sender"] == 30_001]
        assert mine[-1]["parts"] == [
            {"type": "text", "text": "[CQ:at,qq=all] @全体成员 /问 博客怎么注册"}
        ]

        # The newcomer joins: QQ's notice, then the bot's welcome @ them by name.
        async with session.post(
            demo.api + "join", json={"as": "newcomer"}, headers={"Origin": demo.page[:-5]}
        ) as response:
            assert response.status == 200
        welcome = await bot_lines(session, demo, lambda text, item: "欢迎加入" in text)
        assert {"type": "at", "name": "刘晓梅"} in welcome["parts"]

        # 重新开始: an empty conversation and the seeded contest again (the new entry is gone).
        status, _ = await say(
            session, demo, {"as": "secretary", "text": "/提交 王五 https://weibo.com/12345/Qa1"}
        )
        await bot_lines(session, demo, lambda text, item: "南湖街道 已提交 19/50" in text)
        async with session.get(demo.api + "state") as response:
            before = (await response.json())["generation"]
        async with session.post(demo.api + "restart", json={}) as response:
            assert response.status == 200
            assert (await response.json())["generation"] != before
        async with session.get(demo.api + "events", params={"after": "0", "wait": "0"}) as r:
            assert (await r.json())["items"] == []
        await say(session, demo, {"as": "secretary", "text": "/进度"})
        await bot_lines(session, demo, lambda text, item: "南湖街道 已提交 18/50" in text)


# --- offline; production; refusals ------------------------------------------------------------

PROBE = r"""
import asyncio, json, socket, sys, time, urllib.request

def blocked():
    try:
        socket.create_connection(("1.1.1.1", 443), timeout=3).close()
    except OSError:
        return True
    return False

page = sys.argv[1]
assert blocked(), "the network is reachable: this test would prove nothing"
began = time.monotonic()
while True:
    try:
        state = json.load(urllib.request.urlopen(page + "api/state", timeout=2))
        if state["ready"]:
            break
    except OSError:
        pass
    assert time.monotonic() - began < 60, "not ready"
    time.sleep(0.2)
def say(text, who="member"):
    body = json.dumps({"as": who, "text": text}).encode()
    request = urllib.request.Request(page + "api/say", body, {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
say("/提交 李四 https://blog.sina.com.cn/s/blog_00000000000abc12.html", "secretary")
say("博客密码忘了怎么办")
deadline = time.monotonic() + 30
texts = []
while time.monotonic() < deadline:
    items = json.load(urllib.request.urlopen(page + "api/events?after=0&wait=0"))["items"]
    texts = ["".join(p.get("text", "") for p in i["parts"]) for i in items if i["bot"]]
    if any("已登记（李四）" in t for t in texts) and any("忘记密码" in t for t in texts):
        print("OFFLINE-OK")
        break
    time.sleep(0.3)
else:
    print("MISSING", texts)
"""


def _can_isolate() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    result = subprocess.run(
        ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, check=False
    )
    return result.returncode == 0


@pytest.mark.skipif(not _can_isolate(), reason="unshare -rn（用户网络命名空间）不可用")
def test_the_demo_runs_with_the_network_cut_off(tmp_path: Path) -> None:
    bot_port, page_port = free_port(), free_port()
    env = app_env(port=bot_port, data_dir=tmp_path / "unused", log_level="INFO")
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    page = f"http://127.0.0.1:{page_port}/try/"
    script = (
        f"ip link set lo up && {{ {sys.executable} -m bot demo --port {page_port} "
        f"> {tmp_path / 'demo.log'} 2>&1 & pid=$!; {sys.executable} {probe} {page}; "
        "kill -TERM $pid; wait $pid; }"
    )
    result = subprocess.run(
        ["unshare", "-rn", "sh", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = (tmp_path / "demo.log").read_text(encoding="utf-8", errors="replace")
    assert "OFFLINE-OK" in result.stdout, (result.stdout, result.stderr, log[-3000:])


async def test_the_production_app_has_no_try_page(start_app: AppStarter) -> None:
    app = await start_app()
    async with aiohttp.ClientSession() as session:
        for path in ("/try/", "/try/api/state", "/try/static/try.js"):
            async with session.get(f"http://{app.host}:{app.port}{path}") as response:
                assert response.status == 404, path


def _demo_command(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = app_env(port=free_port(), data_dir=tmp_path / "unused")
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_demo_refuses_to_listen_beyond_this_machine(tmp_path: Path) -> None:
    result = _demo_command(tmp_path, HOST="0.0.0.0")
    assert result.returncode == 2
    assert "演示只在本机运行" in result.stderr
    assert "HOST=0.0.0.0" in result.stderr


def test_the_demo_never_wipes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    real = tmp_path / "data"
    real.mkdir()
    (real / "bot.db").write_bytes(b"a real deployment's database")
    result = _demo_command(tmp_path, "--data", str(real))
    assert result.returncode == 2
    assert "不是演示数据" in result.stderr
    assert (real / "bot.db").read_bytes() == b"a real deployment's database"


def test_the_demo_explains_a_missing_config_and_a_bad_port(tmp_path: Path) -> None:
    result = _demo_command(tmp_path, "--config", str(tmp_path / "nope.toml"))
    assert (result.returncode, "找不到配置文件" in result.stderr) == (2, True), result.stderr
    result = _demo_command(tmp_path, "--port", "70000")
    assert (result.returncode, "不是端口号" in result.stderr) == (2, True), result.stderr
    result = _demo_command(tmp_path, "--port", "abc")
    assert (result.returncode, "错误" in result.stderr) == (2, True)
