"""Copy a deployment's database into a new one: SQLite to PostgreSQL, or any supported pair.

What `transfer(source, target)` guarantees:
- the target is checked before anything is written: a malformed or unreachable address, the
  source database itself, or a database already holding data (any row beyond what the
  migrations themselves put there) is refused with `TransferError` and left as it was;
- both databases are brought to the newest schema with `open_storage`, as the bot opens them;
- every table the migrations create is copied, primary keys included, from one snapshot of the
  source (a bot still running may go on writing; what is copied is consistent), parents before
  children, in batches, inside one transaction on the target: a failure anywhere leaves the
  target without a single copied row;
- values come across unchanged: datetimes as aware UTC (`UTCDateTime`), JSON as the very text
  stored (so SQL NULL and JSON null stay apart), booleans and 64-bit QQ numbers as such;
- on PostgreSQL every serial sequence continues after the largest copied id;
- before the commit, and again read back afterwards, every table holds as many rows on the
  target as in the source snapshot.
The password in an address never appears in a message.

Closed rounds come across too, or the moved deployment would lose every earlier year. Each
round's archive in the source (a SQLite file next to the source database, a PostgreSQL schema
of it) is brought to the newest schema, as opening it does, and copied table by table the same
way (batches, stored JSON text, `UTCDateTime`, row counts checked before and after the commit)
into the target's kind of archive: a schema `round_N` of a PostgreSQL target, made by running
the migrations in it; a file `<target stem>.round-N.sqlite` next to a SQLite target. The round's
`archive` in the target names the new place. Refused up front, with nothing written: a source
archive that is not where its round says, and a schema or file of the target's archive name
that holds data.

What a failure leaves behind:
- PostgreSQL target: nothing. The archive schemas are written in the live copy's transaction.
- SQLite target: the archive files, which cannot share the live database's transaction, are
  each written in a transaction of their own before the live copy starts. Until the live rows
  are committed they carry `PRAGMA application_id = UNFINISHED`; a failure leaves them behind,
  marked, named by no committed round, and the next attempt replaces them (a file without the
  mark that holds data is refused, never replaced). The source is never changed beyond being
  migrated, its archives included.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.rounds.book import schema_name, sqlite_file
from bot.settings.deployment import database_url_problem, redact_url
from bot.storage.db import (
    VERSION_TABLE,
    SchemaError,
    alembic_config,
    current_revision,
    known_revisions,
    make_engine,
    migrate,
    open_storage,
)
from bot.storage.types import UTCDateTime

# Rows read and written at a time: enough that round trips do not dominate, few enough that a
# large table never sits in memory whole.
BATCH_ROWS = 2_000
# How long to wait for a PostgreSQL server that does not answer (asyncpg's default is 60 s).
CONNECT_SECONDS = 10
# `PRAGMA application_id` of a SQLite archive file written before the live rows are committed
# (see the module's docstring); set back to 0 once they are.
UNFINISHED = 0x626F7472  # arbitrary, fixed


class TransferError(Exception):
    """The copy was refused or failed; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class ArchivedRound:
    """A closed round's archive as copied: its place in the target (a schema or a file name)
    and rows per table read back after the commit."""

    label: str
    archive: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class Transferred:
    """Rows per table of the live database as read back from the target after the commit (in
    copy order; `total` counts these only), and each closed round's archive, oldest first."""

    rows: dict[str, int]
    seconds: float
    archives: tuple[ArchivedRound, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class _Round:
    """A closed round: its archive as the source names it, and the name it gets in the target."""

    id: int
    label: str
    source: str
    target: str


@dataclass(frozen=True)
class _Job:
    """One transfer: where from, where to, what to copy."""

    source_url: str
    target_url: str
    shown: str
    batch_rows: int
    rounds: list[_Round]
    tables: list[str]
    fresh: dict[str, list[tuple[Any, ...]]]


class _JSONText(sa.TypeDecorator[str]):
    """Writes the stored JSON text as it is; PostgreSQL casts it to its json type."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, json_type: sa.types.TypeEngine[Any]) -> None:
        super().__init__()
        self.json_type = json_type

    def bind_expression(self, bindparam: Any) -> Any:
        return sa.cast(bindparam, self.json_type)


async def transfer(
    source_url: str, target_url: str, *, batch_rows: int = BATCH_ROWS
) -> Transferred:
    """Copy every row of the bot's tables at `source_url`, and the archives of its closed
    rounds, into the empty `target_url` (see the module's docstring)."""
    started = time.perf_counter()
    shown = redact_url(target_url)
    _check_address(target_url)
    try:
        source = await open_storage(source_url)
    except SchemaError as error:
        raise TransferError(str(error)) from None
    try:
        rounds = await _closed_rounds(source.engine, source_url, target_url)
        await _check_target(source.engine, target_url, shown, rounds)
        try:
            target = await open_storage(target_url)
        except SchemaError as error:
            raise TransferError(f"目标数据库 {shown}：{error}") from None
        except (OSError, SQLAlchemyError) as error:
            password = make_url(target_url).password
            raise TransferError(_unreachable(shown, error, password)) from None
        try:
            tables, fresh = await _fresh("head")
            job = _Job(source_url, target_url, shown, batch_rows, rounds, tables, fresh)
            rows, archives = await _copy(job, source.engine, target.engine)
        finally:
            await target.close()
    finally:
        await source.close()
    return Transferred(rows, time.perf_counter() - started, archives)


def _check_address(target_url: str) -> None:
    problem = database_url_problem(target_url)
    if problem is not None:
        raise TransferError(f"目标地址有误：{problem}")
    parsed = make_url(target_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise TransferError(
            "目标不能是内存数据库；请写文件路径，如 sqlite+aiosqlite:///data/new.db"
        )


# ---- before anything is written -------------------------------------------------------------


async def _check_target(
    source: AsyncEngine, target_url: str, shown: str, rounds: Sequence[_Round]
) -> None:
    """Refuses an unreachable target, the source itself, a target holding data, and archive
    places of the target (schemas, files) holding data."""
    parsed = make_url(target_url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"timeout": CONNECT_SECONDS}
    try:
        probe = make_engine(target_url, **options)
    except OSError as error:  # a SQLite folder that cannot be created
        raise TransferError(_unreachable(shown, error, parsed.password)) from None
    try:
        try:
            same = await _identity(probe) == await _identity(source)
            revision = await current_revision(probe)
        except (OSError, SQLAlchemyError) as error:
            raise TransferError(_unreachable(shown, error, parsed.password)) from None
        if same:
            raise TransferError(
                f"目标 {shown} 就是要复制的数据库本身（.env 的 DATABASE_URL）；"
                "请指定另一个新建的空库。"
            )
        # A database made by an older bot is checked before open_storage upgrades it; an
        # unknown or unversioned one is refused by open_storage itself, unchanged.
        if revision in known_revisions():
            tables, fresh = await _fresh(revision)
            async with probe.connect() as conn:
                held = await _holding_data(conn, tables, fresh)
            if held:
                raise TransferError(_not_empty(shown, held))
        for found in rounds:
            try:
                held = await _in_the_way(target_url, found.target)
            except (OSError, SQLAlchemyError) as error:
                raise TransferError(_unreachable(shown, error, parsed.password)) from None
            if held:
                raise TransferError(_occupied(found, _where(target_url, found.target), held))
    finally:
        await probe.dispose()


async def _identity(engine: AsyncEngine) -> tuple[str, ...]:
    """What tells two databases apart, whatever address reached them."""
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            attached = [list(row) for row in await conn.exec_driver_sql("PRAGMA database_list")]
            # SQLite's own absolute path of the main file.
            return ("sqlite", next((str(file) for _, name, file in attached if name == "main"), ""))
        url = engine.url
        try:
            row = (
                await conn.exec_driver_sql(
                    "SELECT system_identifier::text, current_database() FROM pg_control_system()"
                )
            ).one()
        except DBAPIError:  # not allowed to read the cluster's identifier: compare addresses
            return (
                "postgresql",
                url.host or "localhost",
                str(url.port or 5432),
                url.database or "",
            )
        return ("postgresql", *row)


async def _fresh(revision: str) -> tuple[list[str], dict[str, list[tuple[Any, ...]]]]:
    """The bot's tables at `revision` and the rows a freshly migrated database holds in them."""
    with tempfile.TemporaryDirectory(prefix="bot-fresh-") as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'fresh.db'}")
        try:
            await migrate(engine, revision)
            async with engine.connect() as conn:
                metadata = await conn.run_sync(_reflect, None)
                names = [t.name for t in metadata.sorted_tables]
                fresh = {name: await _rows(conn, metadata.tables[name]) for name in names}
        finally:
            await engine.dispose()
    return names, {name: rows for name, rows in fresh.items() if rows}


async def _holding_data(
    conn: AsyncConnection, tables: Sequence[str], fresh: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    """The tables of `tables` whose rows differ from a freshly migrated database's."""
    metadata = await conn.run_sync(_reflect, list(tables))
    held: list[str] = []
    for name in tables:
        table = metadata.tables[name]
        count = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        expected = fresh.get(name, [])
        if count != len(expected) or (count and await _rows(conn, table) != expected):
            held.append(name)
    return held


async def _rows(conn: AsyncConnection, table: sa.Table) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in (await conn.execute(_select(table))).all()]


def _not_empty(shown: str, held: list[str]) -> str:
    named = "、".join(held[:5]) + ("等" if len(held) > 5 else "")
    return (
        f"目标数据库 {shown} 里已有数据（{named}），为免覆盖，没有做任何改动。"
        "请指定一个新建的空库。"
    )


def _unreachable(shown: str, error: BaseException, password: str | None) -> str:
    reason = str(error.orig) if isinstance(error, DBAPIError) else str(error)
    reason = reason.strip().splitlines()[0] if reason.strip() else type(error).__name__
    if password:
        reason = reason.replace(password, "***")
    return (
        f"连不上目标数据库 {shown}：{reason}。"
        "请检查主机、端口、用户名、密码和库名；PostgreSQL 的库要先建好（createdb 库名）。"
    )


# ---- closed rounds' archives, before anything is written --------------------------------------


async def _closed_rounds(source: AsyncEngine, source_url: str, target_url: str) -> list[_Round]:
    """The source's closed rounds, each archive found and brought to the newest schema (as
    opening it does); a missing one is refused."""
    async with source.connect() as conn:
        found = await _archived(conn)
    rounds = [
        _Round(round_id, label, archive, _target_name(target_url, round_id))
        for round_id, label, archive in found
    ]
    for closed in rounds:  # all of them, before any is migrated
        if not await _source_archive_exists(source, source_url, closed.source):
            raise TransferError(_missing(closed, _where(source_url, closed.source)))
    for closed in rounds:
        engine = _archive_engine(source_url, closed.source)
        try:
            await migrate(engine)
        except SchemaError as error:
            raise TransferError(f"源数据库里「{closed.label}」的归档：{error}") from None
        finally:
            await engine.dispose()
    return rounds


async def _archived(conn: AsyncConnection) -> list[tuple[int, str, str]]:
    """(id, label, archive) of every closed round with an archive, oldest first."""
    rows = await conn.execute(
        sa.text(
            "SELECT id, label, archive FROM contest_round"
            " WHERE closed_at IS NOT NULL AND archive IS NOT NULL ORDER BY id"
        )
    )
    return [(int(round_id), str(label), str(archive)) for round_id, label, archive in rows]


def _sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _target_name(target_url: str, round_id: int) -> str:
    """Where round `round_id`'s archive goes: as `RoundBook.start_next` would have put it."""
    if _sqlite(target_url):
        return f"{sqlite_file(target_url).stem}.round-{round_id}.sqlite"
    return schema_name(round_id)


def _archive_file(url: str, archive: str) -> Path:
    """A SQLite database's archive file: named relative to the live file's folder."""
    return sqlite_file(url).parent / archive


def _where(url: str, archive: str) -> str:
    """An archive's place, for a message."""
    if _sqlite(url):
        return str(_archive_file(url, archive))
    return f"{redact_url(url)} 的 schema {archive}"


def _archive_engine(url: str, archive: str) -> AsyncEngine:
    """An engine on the archive `archive` of the database at `url`: the file next to a SQLite
    database, the schema of a PostgreSQL one (as `search_path`, so that the bot's table names,
    the migrations and the copy work there unchanged)."""
    if _sqlite(url):
        return make_engine(f"sqlite+aiosqlite:///{_archive_file(url, archive)}")
    settings = {"search_path": f'"{archive}"'}
    return make_engine(url, connect_args={"server_settings": settings, "timeout": CONNECT_SECONDS})


async def _source_archive_exists(source: AsyncEngine, source_url: str, archive: str) -> bool:
    if _sqlite(source_url):
        return _archive_file(source_url, archive).is_file()
    async with source.connect() as conn:
        found = await conn.execute(
            sa.text("SELECT 1 FROM pg_tables WHERE schemaname = :schema AND tablename = :table"),
            {"schema": archive, "table": VERSION_TABLE},
        )
        return found.first() is not None


async def _in_the_way(target_url: str, archive: str) -> list[str]:
    """The tables holding data in the target's schema or file named `archive`: none if there is
    no such thing, or if it is an archive file a failed transfer left (marked `UNFINISHED`)."""
    if _sqlite(target_url):
        path = _archive_file(target_url, archive)
        if not path.exists():
            return []
        # Not make_engine: it would switch a stranger's file to WAL.
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.connect() as conn:
                mark = (await conn.exec_driver_sql("PRAGMA application_id")).scalar()
            return [] if mark == UNFINISHED else await _held_in(engine)
        except DBAPIError:
            return ["（不是可读的数据库文件）"]
        finally:
            await engine.dispose()
    engine = _archive_engine(target_url, archive)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": archive}
            )
            if found.first() is None:
                return []
        return await _held_in(engine)
    finally:
        await engine.dispose()


async def _held_in(engine: AsyncEngine) -> list[str]:
    """The tables holding data where `engine` reaches, judged as a target database is: rows
    beyond what the migrations put there; any table at all if a newer bot made it."""
    revision = await current_revision(engine)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        names = [name for name in names if name != VERSION_TABLE]
        if revision is not None and revision not in known_revisions():
            return names or [VERSION_TABLE]
        fresh = (await _fresh(revision))[1] if revision is not None else {}
        return await _holding_data(conn, names, fresh)


def _missing(closed: _Round, where: str) -> str:
    return (
        f"源数据库里「{closed.label}」这一轮的归档不见了（应在 {where}），"
        "为免丢失，没有做任何改动。请先把它放回原处（或从备份恢复）再复制。"
    )


def _occupied(closed: _Round, where: str, held: list[str]) -> str:
    named = "、".join(held[:5]) + ("等" if len(held) > 5 else "")
    return (
        f"「{closed.label}」的归档要放到 {where}，但那里已有数据（{named}），"
        "为免覆盖，没有做任何改动。请指定一个新建的空库，或先把它移走。"
    )


# ---- the copy -------------------------------------------------------------------------------


def _reflect(conn: Connection, only: list[str] | None) -> sa.MetaData:
    """The bot's tables as the database has them (`only` these, or all but the version table),
    with datetimes read and written as `UTCDateTime`."""
    metadata = sa.MetaData()
    if only is None:
        metadata.reflect(conn)
        metadata.remove(metadata.tables[VERSION_TABLE])
    else:
        metadata.reflect(conn, only=only)
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.DateTime):
                column.type = UTCDateTime()
    return metadata


def _select(table: sa.Table) -> sa.Select[Any]:
    """Every row in primary-key order; JSON columns as their stored text."""
    columns = [
        sa.cast(c, sa.Text).label(c.name) if isinstance(c.type, sa.JSON) else c
        for c in table.columns
    ]
    return sa.select(*columns).order_by(*table.primary_key.columns)


def _writable(table: sa.Table, dialect: str) -> sa.Table:
    """`table` with JSON columns taking the stored text (SQLite keeps JSON as text anyway)."""
    for column in table.columns:
        if isinstance(column.type, sa.JSON):
            column.type = _JSONText(column.type) if dialect == "postgresql" else sa.Text()
    return table


async def _insert(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    await conn.execute(table.insert(), rows)


async def _copy(
    job: _Job, source: AsyncEngine, target: AsyncEngine
) -> tuple[dict[str, int], tuple[ArchivedRound, ...]]:
    """The live database in one transaction on the target, the archives before its commit."""
    async with source.connect() as src:
        if source.dialect.name == "postgresql":
            # One snapshot for every table, whatever a running bot writes meanwhile.
            src = await src.execution_options(isolation_level="REPEATABLE READ")
        async with src.begin():  # SQLite (WAL): the snapshot starts with the first read
            if await _archived(src) != [(r.id, r.label, r.source) for r in job.rounds]:
                raise TransferError(
                    "源数据库刚刚开始了新的一轮（机器人还在运行？），目标数据库没有写入任何数据。"
                    "请先停下机器人再复制。"
                )
            archived: dict[int, dict[str, int]] = {}
            if target.dialect.name == "sqlite":
                archived = await _archive_files(job)
            async with target.connect() as dst:
                dst = await dst.execution_options(sqlite_begin="IMMEDIATE")
                async with dst.begin():
                    held = await _holding_data(dst, job.tables, job.fresh)
                    if held:
                        raise TransferError(_not_empty(job.shown, held))
                    expected = await _copy_tables(src, dst, job)
                    if target.dialect.name == "postgresql":
                        archived = await _archive_schemas(dst, job)
                    await _point_rounds(dst, job.rounds)
    async with target.connect() as dst:
        after = await _counts(dst, await dst.run_sync(_reflect, job.tables), job.tables)
    if after != expected:
        raise TransferError(_mismatch(expected, after, committed=True))
    return after, await _settle_archives(job, archived)


async def _copy_tables(src: AsyncConnection, dst: AsyncConnection, job: _Job) -> dict[str, int]:
    """Every table from `src` into the freshly migrated `dst` (in `dst`'s transaction, which
    the caller commits); rows per table, the same on both sides."""
    read = await src.run_sync(_reflect, job.tables)
    expected = await _counts(src, read, job.tables)
    written = await dst.run_sync(_reflect, job.tables)
    # What the migrations put there (one-row tables) makes way for the source's.
    for name in reversed(job.tables):
        if name in job.fresh:
            await dst.execute(written.tables[name].delete())
    for name in job.tables:
        table = _writable(written.tables[name], dst.dialect.name)
        await _copy_table(src, dst, read.tables[name], table, job.batch_rows, job.shown)
    if dst.dialect.name == "postgresql":
        await _continue_sequences(dst, written)
    copied = await _counts(dst, written, job.tables)
    if copied != expected:
        raise TransferError(_mismatch(expected, copied, committed=False))
    return expected


async def _from_archive(dst: AsyncConnection, job: _Job, closed: _Round) -> dict[str, int]:
    """Round `closed`'s source archive copied into `dst`, a freshly migrated archive."""
    engine = _archive_engine(job.source_url, closed.source)
    try:
        async with engine.connect() as src, src.begin():
            return await _copy_tables(src, dst, job)
    except TransferError as error:
        raise TransferError(f"复制「{closed.label}」的归档时：{error}") from None
    finally:
        await engine.dispose()


async def _archive_files(job: _Job) -> dict[int, dict[str, int]]:
    """SQLite target: each archive as a file next to it, committed on its own and marked
    `UNFINISHED` (whatever was in its place held no data, or was left by a failed transfer)."""
    copied: dict[int, dict[str, int]] = {}
    for closed in job.rounds:
        path = _archive_file(job.target_url, closed.target)
        _remove(path)
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.begin() as conn:  # marked before anything else is written
                await conn.exec_driver_sql(f"PRAGMA application_id = {UNFINISHED}")
            await migrate(engine)
            async with engine.connect() as dst:
                dst = await dst.execution_options(sqlite_begin="IMMEDIATE")
                async with dst.begin():
                    copied[closed.id] = await _from_archive(dst, job, closed)
        finally:
            await engine.dispose()
    return copied


def _remove(path: Path) -> None:
    """A SQLite file and its journals: a stale journal would be replayed into a new file."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def _archive_schemas(dst: AsyncConnection, job: _Job) -> dict[int, dict[str, int]]:
    """PostgreSQL target: each archive as a schema, migrated and filled in the live copy's
    transaction (as `RoundBook.start_next` makes one)."""
    quote = dst.dialect.identifier_preparer.quote
    path = (await dst.execute(sa.text("SHOW search_path"))).scalar_one()
    copied: dict[int, dict[str, int]] = {}
    for closed in job.rounds:
        schema = quote(closed.target)
        # Checked before: if it is there, it holds no data.
        await dst.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await dst.execute(sa.text(f"CREATE SCHEMA {schema}"))
        await dst.execute(sa.text(f"SET LOCAL search_path TO {schema}"))
        await dst.run_sync(_migrate_here)
        copied[closed.id] = await _from_archive(dst, job, closed)
        await dst.execute(sa.text(f"SET LOCAL search_path TO {path}"))
    return copied


def _migrate_here(connection: Connection) -> None:
    """The migrations, in the connection's transaction and `search_path`."""
    command.upgrade(alembic_config(connection), "head")


async def _point_rounds(dst: AsyncConnection, rounds: Sequence[_Round]) -> None:
    """Each closed round names its archive's place in the target."""
    for closed in rounds:
        await dst.execute(
            sa.text("UPDATE contest_round SET archive = :archive WHERE id = :id"),
            {"archive": closed.target, "id": closed.id},
        )


async def _settle_archives(
    job: _Job, expected: dict[int, dict[str, int]]
) -> tuple[ArchivedRound, ...]:
    """After the live commit: each archive's rows read back and checked; SQLite files lose
    their `UNFINISHED` mark."""
    done: list[ArchivedRound] = []
    for closed in job.rounds:
        engine = _archive_engine(job.target_url, closed.target)
        try:
            async with engine.begin() as conn:
                if engine.dialect.name == "sqlite":
                    await conn.exec_driver_sql("PRAGMA application_id = 0")
                written = await conn.run_sync(_reflect, job.tables)
                rows = await _counts(conn, written, job.tables)
        finally:
            await engine.dispose()
        if rows != expected[closed.id]:
            problem = _mismatch(expected[closed.id], rows, committed=True)
            raise TransferError(f"「{closed.label}」的归档：{problem}")
        done.append(ArchivedRound(closed.label, closed.target, rows))
    return tuple(done)


async def _copy_table(
    src: AsyncConnection,
    dst: AsyncConnection,
    read: sa.Table,
    write: sa.Table,
    batch_rows: int,
    shown: str,
) -> None:
    result = await src.stream(_select(read))
    async for batch in result.partitions(batch_rows):
        try:
            await _insert(dst, write, [dict(row._mapping) for row in batch])
        except DBAPIError as error:
            reason = str(error.orig).strip().splitlines()[0]
            raise TransferError(
                f"复制表 {read.name} 时出错：{reason}。"
                f"目标数据库 {shown} 已回滚，没有写入任何数据。"
            ) from None


async def _continue_sequences(conn: AsyncConnection, metadata: sa.MetaData) -> None:
    """Each serial primary key's sequence resumes after its largest copied value."""
    quote = conn.dialect.identifier_preparer.quote
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = (
                await conn.execute(
                    sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": quote(table.name), "column": column.name},
                )
            ).scalar_one()
            if sequence is None:
                continue
            await conn.execute(
                sa.text(
                    f"SELECT setval(CAST(:sequence AS regclass), "
                    f"COALESCE(MAX({quote(column.name)}), 0) + 1, false) FROM {quote(table.name)}"
                ),
                {"sequence": sequence},
            )


async def _counts(
    conn: AsyncConnection, metadata: sa.MetaData, tables: Sequence[str]
) -> dict[str, int]:
    return {
        name: (
            await conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[name]))
        ).scalar_one()
        for name in tables
    }


def _mismatch(expected: dict[str, int], found: dict[str, int], *, committed: bool) -> str:
    wrong = [
        f"{name}（源库 {expected[name]} 行，目标库 {found.get(name, 0)} 行）"
        for name in expected
        if found.get(name, 0) != expected[name]
    ]
    done = (
        "数据已写入目标库，但可能有别的程序同时在写它；请停下它后换一个新建的空库重来。"
        if committed
        else "目标数据库已回滚，没有写入任何数据。"
    )
    return f"核对行数不一致：{'、'.join(wrong)}。{done}"
