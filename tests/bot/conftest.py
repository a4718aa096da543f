"""Database fixtures: every storage test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5433/postgres,
a user allowed to CREATE DATABASE); each test gets a fresh database, dropped afterwards.
Without the variable the PostgreSQL cases are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings.contest import Category, Contest, MessagePolicy, UnitSpec
from bot.storage.db import Sessions, make_engine, migrate, session_maker
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory
from tests.databases import postgres_database
from tests.fake import make_contest

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database (a new SQLite file, or a new PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database, not yet migrated."""
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> Sessions:
    """Sessions on a database migrated to the newest revision."""
    await migrate(engine)
    return session_maker(engine)


@pytest.fixture
def now() -> datetime:
    return datetime(2027, 6, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def contest() -> Contest:
    """A small Nanhu contest: two categories, three units, two config secretaries."""
    return make_contest(
        name="测试大赛",
        timezone=SHANGHAI,
        start=datetime(2027, 6, 24, tzinfo=SHANGHAI),
        deadline=datetime(2027, 7, 1, 18, tzinfo=SHANGHAI),
        groups=frozenset({123456789}),
        organizers=frozenset({10000}),
        judges=frozenset(),
        messages=MessagePolicy(),
        categories=(
            Category(id="town", name="镇、街道", quota=50),
            Category(id="dept", name="部门、单位", quota=5),
        ),
        units=(
            UnitSpec(name="南湖街道", category="town", secretaries=(10001,), aliases=("南湖",)),
            UnitSpec(name="新兴街道", category="town", secretaries=(10002,)),
            UnitSpec(name="区教文体局", category="dept", quota=50),
        ),
    )


@pytest.fixture
async def units(sessions: Sessions, contest: Contest, now: datetime) -> UnitDirectory:
    """The unit directory with the contest's units synced in, as at start-up."""
    return await UnitDirectory.open(sessions, contest, now)


@pytest.fixture
def book(sessions: Sessions, units: UnitDirectory) -> EntryBook:
    return EntryBook(sessions, units)
