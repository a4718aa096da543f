"""`python -m bot demo`: the real bot, a demo contest, and a QQ-like group in the browser.

The parent process (this module) does three things, all on loopback:

- runs the bot as a subprocess, unchanged (`python -m bot`, in the demo's data directory, so no
  `.env` of a real deployment is read), with the demo contest (`bot/demo/config.py`) and a
  database seeded by `bot/demo/seed.py`;
- plays QQ for it with the e2e harness's OneBot stand-in (`bot/demo/onebot.py`), connected over
  the bot's real reverse WebSocket with a fresh token;
- serves the page at `http://127.0.0.1:N/try/` (default 8081), which shows the group and a
  private chat as QQ would, and turns what the visitor types into OneBot events.

Nothing here is reachable from another machine, nothing is fetched from the network, and the
production app never serves `/try/` (it is this process's own small aiohttp app).

"跳到截止前 3 天" rewrites the contest's deadline and restarts the bot on the same data, so the
reminder due three days before the deadline is sent by the bot's own reminder runner.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import ipaddress
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from dotenv import dotenv_values

from bot.demo.config import (
    BOT_QQ,
    DEMO_CONTEST,
    GROUP_ID,
    GROUP_NAME,
    Cast,
    Persona,
    demo_contest,
    read_toml,
    to_toml,
)
from bot.demo.onebot import FORWARD_ACTIONS, ApiCall, FakeOneBot, Segment, sent_message, to_segments

STATIC = Path(__file__).resolve().parent / "static"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PAGE_PORT = 8081
DEFAULT_BOT_PORT = 8080
MARKER = ".demo"  # a data directory the demo made (and may wipe on "重新开始")
MAX_TEXT = 2000  # characters the page may send in one message
MAX_BODY = 16 * 1024
POLL_SECONDS = 20.0
READY_TIMEOUT = 60.0
FILE_ACTIONS = frozenset({"upload_private_file", "upload_group_file"})
BOT_NAME = "大赛助手"

# Settings of a real deployment that must never reach the demo's bot.
_CONTROLLED = re.compile(
    r"^(HOST|PORT|ONEBOT_.*|SUPERUSERS|BOT_.*|DATABASE_URL|ENVIRONMENT|DRIVER|DASHBOARD_.*"
    r"|REMINDERS_AUTORUN|COMMAND_START|COMMAND_SEP|NICKNAME)$",
    re.IGNORECASE,
)


class DemoError(Exception):
    """Why the demo cannot start, in the operator's Chinese."""


class Refused(Exception):
    """A page request that cannot be done: HTTP status and the Chinese reason shown."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- settings ---------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def bot_address(environ: Mapping[str, str], env_file: Path) -> tuple[str, int]:
    """HOST and PORT as the production bot would read them (environment over `.env`);
    `DemoError` for a HOST other machines could reach or a PORT that is not a port."""
    values = {k.upper(): v for k, v in dotenv_values(env_file).items() if v is not None}
    values.update({k.upper(): v for k, v in environ.items()})
    host = (values.get("HOST") or "127.0.0.1").strip()
    if not is_loopback(host):
        raise DemoError(
            f"演示只在本机运行，不对外开放：现在 HOST={host}。"
            "请在 .env 里改为 HOST=127.0.0.1（或临时用 HOST=127.0.0.1 python -m bot demo）。"
        )
    raw_port = (values.get("PORT") or str(DEFAULT_BOT_PORT)).strip()
    if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise DemoError(f"PORT={raw_port} 不是端口号（1 到 65535 的整数）。")
    return "127.0.0.1", int(raw_port)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prepare_data_dir(path: Path | None) -> tuple[Path, bool]:
    """The data directory and whether it is throwaway. A given directory must be empty or one
    the demo made before, so "重新开始" can never wipe a real deployment's data."""
    if path is None:
        made = Path(tempfile.mkdtemp(prefix="blog-contest-demo-"))
        (made / MARKER).write_text("python -m bot demo\n", encoding="utf-8")
        return made, True
    path = path.expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise DemoError(f"--data {path} 不是文件夹。")
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise DemoError(
            f"--data {path} 里已有文件，但不是演示数据（没有 {MARKER} 标记）。"
            "为防止误删正式数据，请换一个空文件夹。"
        )
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("python -m bot demo\n", encoding="utf-8")
    return path, False


# --- what the page shows ----------------------------------------------------------------------


@dataclass
class Shown:
    """One bubble (or notice) on the page."""

    seq: int
    chat: str  # "group" or "private"
    peer: int | None  # private: the persona's QQ
    sender: int
    name: str
    kind: str  # message, forward, file, notice
    parts: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    file: dict[str, Any] | None = None
    message_id: int | None = None
    at: str = ""
    failed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "chat": self.chat,
            "peer": self.peer,
            "sender": self.sender,
            "name": self.name,
            "bot": self.sender == BOT_QQ,
            "kind": self.kind,
            "parts": self.parts,
            "nodes": self.nodes,
            "file": self.file,
            "id": self.message_id,
            "at": self.at,
            "failed": self.failed,
        }


class Transcript:
    """Everything shown since the demo (re)started, with a wait for what comes next."""

    def __init__(self) -> None:
        self.items: list[Shown] = []
        self.generation = secrets.token_hex(4)
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self.media: dict[str, tuple[str, bytes, str]] = {}  # id -> (name, bytes, content type)

    def next_seq(self) -> int:
        return next(self._seq)

    async def add(self, item: Shown) -> None:
        self.items.append(item)
        async with self._changed:
            self._changed.notify_all()

    def add_soon(self, item: Shown) -> None:
        self.items.append(item)
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def reset(self) -> None:
        self.items.clear()
        self.media.clear()
        self.generation = secrets.token_hex(4)
        await self._wake()

    async def after(self, seq: int, generation: str, wait: float) -> list[Shown]:
        def ready() -> bool:
            return generation != self.generation or any(i.seq > seq for i in self.items)

        if not ready():
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(ready), wait)
        if generation != self.generation:
            return list(self.items)
        return [item for item in self.items if item.seq > seq]

    def find(self, message_id: int) -> Shown | None:
        return next((i for i in reversed(self.items) if i.message_id == message_id), None)


def _clock() -> str:
    return dt.datetime.now().strftime("%H:%M")


# --- the bot subprocess -----------------------------------------------------------------------


class BotProcess:
    def __init__(self, env: Mapping[str, str], cwd: Path, log: Path, port: int) -> None:
        self.env, self.cwd, self.log, self.port = dict(env), cwd, log, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self, timeout: float = READY_TIMEOUT) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
                [sys.executable, "-m", "bot"],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise DemoError(
                    f"机器人没有启动起来（退出码 {self.process.returncode}）：\n{self.tail()}"
                )
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            if time.monotonic() > deadline:
                await self.stop()
                raise DemoError(
                    f"机器人 {timeout:.0f} 秒内没有开始监听端口 {self.port}：\n{self.tail()}"
                )
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 10.0) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                return
            await asyncio.sleep(0.05)

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# --- the demo ---------------------------------------------------------------------------------


class Demo:
    """The bot subprocess, its OneBot stand-in and the page's state."""

    def __init__(
        self,
        *,
        source: Path = DEMO_CONTEST,
        data_dir: Path,
        throwaway: bool,
        bot_port: int,
        page_port: int,
    ) -> None:
        self.source = source
        self.data_dir = data_dir
        self.throwaway = throwaway
        self.bot_port = bot_port
        self.page_port = page_port
        self.token = secrets.token_urlsafe(24)
        self.transcript = Transcript()
        self.onebot: FakeOneBot | None = None
        self.process: BotProcess | None = None
        self.cast: Cast | None = None
        self.deadline: dt.datetime | None = None  # contest-local, naive
        self.start_at: dt.datetime | None = None
        self.joined: set[int] = set()
        self.ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self.jumped = False

    @property
    def config_path(self) -> Path:
        return self.data_dir / "contest.toml"

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.page_port}/try/"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.bot_port}/dashboard/"

    def bot_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not _CONTROLLED.match(k)}
        env.update(
            {
                "HOST": "127.0.0.1",
                "PORT": str(self.bot_port),
                "ONEBOT_ACCESS_TOKEN": self.token,
                "ONEBOT_WS_URLS": "[]",
                "SUPERUSERS": "[]",
                "BOT_CONFIG": str(self.config_path),
                "BOT_DATA_DIR": str(self.data_dir),
                "DATABASE_URL": f"sqlite+aiosqlite:///{self.data_dir / 'bot.db'}",
                "REMINDERS_AUTORUN": "true",
                "ENVIRONMENT": "demo",
                "PYTHONUNBUFFERED": "1",
                # The bot runs in the data directory (no real deployment's .env is read there);
                # the repository's packages stay importable whether installed or not.
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
                ),
            }
        )
        env.setdefault("LOG_LEVEL", "INFO")
        return env

    # -- life cycle

    async def start(self) -> None:
        async with self._lock:
            await self._write_config(fresh=True)
            await self._seed()
            await self._start_bot()

    async def _write_config(self, *, fresh: bool) -> None:
        now = dt.datetime.now(dt.UTC)
        if fresh:
            self.deadline = self.start_at = None
        data, cast = demo_contest(self.source, now=now, deadline=self.deadline, start=self.start_at)
        self.cast = cast
        self.start_at, self.deadline = data["contest"]["start"], data["contest"]["deadline"]
        self.config_path.write_text(to_toml(data), encoding="utf-8")

    async def _seed(self) -> None:
        from bot.demo.seed import seed
        from bot.settings.check import check, format_report

        report = check(self.bot_env(), self.data_dir / ".env")
        if report.deployment is None or report.contest is None or report.problems:
            raise DemoError("演示用的配置有问题：\n" + format_report(report))
        await seed(report.deployment, report.contest, dt.datetime.now(dt.UTC))

    async def _start_bot(self) -> None:
        if not port_free(self.bot_port):
            raise DemoError(
                f"端口 {self.bot_port} 已被占用（是不是正式的机器人在运行？）。"
                f"请换一个：PORT=8090 python -m bot demo"
            )
        self.process = BotProcess(
            self.bot_env(), self.data_dir, self.data_dir / "bot.log", self.bot_port
        )
        await self.process.start()
        onebot = FakeOneBot(BOT_QQ, self.token)
        onebot.nickname = BOT_NAME
        self._dress(onebot)
        onebot.listeners.append(self._heard)
        await onebot.connect(f"ws://127.0.0.1:{self.bot_port}/onebot/v11/ws", heartbeat=30)
        self.onebot = onebot
        self.ready.set()

    def _dress(self, onebot: FakeOneBot) -> None:
        """The group as QQ would describe it: its name, members, cards and roles."""
        assert self.cast is not None
        onebot.groups[GROUP_ID] = GROUP_NAME
        for qq, card in self.cast.others.items():
            onebot.set_member(GROUP_ID, qq, nickname=card.split("-")[-1], card=card)
        for persona in self.cast.personas:
            if persona.joined or persona.qq in self.joined:
                onebot.set_member(
                    GROUP_ID,
                    persona.qq,
                    role=persona.role,
                    nickname=persona.card,
                    card=persona.card,
                )
            onebot.friends[persona.qq] = persona.card
        onebot.on_action("upload_private_file", self._file)
        onebot.on_action("upload_group_file", self._file)

    async def _stop_bot(self) -> None:
        self.ready.clear()
        if self.onebot is not None:
            await self.onebot.close()
            self.onebot = None
        if self.process is not None:
            await self.process.stop()

    async def close(self) -> None:
        async with self._lock:
            await self._stop_bot()
        if self.throwaway:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def restart(self) -> None:
        """Start again from the seeded contest: a new database, an empty conversation."""
        async with self._lock:
            await self._stop_bot()
            for item in self.data_dir.iterdir():
                if item.name == MARKER:
                    continue
                if item.is_dir():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
            self.joined.clear()
            self.jumped = False
            await self.transcript.reset()
            await self._write_config(fresh=True)
            await self._seed()
            await self._start_bot()

    async def jump(self) -> str:
        """Move the deadline to three days from now and restart the bot on the same data."""
        async with self._lock:
            assert self.cast is not None
            zone = ZoneInfo(str(read_toml(self.config_path)["contest"]["timezone"]))
            local = dt.datetime.now(zone).replace(tzinfo=None, second=0, microsecond=0)
            self.deadline = local + dt.timedelta(days=3)
            await self._stop_bot()
            await self._write_config(fresh=False)
            await self._start_bot()
            self.jumped = True
            when = f"{self.deadline:%m月%d日 %H:%M}"
            note = f"时间已调到截止前 3 天：截止时间改为 {when}，机器人已重启。"
            await self._notice(note)
            return note

    async def _notice(self, text: str) -> None:
        seq = self.transcript.next_seq()
        shown = Shown(seq, "group", None, 0, "", "notice", [{"type": "text", "text": text}])
        shown.at = _clock()
        await self.transcript.add(shown)

    # -- the visitor speaks

    async def say(self, persona: Persona, chat: str, text: str, reply_to: int | None) -> Shown:
        if not self.ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), READY_TIMEOUT)
        onebot = self.onebot
        if onebot is None or not onebot.connected:
            raise Refused(409, "机器人正在重启，请稍候再发。")
        if chat == "group" and persona.qq not in self.joined and not persona.joined:
            await self.join(persona)
        segments = self._segments(text, reply_to, everyone=persona.role != "member")
        if chat == "group":
            event = onebot.group_message(
                GROUP_ID, persona.qq, segments, role=persona.role, card=persona.card
            )
        else:
            event = onebot.private_message(persona.qq, segments, nickname=persona.card)
        shown = Shown(
            self.transcript.next_seq(),
            chat,
            persona.qq if chat == "private" else None,
            persona.qq,
            persona.card,
            "message",
            self._parts(segments),
            message_id=int(event["message_id"]),
            at=_clock(),
        )
        await self.transcript.add(shown)
        await onebot.post(event)
        return shown

    async def join(self, persona: Persona) -> None:
        """The newcomer joins the group: QQ's group_increase notice, as an invite would post."""
        onebot = self.onebot
        if onebot is None:
            raise Refused(409, "机器人正在重启，请稍候再试。")
        if persona.qq in self.joined or persona.joined:
            return
        self.joined.add(persona.qq)
        onebot.set_member(GROUP_ID, persona.qq, nickname=persona.card, card=persona.card)
        await self._notice(f"{persona.card} 加入了本群")
        await onebot.post(onebot.member_joined(GROUP_ID, persona.qq))

    def _segments(self, text: str, reply_to: int | None, *, everyone: bool) -> list[Segment]:
        """What QQ would send for `text`: "@大赛助手" typed or picked is a real mention, and so
        is "@全体成员" from an admin (`everyone`); for anyone else QQ sends it as plain text."""
        segments: list[Segment] = []
        if reply_to is not None:
            segments.append({"type": "reply", "data": {"id": str(reply_to)}})
        pieces = re.split(r"(@大赛助手|@全体成员)", text)
        for piece in pieces:
            if piece == "@大赛助手":
                segments.append({"type": "at", "data": {"qq": str(BOT_QQ)}})
            elif piece == "@全体成员" and everyone:
                segments.append({"type": "at", "data": {"qq": "all"}})
            elif piece and segments and segments[-1]["type"] == "text":
                segments[-1]["data"]["text"] += piece
            elif piece:
                segments.append({"type": "text", "data": {"text": piece}})
        return segments

    # -- the bot speaks

    def _name(self, qq: str | int) -> str:
        if str(qq) == "all":
            return "全体成员"
        if str(qq) == str(BOT_QQ):
            return BOT_NAME
        cards = self.cast.cards() if self.cast else {}
        with contextlib.suppress(ValueError):
            return cards.get(int(qq), str(qq))
        return str(qq)

    def _parts(self, segments: list[Segment]) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for segment in segments:
            kind, data = segment.get("type"), segment.get("data") or {}
            if kind == "text":
                parts.append({"type": "text", "text": str(data.get("text", ""))})
            elif kind == "at":
                parts.append({"type": "at", "name": self._name(data.get("qq", ""))})
            elif kind == "reply":
                parts.append(self._quote(data.get("id")))
            elif kind == "image":
                parts.append(self._image(data))
            elif kind == "face":
                parts.append({"type": "text", "text": "[表情]"})
            else:
                parts.append({"type": "text", "text": f"[{kind}]"})
        return parts

    def _quote(self, message_id: object) -> dict[str, Any]:
        quoted = None
        with contextlib.suppress(TypeError, ValueError):
            quoted = self.transcript.find(int(str(message_id)))
        if quoted is None:
            return {"type": "quote", "name": "", "text": "（原消息）"}
        text = "".join(p.get("text", "") for p in quoted.parts if p["type"] == "text")
        return {"type": "quote", "name": quoted.name, "text": text[:60]}

    def _image(self, data: Mapping[str, Any]) -> dict[str, Any]:
        file = str(data.get("file") or "")
        if file.startswith("base64://"):
            with contextlib.suppress(binascii.Error, ValueError):
                raw = base64.b64decode(file.removeprefix("base64://"), validate=False)
                key = secrets.token_hex(8)
                self.transcript.media[key] = ("image.png", raw, _image_type(raw))
                return {"type": "image", "src": f"media/{key}"}
        return {"type": "text", "text": "[图片]"}

    def _heard(self, call: ApiCall, data: Any) -> None:
        """Every API call the bot made, once answered: show what it sent."""
        action = call.action
        if (
            action not in FORWARD_ACTIONS
            and action not in FILE_ACTIONS
            and not action.startswith("send_")
        ):
            return
        if action in FILE_ACTIONS:
            return  # shown by _file
        message = sent_message(call)
        message_id = data.get("message_id") if isinstance(data, dict) else None
        chat = "group" if message.group_id is not None else "private"
        shown = Shown(
            self.transcript.next_seq(),
            chat,
            message.user_id if chat == "private" else None,
            BOT_QQ,
            BOT_NAME,
            "forward" if message.forward else "message",
            message_id=int(message_id) if message_id is not None else None,
            at=_clock(),
            failed=call.failed,
        )
        if message.forward:
            shown.nodes = [
                {
                    "name": str(
                        node["data"].get("name") or node["data"].get("nickname") or BOT_NAME
                    ),
                    "parts": self._parts(to_segments(node["data"].get("content") or [])),
                }
                for node in message.segments
                if node.get("type") == "node"
            ]
        else:
            shown.parts = self._parts(message.segments)
        self.transcript.add_soon(shown)

    def _file(self, params: dict[str, Any]) -> dict[str, Any]:
        """upload_private_file / upload_group_file: offered on the page as a download."""
        name = Path(str(params.get("name") or "文件")).name[:120] or "文件"
        file = str(params.get("file") or "")
        raw = b""
        if file.startswith("base64://"):
            with contextlib.suppress(binascii.Error, ValueError):
                raw = base64.b64decode(file.removeprefix("base64://"), validate=False)
        key = secrets.token_hex(8)
        self.transcript.media[key] = (name, raw, "application/octet-stream")
        group = params.get("group_id")
        user = params.get("user_id")
        chat = "group" if group is not None else "private"
        shown = Shown(
            self.transcript.next_seq(),
            chat,
            int(user) if chat == "private" and user is not None else None,
            BOT_QQ,
            BOT_NAME,
            "file",
            file={"name": name, "url": f"media/{key}", "size": len(raw)},
            at=_clock(),
        )
        self.transcript.add_soon(shown)
        return {"file_id": key}


def _image_type(raw: bytes) -> str:
    if raw.startswith(b"\x89PNG"):
        return "image/png"
    if raw.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if raw.startswith(b"GIF8"):
        return "image/gif"
    return "application/octet-stream"


# --- the page ---------------------------------------------------------------------------------

DEMO_KEY = web.AppKey("demo", Demo)


def _demo(request: web.Request) -> Demo:
    return request.app[DEMO_KEY]


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """Only this page may change the demo: a POST must be JSON from our own origin."""
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin is not None and origin not in {
            f"http://127.0.0.1:{_demo(request).page_port}",
            f"http://localhost:{_demo(request).page_port}",
        }:
            return _refuse(403, "只接受演示页面本身的请求。")
        if request.content_type != "application/json":
            return _refuse(415, "请求应为 JSON。")
        if (request.content_length or 0) > MAX_BODY:
            return _refuse(413, f"消息太长了，请控制在 {MAX_TEXT} 字以内。")
    try:
        return await handler(request)
    except Refused as refused:
        return _refuse(refused.status, refused.message)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise Refused(413, f"消息太长了，请控制在 {MAX_TEXT} 字以内。")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refused(400, "请求不是有效的 JSON。") from error
    if not isinstance(body, dict):
        raise Refused(400, "请求应为一个 JSON 对象。")
    return body


def _persona(demo: Demo, key: object) -> Persona:
    persona = demo.cast.persona(str(key)) if demo.cast and isinstance(key, str) else None
    if persona is None:
        raise Refused(400, "没有这个身份，请在页面上方重新选择。")
    return persona


async def page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "try.html", headers={"Cache-Control": "no-store"})


async def state(request: web.Request) -> web.Response:
    demo = _demo(request)
    assert demo.cast is not None
    return web.json_response(
        {
            "group": GROUP_NAME,
            "bot": BOT_NAME,
            "personas": [p.as_json() for p in demo.cast.personas],
            "deadline": demo.deadline.strftime("%m月%d日 %H:%M") if demo.deadline else "",
            "dashboard": demo.dashboard_url,
            "ready": demo.ready.is_set(),
            "jumped": demo.jumped,
            "generation": demo.transcript.generation,
            "max_text": MAX_TEXT,
        }
    )


def _int(value: str | None, default: int) -> int:
    if value is None or not value.isdigit() or len(value) > 12:
        return default
    return int(value)


async def events(request: web.Request) -> web.Response:
    demo = _demo(request)
    after = _int(request.query.get("after"), 0)
    generation = request.query.get("generation", "")[:32]
    wait = POLL_SECONDS if request.query.get("wait") != "0" else 0.0
    items = await demo.transcript.after(after, generation, wait)
    return web.json_response(
        {
            "generation": demo.transcript.generation,
            "items": [item.as_json() for item in items],
            "ready": demo.ready.is_set(),
        }
    )


async def say(request: web.Request) -> web.Response:
    demo = _demo(request)
    body = await _body(request)
    persona = _persona(demo, body.get("as"))
    chat = body.get("chat", "group")
    if chat not in ("group", "private"):
        raise Refused(400, "只能在群聊或私聊里发消息。")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Refused(400, "请先输入要发送的内容。")
    if len(text) > MAX_TEXT:
        raise Refused(413, f"消息太长了，请控制在 {MAX_TEXT} 字以内。")
    reply_to = body.get("reply_to")
    if reply_to is not None and (
        isinstance(reply_to, bool) or not isinstance(reply_to, int) or not 0 < reply_to < 2**31
    ):
        raise Refused(400, "要回复的消息不存在。")
    shown = await demo.say(persona, chat, text, reply_to)
    return web.json_response({"item": shown.as_json()})


async def join(request: web.Request) -> web.Response:
    demo = _demo(request)
    body = await _body(request)
    persona = _persona(demo, body.get("as"))
    await demo.join(persona)
    return web.json_response({"ok": True})


async def jump(request: web.Request) -> web.Response:
    demo = _demo(request)
    await _body(request)
    try:
        note = await demo.jump()
    except DemoError as error:
        raise Refused(409, f"机器人重启失败：{error}") from error
    return web.json_response({"ok": True, "note": note})


async def restart(request: web.Request) -> web.Response:
    demo = _demo(request)
    await _body(request)
    try:
        await demo.restart()
    except DemoError as error:
        raise Refused(409, f"机器人重启失败：{error}") from error
    return web.json_response({"ok": True, "generation": demo.transcript.generation})


async def media(request: web.Request) -> web.StreamResponse:
    found = _demo(request).transcript.media.get(request.match_info["key"])
    if found is None:
        return web.Response(status=404, text="文件已不在（演示重新开始后会清空）。")
    name, raw, content_type = found
    headers = {"Cache-Control": "no-store"}
    if content_type == "application/octet-stream":
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote_name(name)}"
    return web.Response(body=raw, content_type=content_type, headers=headers)


def _quote_name(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


async def _root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/try/")


def page_app(demo: Demo) -> web.Application:
    app = web.Application(middlewares=[_guard], client_max_size=MAX_BODY)
    app[DEMO_KEY] = demo
    app.router.add_get("/", _root)
    app.router.add_get("/try", _root)
    app.router.add_get("/try/", page)
    app.router.add_get("/try/api/state", state)
    app.router.add_get("/try/api/events", events)
    app.router.add_post("/try/api/say", say)
    app.router.add_post("/try/api/join", join)
    app.router.add_post("/try/api/jump", jump)
    app.router.add_post("/try/api/restart", restart)
    app.router.add_get("/try/media/{key:[0-9a-f]{16}}", media)
    app.router.add_static("/try/static/", STATIC, show_index=False)
    return app


# --- python -m bot demo -----------------------------------------------------------------------


async def serve(demo: Demo, *, announce: bool = True) -> None:
    """Start everything, print the address, and run until SIGINT/SIGTERM."""
    began = time.perf_counter()
    runner = web.AppRunner(page_app(demo), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", demo.page_port).start()
    except OSError as error:
        await runner.cleanup()
        raise DemoError(
            f"页面端口 {demo.page_port} 无法使用（{error.strerror}）；请换一个：--port 8091"
        ) from error
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await demo.start()
        if announce:
            seconds = time.perf_counter() - began
            print(
                f"演示已启动（{seconds:.1f} 秒）：请用浏览器打开 {demo.page_url}\n"
                f"  这是演示环境，消息不会发到 QQ；数据在 {demo.data_dir}"
                + ("（退出后删除）" if demo.throwaway else "")
                + "\n  按 Ctrl+C 结束。",
                flush=True,
            )
        await stop.wait()
    finally:
        await demo.close()
        await runner.cleanup()


def run(port: int | None, config: Path | None, data: Path | None) -> int:
    """`python -m bot demo`; the exit code."""
    try:
        host, bot_port = bot_address(os.environ, Path(".env"))
        del host
        page_port = port or DEFAULT_PAGE_PORT
        if page_port == bot_port:
            raise DemoError(
                f"页面端口和机器人端口不能相同（都是 {page_port}）；请换一个：--port 8091"
            )
        if not 1 <= page_port <= 65535:
            raise DemoError(f"--port {page_port} 不是端口号（1 到 65535）。")
        source = DEMO_CONTEST
        if config is not None:
            source = config.expanduser().resolve()
            if not source.is_file():
                raise DemoError(f"找不到配置文件 {config}。")
            try:
                read_toml(source)
            except (OSError, ValueError) as error:
                raise DemoError(
                    f"{config} 读不出来：{error}。可先运行 python -m bot check"
                ) from error
        data_dir, throwaway = prepare_data_dir(data)
    except DemoError as error:
        print(error, file=sys.stderr)
        return 2
    demo = Demo(
        source=source,
        data_dir=data_dir,
        throwaway=throwaway,
        bot_port=bot_port,
        page_port=page_port,
    )
    try:
        asyncio.run(serve(demo))
    except DemoError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
