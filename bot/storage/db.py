"""The database: engine, sessions and schema migrations (SQLite by default, PostgreSQL alike).

`migrate(engine)` brings the schema to the newest revision this code knows, inside one
transaction, and refuses — before touching anything — a database made by a newer version of
the bot (`SchemaTooNew`) or one whose tables were not made by Alembic (`SchemaUnversioned`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from loguru import logger
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Not Alembic's default "alembic_version": a PostgreSQL database may be shared with other
# NoneBot plugins (nonebot-plugin-orm keeps its own alembic_version).
VERSION_TABLE = "bot_alembic_version"
# Tables this bot's migrations create; finding any of them without VERSION_TABLE means the
# database was made some other way, and upgrading it blindly could destroy data.
OWN_TABLES = frozenset(
    {
        "unit",
        "secretary",
        "change_log",
        "entry",
        "receipt_counter",
        "faq_entry",
        "faq_unanswered",
        "faq_change",
        "faq_asked",
        "reminder_send",
        "reminder_state",
        "login_token",
        "entry_score",
        "dashboard_session",
        "judge_score",
        "judging_assignment",
        "judging_round",
        "bot_account",
        "bot_group",
        "event_claim",
        "relay_message",
        "contest_round",
    }
)
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Opening (and migrating) a SQLite file another process is creating at the same moment.
OPEN_ATTEMPTS = 5
# Serialises migrations of several bot processes sharing one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x6B6F7462  # arbitrary, fixed

Sessions = async_sessionmaker[AsyncSession]


class SchemaError(Exception):
    """The database cannot be used by this version of the bot (operator-facing, Chinese)."""


class SchemaTooNew(SchemaError):
    def __init__(self, found: str, known_head: str) -> None:
        self.found = found
        self.known_head = known_head
        super().__init__(
            f"数据库结构版本为 {found}，本程序只认识到 {known_head}：数据库由更新版本的机器人创建。"
            "请升级机器人程序，或恢复升级前的数据库备份（DATABASE_URL）。数据库未做任何改动。"
        )


class SchemaUnversioned(SchemaError):
    def __init__(self, tables: list[str]) -> None:
        self.tables = tables
        super().__init__(
            f"数据库中已有数据表 {', '.join(tables)}，但没有版本记录（{VERSION_TABLE}），"
            "不是由本机器人创建的。为免损坏数据，机器人不会改动它。"
            "请在 DATABASE_URL 中换用一个新的空数据库，或恢复正确的备份。"
        )


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; for SQLite: WAL, foreign keys, a busy timeout, real BEGINs.

    The parent directory of a SQLite file is created. Extra keyword arguments go to
    `create_async_engine`.
    """
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, **kwargs)
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling issues BEGIN lazily (not before SELECT or DDL), so
    # reads are not isolated and migrations are not atomic. SQLAlchemy's documented recipe:
    # turn the driver's handling off and emit BEGIN ourselves.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # The busy timeout first: switching a new file to WAL takes a lock another
            # process starting at the same moment may hold.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class Storage:
    """An open, migrated database: its engine and the sessions on it. `close()` when done."""

    engine: AsyncEngine
    sessions: Sessions
    revision: str

    async def close(self) -> None:
        await self.engine.dispose()


def search_path(schema: str) -> dict[str, Any]:
    """Engine options that keep a PostgreSQL connection in `schema` (a contest's, an archive's)."""
    return {"connect_args": {"server_settings": {"search_path": f'"{schema}"'}}}


async def create_schema(url: str, schema: str) -> None:
    """`CREATE SCHEMA IF NOT EXISTS` on PostgreSQL (several processes may race: both fine)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
            )
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        await engine.dispose()


# Connections a further contest's engine keeps open when idle, and may open at most beyond that:
# twenty contests in three processes stay within PostgreSQL's default max_connections (100).
OTHER_POOL = {"pool_size": 1, "max_overflow": 9}


async def open_storage(url: str, schema: str | None = None) -> Storage:
    """Connect to `url` and migrate it to the newest schema: the one way the bot (runtime and
    command line alike) opens its database. Raises `SchemaError` without changing anything.

    `schema` (PostgreSQL): the bot's tables live in that schema of the database, created if
    missing — one contest of several in one database (with a smaller pool: OTHER_POOL)."""
    options: dict[str, Any] = {}
    if schema is not None:
        await create_schema(url, schema)
        options = {**search_path(schema), **OTHER_POOL}
    for attempt in range(OPEN_ATTEMPTS):
        engine = make_engine(url, **options)
        try:
            revision = await migrate(engine)
        except OperationalError as error:
            await engine.dispose()
            # Two processes creating one new SQLite file can still meet a lock SQLite will not
            # wait for (switching the file to WAL, a lock upgrade it refuses to avoid a
            # deadlock). The migration ran in one transaction, so trying again is safe.
            locked = engine.dialect.name == "sqlite" and "locked" in str(error)
            if not locked or attempt == OPEN_ATTEMPTS - 1:
                raise
            logger.warning("database is locked while opening it; trying again ({})", attempt + 1)
            await asyncio.sleep(0.2 * 2**attempt)
            continue
        except BaseException:
            await engine.dispose()
            raise
        return Storage(engine, session_maker(engine), revision)
    raise AssertionError("unreachable")


def session_maker(engine: AsyncEngine) -> Sessions:
    """Sessions that keep loaded objects usable after commit (plain values out)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def write_transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session in a transaction meant to write; commits on success, rolls back on error.

    On SQLite the transaction starts with BEGIN IMMEDIATE: it waits (busy timeout) for other
    writers up front instead of failing with "database is locked" when a read-then-write
    transaction tries to upgrade its lock. On PostgreSQL it is an ordinary transaction.
    """
    async with sessions() as session, session.begin():
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration for bot/storage/migrations; `connection` is what env.py migrates."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def known_revisions() -> list[str]:
    """Every revision this code knows, oldest first."""
    return [s.revision for s in reversed(list(script_directory().walk_revisions()))]


def head_revision() -> str:
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("bot/storage/migrations has no revisions")
    return head


def _read_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    heads = context.get_current_heads()
    return heads[0] if heads else None


def _check(connection: Connection) -> str | None:
    """The database's revision, after refusing what must not be upgraded. Reads only."""
    found = _read_revision(connection)
    script = script_directory()
    if found is not None:
        try:
            script.get_revision(found)
        except CommandError:
            raise SchemaTooNew(found, head_revision()) from None
        return found
    existing = sorted(OWN_TABLES & set(sa.inspect(connection).get_table_names()))
    if existing:
        raise SchemaUnversioned(existing)
    return None


def _upgrade(connection: Connection, target: str) -> str:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    before = _check(connection)
    command.upgrade(alembic_config(connection), target)
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
    after = _read_revision(connection)
    assert after is not None
    if before != after:
        logger.info("数据库结构已从 {} 升级到 {}", before or "空库", after)
    return after


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # PRAGMA foreign_keys is ignored inside a transaction, so it goes to the raw connection
    # before SQLAlchemy begins one. Off during migrations, as Alembic's batch mode needs.
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


async def migrate(engine: AsyncEngine, target: str = "head") -> str:
    """Upgrade the schema to `target` (default: newest) in one transaction; the revision.

    Raises `SchemaTooNew` or `SchemaUnversioned` without changing anything. Several processes
    may call it at once on one database: the first migrates, the others wait for it (SQLite:
    the transaction starts with BEGIN IMMEDIATE, so it waits for the writer up to the busy
    timeout instead of failing with "database is locked" when its read turns into a write;
    PostgreSQL: a transaction-level advisory lock) and then find nothing left to do.
    """
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        if sqlite:
            await conn.run_sync(_sqlite_foreign_keys, False)
            conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        try:
            revision = await conn.run_sync(_upgrade, target)
            await conn.commit()
        finally:
            if sqlite:
                await conn.rollback()
                await conn.run_sync(_sqlite_foreign_keys, True)
    return revision


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revision; None for a database never migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(_read_revision)
