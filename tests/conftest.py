"""nonebug set-up as the NoneBot docs recommend: one session loop, plugins loaded once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Adapter as OneBotV11Adapter
from nonebug import NONEBOT_INIT_KWARGS
from pytest_asyncio import is_async_test

from bot.runtime import Runtime, install, open_runtime
from bot.settings.deployment import Deployment
from tests.fake import make_contest

_SCRATCH = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    # nonebug runs NoneBot's start-up hooks, and the router's (for `nb run`) opens a runtime
    # from .env and contest.toml when none is open: give it a throwaway database, never a
    # developer's own (the environment wins over .env).
    scratch = Path(tempfile.mkdtemp(prefix="bot-tests-"))
    config.stash[_SCRATCH] = scratch
    os.environ["BOT_DATA_DIR"] = str(scratch)
    os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{scratch / 'bot.db'}"
    # No background reminder job in chat tests, in that runtime or in the `runtime` fixture's:
    # they call plugins.reminders.wake() directly.
    os.environ["REMINDERS_AUTORUN"] = "false"
    config.stash[NONEBOT_INIT_KWARGS] = {
        "driver": "~fastapi+~aiohttp",
        "log_level": "WARNING",
        "superusers": {"10009"},
        "command_start": {"/", "／"},
    }


def pytest_unconfigure(config: pytest.Config) -> None:
    scratch = config.stash.get(_SCRATCH, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    session_scope = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item):
            item.add_marker(session_scope, append=False)


@pytest.fixture(scope="session", autouse=True)
async def after_nonebot_init(after_nonebot_init: None) -> None:
    nonebot.get_driver().register_adapter(OneBotV11Adapter)
    for name in ("router", "help", "units", "watch", "faq", "submissions", "reminders"):
        nonebot.require(f"plugins.{name}")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A fresh runtime per test: the small fake contest on a new SQLite database."""
    deployment = Deployment(
        superusers=frozenset({10009}),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=tmp_path,
        reminders_autorun=False,
    )
    opened = await open_runtime(deployment, make_contest())
    yield opened
    await opened.close()
    install(None)
