"""Rounds: list them, and start the next one (`python -m bot round new`, the dashboard).

Starting round N+1 does, in one transaction on the live database, while no other process can
write (SQLite: the transaction's write lock; PostgreSQL: EXCLUSIVE locks on the round's
tables):
1. copies the whole database as it stands into round N's archive — on SQLite a copy of the file
   (`VACUUM INTO`, read from the same committed state the transaction sees), on PostgreSQL a
   schema `round_N` migrated to the newest revision and filled table by table;
2. empties what belongs to a round: entries and the receipt counter, reminders sent, re-checks,
   reach figures, judging and scores, published results (`ROUND_TABLES`); units, categories,
   secretaries, people, the FAQ, dashboard sessions and the accounts' registry carry over;
3. closes round N (with contest.toml as it was) and opens N+1; logs "round.new", which the
   other processes' `ChangeWatcher` turns into a reload of their round list.

A failure anywhere rolls the live database back untouched; on SQLite a copied file left by a
failed attempt is set aside (renamed, never deleted) by the next one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import bot.storage.tables  # noqa: F401  (every table on SQLModel.metadata, for the copy)
from bot.clock import utc_now
from bot.refusal import NotFound, Refusal
from bot.rounds.models import LABEL_MAX, ContestRound
from bot.storage.changelog import ChangeLog
from bot.storage.db import SQLITE_BUSY_TIMEOUT_MS, Sessions, alembic_config, write_transaction

# Emptied when a round starts, children before parents. `receipt_counter` is set back to 0 and
# `reminder_state` (the pause switch) to "running" instead of being emptied.
ROUND_TABLES = (
    "entry_recheck",
    "recheck_run",
    "metric_snapshot",
    "judge_score",
    "judging_assignment",
    "judging_round",
    "results_version",
    "entry_score",
    "reminder_send",
    "entry",
)
# Not worth archiving: claims of chat events and messages handed between processes.
NOT_ARCHIVED = frozenset({"event_claim", "relay_message"})
ACTION = "round.new"
# How `_lock` waits for the round's tables on PostgreSQL (see there).
LOCK_WAIT = "200ms"
LOCK_ATTEMPTS = 300
LOCK_PAUSE_S = 0.05
LOCK_NOT_AVAILABLE = "55P03"
_FORBIDDEN = set("[]&<>@#/\\'\"`")


class RoundError(Refusal):
    """A round cannot be started or found; the message says why (Chinese)."""


class RoundNotFound(RoundError, NotFound):
    def __init__(self, text: str, labels: Sequence[str]) -> None:
        shown = "、".join(labels) or "无"
        super().__init__(f"没有「{text}」这一轮；现有：{shown}。")


@dataclass(frozen=True)
class RoundView:
    id: int
    label: str
    started_at: datetime
    closed_at: datetime | None
    archive: str | None
    entries: int | None
    contest_toml: str | None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @classmethod
    def of(cls, row: ContestRound) -> RoundView:
        return cls(
            row.id,
            row.label,
            row.started_at,
            row.closed_at,
            row.archive,
            row.entries,
            row.contest_toml,
        )


@dataclass(frozen=True)
class Started:
    closed: RoundView
    opened: RoundView


def label_problem(label: str) -> str | None:
    """Why `label` cannot name a round (Chinese), or None."""
    if not label:
        return "轮次名称不能为空，例如「2027年」。"
    if len(label) > LABEL_MAX:
        return f"轮次名称最多 {LABEL_MAX} 个字。"
    if any(ch in _FORBIDDEN or not ch.isprintable() for ch in label):
        return "轮次名称不能含有 [ ] & < > @ # / \\ 引号或换行。"
    return None


def default_label(now_local: datetime, taken: Sequence[str], number: int) -> str:
    """ "2027年"; "2027年第2轮" when that year already has a round."""
    year = f"{now_local.year}年"
    return year if year not in taken else f"{year}第{number}轮"


class RoundBook:
    """The rounds of one database, cached (reloaded when another process starts a round)."""

    def __init__(self, sessions: Sessions, engine: AsyncEngine, url: str, prefix: str = "") -> None:
        self.sessions = sessions
        self.engine = engine
        self.url = url
        # PostgreSQL: what starts the archives' schema names ("contest_xihu_" for a contest
        # in a schema of its own), so that each contest's round 1 has its own archive.
        self.prefix = prefix
        self._rounds: list[RoundView] = []

    async def load(self, now: datetime | None = None) -> list[RoundView]:
        """The rounds, oldest first; on a database without any, round 1 is opened first
        (named after `now`'s year, in UTC: the contest's own year differs only on New Year's
        Eve night)."""
        rows = await self._rows()
        if not rows:
            when = now or utc_now()
            try:
                async with write_transaction(self.sessions) as session:
                    session.add(ContestRound(id=1, label=f"{when.year}年", started_at=when))
            except IntegrityError:
                pass  # another process opened it at the same moment
            rows = await self._rows()
        self._rounds = [RoundView.of(row) for row in rows]
        return self._rounds

    async def _rows(self) -> list[ContestRound]:
        async with self.sessions() as session:
            return list(
                (await session.exec(select(ContestRound).order_by(col(ContestRound.id)))).all()
            )

    @property
    def rounds(self) -> list[RoundView]:
        return list(self._rounds)

    @property
    def current(self) -> RoundView:
        """The open round (a database always has one from revision 0017 on)."""
        for found in reversed(self._rounds):
            if found.open:
                return found
        raise RuntimeError("no open round: load() first")

    def get(self, round_id: int) -> RoundView | None:
        return next((r for r in self._rounds if r.id == round_id), None)

    def find(self, text: str) -> RoundView:
        """The round `text` names: its label ("2026年"), the label without 年, or its number."""
        wanted = text.strip()
        for found in self._rounds:
            if wanted in (found.label, found.label.removesuffix("年")) or wanted == str(found.id):
                return found
        raise RoundNotFound(wanted[:LABEL_MAX], [r.label for r in self._rounds])

    def archive_path(self, found: RoundView) -> Path:
        """Where a closed round's SQLite archive is (next to the live database file)."""
        assert found.archive is not None
        return sqlite_file(self.url).parent / found.archive

    async def start_next(
        self,
        *,
        label: str | None,
        contest_toml: str | None,
        now: datetime,
        now_local: datetime,
        actor: int | None,
    ) -> Started:
        """Archive the open round and open the next (see the module's docstring)."""
        await self.load()
        closing = self.current
        number = closing.id + 1
        taken = [r.label for r in self._rounds]
        wanted = (label or "").strip() or default_label(now_local, taken, number)
        problem = label_problem(wanted)
        if problem:
            raise RoundError(problem)
        if wanted in taken:
            raise RoundError(f"已有名为「{wanted}」的一轮，请换一个名称。")
        sqlite = self.engine.dialect.name == "sqlite"
        if sqlite and sqlite_file(self.url).name in ("", ":memory:"):
            raise RoundError("内存数据库不能归档，请使用数据库文件。")
        for attempt in range(LOCK_ATTEMPTS):
            try:
                async with write_transaction(self.sessions) as session:
                    conn = await session.connection()
                    if not sqlite:
                        await _lock(conn)
                    await self._switch(session, closing, number, wanted, contest_toml, now, actor)
                break
            except DBAPIError as error:
                if not _lock_busy(error) or attempt == LOCK_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(LOCK_PAUSE_S)
        await self.load()
        closed, opened = self.get(closing.id), self.get(number)
        assert closed is not None
        assert opened is not None
        return Started(closed, opened)

    async def _switch(
        self,
        session: AsyncSession,
        closing: RoundView,
        number: int,
        wanted: str,
        contest_toml: str | None,
        now: datetime,
        actor: int | None,
    ) -> None:
        """Steps 1-3 of the module's docstring, in the caller's locked write transaction."""
        conn = await session.connection()
        sqlite = self.engine.dialect.name == "sqlite"
        still = (
            await session.exec(select(ContestRound).where(col(ContestRound.closed_at).is_(None)))
        ).all()
        if [r.id for r in still] != [closing.id]:
            raise RoundError("另一处刚刚开始了新一轮，请刷新后再看。")
        if sqlite:
            archive = await self._archive_sqlite(closing.id)
        else:
            archive = await _archive_postgres(conn, self.prefix + schema_name(closing.id))
        count = (
            await conn.execute(sa.text("SELECT count(*) FROM entry WHERE status = 'accepted'"))
        ).scalar_one()
        await _empty_round(conn, actor, now)
        row = await session.get(ContestRound, closing.id)
        assert row is not None
        row.closed_at, row.closed_by, row.archive = now, actor, archive
        row.contest_toml, row.entries = contest_toml, int(count)
        session.add(row)
        session.add(ContestRound(id=number, label=wanted, started_at=now))
        detail = {"closed": closing.label, "opened": wanted, "archive": archive}
        session.add(ChangeLog(at=now, actor=actor, action=ACTION, detail=detail))

    async def _archive_sqlite(self, round_id: int) -> str:
        live = sqlite_file(self.url)
        name = f"{live.stem}.round-{round_id}.sqlite"
        target = live.parent / name
        partial = target.with_name(name + ".part")
        for leftover in (partial, target):
            if leftover.exists():  # from an attempt that did not commit: set aside, never lost
                leftover.rename(leftover.with_name(f"{leftover.name}.{_stamp()}.old"))
        await asyncio.to_thread(_vacuum_into, live, partial)
        partial.replace(target)
        return name


def sqlite_file(url: str) -> Path:
    return Path(make_url(url).database or "").expanduser()


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d%H%M%S%f")


def _vacuum_into(live: Path, target: Path) -> None:
    """A consistent copy of the committed database (a reader: the caller's write lock stays)."""
    connection = sqlite3.connect(live, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        connection.close()


def _archived_tables() -> list[sa.Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in NOT_ARCHIVED]


async def _lock(conn: AsyncConnection) -> None:
    """EXCLUSIVE locks on what the switch empties, waiting at most `LOCK_WAIT` for them.

    A writer may hold one of these tables and wait for another this statement has already
    taken (a submission holds `receipt_counter`, then inserts into `entry`). Giving up after
    `LOCK_WAIT`, well before PostgreSQL's deadlock check (1 s), releases everything taken so
    far, so that writer goes on and is never the one aborted; the caller tries again.
    """
    names = ", ".join([*ROUND_TABLES, "receipt_counter", "reminder_state", "contest_round"])
    await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    await conn.execute(sa.text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    await conn.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))


def _lock_busy(error: DBAPIError) -> bool:
    """`_lock` gave up waiting (lock_not_available)."""
    return getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


def schema_name(round_id: int) -> str:
    return f"round_{round_id}"


async def _archive_postgres(conn: AsyncConnection, schema: str) -> str:
    """Schema `round_N`: the migrations run in it, then every table is copied over."""
    path = (await conn.execute(sa.text("SHOW search_path"))).scalar_one()
    await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    await conn.execute(sa.text(f'SET LOCAL search_path TO "{schema}"'))
    await conn.run_sync(_upgrade_here)
    tables = _archived_tables()
    for table in reversed(tables):  # rows the migrations themselves put there
        await conn.execute(sa.text(f'DELETE FROM "{schema}"."{table.name}"'))
    await conn.execute(sa.text(f"SET LOCAL search_path TO {path}"))
    for table in tables:
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        await conn.execute(
            sa.text(
                f'INSERT INTO "{schema}"."{table.name}" ({columns}) '
                f'SELECT {columns} FROM "{table.name}"'
            )
        )
    return schema


def _upgrade_here(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def _empty_round(conn: AsyncConnection, actor: int | None, now: datetime) -> None:
    for name in ROUND_TABLES:
        await conn.execute(sa.text(f"DELETE FROM {name}"))
    await conn.execute(sa.text("UPDATE receipt_counter SET value = 0"))
    state = SQLModel.metadata.tables["reminder_state"]
    await conn.execute(state.update().values(paused=False, changed_by=actor, changed_at=now))
