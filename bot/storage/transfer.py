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
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.settings.deployment import database_url_problem, redact_url
from bot.storage.db import (
    VERSION_TABLE,
    SchemaError,
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


class TransferError(Exception):
    """The copy was refused or failed; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class Transferred:
    """Rows per table as read back from the target after the commit (in copy order)."""

    rows: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())


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
    """Copy every row of the bot's tables at `source_url` into the empty `target_url`."""
    started = time.perf_counter()
    shown = redact_url(target_url)
    problem = database_url_problem(target_url)
    if problem is not None:
        raise TransferError(f"目标地址有误：{problem}")
    parsed = make_url(target_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise TransferError(
            "目标不能是内存数据库；请写文件路径，如 sqlite+aiosqlite:///data/new.db"
        )
    try:
        source = await open_storage(source_url)
    except SchemaError as error:
        raise TransferError(str(error)) from None
    try:
        await _check_target(source.engine, target_url, shown)
        try:
            target = await open_storage(target_url)
        except SchemaError as error:
            raise TransferError(f"目标数据库 {shown}：{error}") from None
        except (OSError, SQLAlchemyError) as error:
            raise TransferError(_unreachable(shown, error, parsed.password)) from None
        try:
            rows = await _copy(source.engine, target.engine, shown, batch_rows)
        finally:
            await target.close()
    finally:
        await source.close()
    return Transferred(rows, time.perf_counter() - started)


# ---- before anything is written -------------------------------------------------------------


async def _check_target(source: AsyncEngine, target_url: str, shown: str) -> None:
    """Refuses an unreachable target, the source itself, and a target holding data."""
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
    source: AsyncEngine, target: AsyncEngine, shown: str, batch_rows: int
) -> dict[str, int]:
    tables, fresh = await _fresh("head")
    async with source.connect() as src:
        if source.dialect.name == "postgresql":
            # One snapshot for every table, whatever a running bot writes meanwhile.
            src = await src.execution_options(isolation_level="REPEATABLE READ")
        async with src.begin():  # SQLite (WAL): the snapshot starts with the first read
            read = await src.run_sync(_reflect, tables)
            expected = await _counts(src, read, tables)
            async with target.connect() as dst:
                dst = await dst.execution_options(sqlite_begin="IMMEDIATE")
                async with dst.begin():
                    held = await _holding_data(dst, tables, fresh)
                    if held:
                        raise TransferError(_not_empty(shown, held))
                    written = await dst.run_sync(_reflect, tables)
                    # What the migrations put there (one-row tables) makes way for the source's.
                    for name in reversed(tables):
                        if name in fresh:
                            await dst.execute(written.tables[name].delete())
                    for name in tables:
                        table = _writable(written.tables[name], target.dialect.name)
                        await _copy_table(src, dst, read.tables[name], table, batch_rows, shown)
                    if target.dialect.name == "postgresql":
                        await _continue_sequences(dst, written)
                    copied = await _counts(dst, written, tables)
                    if copied != expected:
                        raise TransferError(_mismatch(expected, copied, committed=False))
    async with target.connect() as dst:
        after = await _counts(dst, await dst.run_sync(_reflect, tables), tables)
    if after != expected:
        raise TransferError(_mismatch(expected, after, committed=True))
    return after


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
