"""End-to-end fixtures: run a bot as a subprocess and play OneBot v11 against it.

`AppProcess` starts `python -m bot` (or any command, e.g. bench/echo_bot.py) from the repository
root with a clean environment: HOST, PORT, ONEBOT_ACCESS_TOKEN, SUPERUSERS, BOT_CONFIG,
BOT_DATA_DIR, DATABASE_URL (SQLite in the temporary data dir) and LOG_LEVEL are always set, so an
operator's `.env` can never point a test at a real database or group. Its output goes to a log
file that is attached to the report of a failing test.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.demo.config import merged, to_toml
from bot.demo.onebot import FakeOneBot
from tests.databases import postgres_database

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = REPO_ROOT / "config" / "contest.toml"
ECHO_BOT = REPO_ROOT / "bench" / "echo_bot.py"

SELF_ID = 2_000_000_001
TOKEN = "e2e-secret-token"
GROUP_ID = 700_000_001
OTHER_GROUP_ID = 700_000_002
ORGANIZER_ID = 10_000
SUPERUSER_ID = 10_009

# Settings that must come from the test, never from the developer's shell or .env.
_CONTROLLED = re.compile(
    r"^(HOST|PORT|ONEBOT_.*|SUPERUSERS|BOT_.*|DATABASE_URL|LOG_LEVEL|ENVIRONMENT|DRIVER"
    r"|COMMAND_START|COMMAND_SEP|NICKNAME|API_TIMEOUT)$",
    re.IGNORECASE,
)

MINIMAL_CONTEST: dict[str, Any] = {
    "contest": {
        "name": "2027年“重温中共党史·感受五彩南湖”学习博客大赛",
        "timezone": "Asia/Shanghai",
        "start": dt.datetime(2027, 6, 24, 0, 0),
        "deadline": dt.datetime(2027, 7, 1, 18, 0),
        "groups": [GROUP_ID],
        "organizers": [ORGANIZER_ID],
        "judges": [],
        "group_admins_are_organizers": True,
    },
    "categories": [
        {"id": "town", "name": "镇、街道", "quota": 50},
        {"id": "dept", "name": "部门、单位", "quota": 5},
    ],
    "units": [
        {"name": "南湖街道", "category": "town", "secretaries": [10_001], "aliases": ["南湖"]},
        {"name": "区教文体局", "category": "dept", "secretaries": [10_002], "quota": 50},
    ],
}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# --- contest.toml -----------------------------------------------------------------------------


def write_contest(
    path: Path, overrides: Mapping[str, Any] | None = None, *, from_shipped: bool = True
) -> dict[str, Any]:
    """Write a contest.toml: the shipped one (or a minimal one) with `overrides`; return it."""
    base: Mapping[str, Any] = MINIMAL_CONTEST
    if from_shipped and SHIPPED_CONFIG.exists():
        base = tomllib.loads(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    # The FAQ files are found next to contest.toml; a temporary config uses the shipped ones.
    shipped_faq = {
        "faq": {
            "file": str(SHIPPED_CONFIG.parent / "faq.yaml"),
            "synonyms": str(SHIPPED_CONFIG.parent / "synonyms.txt"),
        }
    }
    data = merged(merged(base, shipped_faq), overrides or {})
    path.write_text(to_toml(data), encoding="utf-8")
    return data


# --- the bot process --------------------------------------------------------------------------


class AppStartError(RuntimeError):
    pass


def app_env(
    *,
    port: int,
    data_dir: Path,
    config: Path | None = None,
    token: str | None = TOKEN,
    superusers: Sequence[int] = (SUPERUSER_ID,),
    log_level: str = "DEBUG",
    host: str = "127.0.0.1",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a bot under test runs with (the parent's, minus bot settings)."""
    env = {k: v for k, v in os.environ.items() if not _CONTROLLED.match(k)}
    env.update(
        {
            "HOST": host,
            "PORT": str(port),
            "SUPERUSERS": json.dumps([str(uid) for uid in superusers]),
            "BOT_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'bot.db'}",
            "LOG_LEVEL": log_level,
            "ENVIRONMENT": "e2e",
            "ONEBOT_WS_URLS": "[]",
            # Reminders fire on the real clock; only the reminder tests switch them on.
            "REMINDERS_AUTORUN": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if token is not None:
        env["ONEBOT_ACCESS_TOKEN"] = token
    if config is not None:
        env["BOT_CONFIG"] = str(config)
    env.update(extra or {})
    return env


class AppProcess:
    """A bot running as a subprocess, reachable on `ws_url` once `start()` returns."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        command: Sequence[str] = (sys.executable, "-m", "bot"),
        cwd: Path = REPO_ROOT,
    ) -> None:
        self.env = dict(env)
        self.command = list(command)
        self.cwd = cwd
        self.log_path = log_path
        self.host = self.env.get("HOST", "127.0.0.1")
        self.port = int(self.env["PORT"])
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None  # time.perf_counter() when the process was spawned
        self.listening_at: float | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/onebot/v11/ws"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def spawn(self) -> None:
        """Start the process without waiting for it."""
        if self.running:
            raise AppStartError("already running")
        with self.log_path.open("ab") as log:
            log.write(f"--- $ {' '.join(self.command)}\n".encode())
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def start(self, timeout: float = 30.0) -> None:
        """Spawn the process and wait until its port accepts connections."""
        self.spawn()
        await self.wait_listening(timeout)

    async def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            code = self.returncode
            if code is not None:
                raise AppStartError(f"{self.command} exited with {code}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                self.listening_at = time.perf_counter()
                return
            if time.monotonic() > deadline:
                self.kill()
                raise AppStartError(
                    f"{self.command} did not listen on {self.port} within {timeout} s:\n"
                    + self.log_tail()
                )
            await asyncio.sleep(0.02)

    async def wait_exit(self, timeout: float = 10.0) -> int:
        """Wait for the process to end by itself; its exit code."""
        assert self.process is not None, "not started"
        deadline = time.monotonic() + timeout
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.command} still running after {timeout} s")
            await asyncio.sleep(0.05)
        return code

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it is still running after `timeout`; the exit code."""
        if not self.running:
            return self.returncode
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return await self.wait_exit(timeout)
        except TimeoutError:
            self.kill()
            return self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the crash case (no shutdown hooks run)."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    async def restart(self, timeout: float = 30.0) -> None:
        await self.stop()
        await self.start(timeout)

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


# --- fixtures ---------------------------------------------------------------------------------

_APPS = pytest.StashKey[list[AppProcess]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        for app in item.stash.get(_APPS, []):
            report.sections.append((f"log of {' '.join(app.command[1:])}", app.log()))
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


ContestWriter = Callable[..., Path]
AppStarter = Callable[..., Awaitable[AppProcess]]


@pytest.fixture
def contest_config(tmp_path: Path) -> ContestWriter:
    """`contest_config(overrides=None, from_shipped=True) -> Path` of a temporary contest.toml.

    The served group is GROUP_ID and the organizer ORGANIZER_ID unless overridden.
    """
    counter = iter(range(1_000))

    def write(overrides: Mapping[str, Any] | None = None, *, from_shipped: bool = True) -> Path:
        path = tmp_path / f"contest-{next(counter)}.toml"
        defaults = {"contest": {"groups": [GROUP_ID], "organizers": [ORGANIZER_ID]}}
        write_contest(path, merged(defaults, overrides or {}), from_shipped=from_shipped)
        return path

    return write


@pytest.fixture(scope="session")
def faq_embeddings(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The shipped knowledge base's passage embeddings, as a bot that has run before keeps
    them in its data dir: every app starts with the semantic layer on (and without spending
    seconds of CPU embedding 386 texts in the background of each test). None without the
    layer (tests/bot/faq/test_semantic.py fails then)."""
    from bot.faq.knowledge import load_knowledge
    from bot.faq.semantic import CACHE_FILE, load_embedder, prepare_cache
    from bot.settings.loader import load_contest

    embedder = load_embedder()
    contest, _ = load_contest(REPO_ROOT / "config" / "contest.toml")
    if embedder is None or contest is None:
        return None
    entries, _ = load_knowledge(contest)
    path = tmp_path_factory.mktemp("faq-embeddings") / CACHE_FILE
    prepare_cache(entries, path, embedder)
    return path


@pytest.fixture
async def start_app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    contest_config: ContestWriter,
    faq_embeddings: Path | None,
) -> AsyncIterator[AppStarter]:
    """`await start_app(command=None, config=None, token=TOKEN, env=None, **app_env kwargs)`.

    Starts `python -m bot` (or `command`) on a free port with a fresh data dir and the given
    (or a default temporary) contest.toml; every app is stopped at teardown.
    """
    apps: list[AppProcess] = []
    request.node.stash[_APPS] = apps

    async def start(
        command: Sequence[str] | None = None,
        *,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        **settings: Any,
    ) -> AppProcess:
        index = len(apps)
        data_dir = tmp_path / f"data-{index}"
        data_dir.mkdir()
        if faq_embeddings is not None:
            shutil.copyfile(faq_embeddings, data_dir / faq_embeddings.name)
        settings.setdefault("port", free_port())
        app = AppProcess(
            app_env(
                data_dir=data_dir,
                config=config or contest_config(),
                extra=env,
                **settings,
            ),
            log_path=tmp_path / f"app-{index}.log",
            command=command or (sys.executable, "-m", "bot"),
        )
        apps.append(app)
        await app.start(timeout)
        return app

    yield start
    for app in apps:
        await app.stop()


@pytest.fixture
async def onebot() -> AsyncIterator[FakeOneBot]:
    """A reverse-WebSocket OneBot implementation with the test token (not yet connected)."""
    ob = FakeOneBot(SELF_ID, TOKEN)
    yield ob
    await ob.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """One database for several bot processes: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        return
    async with postgres_database() as url:
        yield url
