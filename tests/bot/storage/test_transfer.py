"""`transfer`: a deployment's database copied into a new one, every row, or nothing at all;
the archives of its closed rounds with it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel, col, select

import bot.storage.tables  # every table on SQLModel.metadata
import bot.storage.transfer
from bot.dashboard.scores import ScoreBook
from bot.faq.store import FaqChange
from bot.reminders.store import ReminderSend
from bot.rounds.archive import open_archive
from bot.rounds.book import RoundBook, RoundView, sqlite_file
from bot.settings.contest import Contest
from bot.storage.changelog import ChangeLog
from bot.storage.db import (
    Sessions,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    open_storage,
    session_maker,
)
from bot.storage.transfer import TransferError, transfer
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.submissions.models import Entry
from bot.units.directory import UnitDirectory
from bot.units.people import Person
from tests.bot.rounds.test_book import _submit, link
from tests.bot.storage.test_db import SEEDS
from tests.databases import postgres_database
from tests.fake import make_contest

NOW = datetime(2027, 6, 20, 9, 30, 15, 123456, tzinfo=UTC)


def _more_rows(conn: Connection) -> None:
    """What SEEDS leaves out: a second entry whose snapshot is JSON null (not SQL NULL),
    strings PostgreSQL must keep byte for byte."""
    conn.execute(
        sa.text(
            "INSERT INTO entry (receipt, url, given_url, platform, platform_name, kind, unit_id,"
            " author, submitted_by, submitted_at, late, status, verify_status, flags, flagged,"
            " snapshot) SELECT 2, 'https://blog.sina.com.cn/s/blog_4b3c.html', 'blog.sina.com.cn',"
            " 'blog.sina.com.cn', '新浪博客', 'blog', id, :author, 3999999999, :t, true,"
            " 'accepted', 'pending', '[\"late\"]', true, 'null' FROM unit"
        ),
        {"author": '王五 "小王"\n😀', "t": NOW},
    )
    conn.execute(sa.text("UPDATE receipt_counter SET value = 2"))


async def _app_rows(sessions: Any) -> None:
    """Rows written the way the bot writes them: more than one batch of the change log."""
    async with sessions() as session:
        for n in range(5):
            session.add(
                ChangeLog(
                    at=NOW + timedelta(seconds=n),
                    actor=None if n == 0 else 3_999_999_990 + n,
                    action="unit.add",
                    detail={"unit": f"第{n}单位", "note": None, "n": n},
                )
            )
        session.add(
            FaqChange(at=NOW, actor=10000, action="add", entry_id="party-fee", after={"q": "党费"})
        )
        session.add(
            ReminderSend(
                target="group:123456789",
                key="offset:3d@2027-07-01T10:00:00Z",
                kind="offset",
                due=NOW,
                status="sent",
                late=False,
                attempts=1,
                pieces_sent=1,
                claimed_at=NOW,
                finished_at=NOW + timedelta(microseconds=1),
            )
        )
        await session.commit()


@pytest.fixture
async def source(tmp_path: Path) -> str:
    """A SQLite deployment with rows in every table the migrations create; its closed round 1
    (SEEDS) has its archive, a copy of the whole database, where the round says."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'source' / 'bot.db'}"
    engine = make_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.run_sync(SEEDS[head_revision()])
            await conn.run_sync(_more_rows)
        await _app_rows(session_maker(engine))
        async with engine.connect() as conn:
            empty = [n for n, c in (await _counts(conn)).items() if c == 0]
            archive = (
                await conn.execute(sa.text("SELECT archive FROM contest_round WHERE id = 1"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert empty == [], f"the test data misses these tables: {empty}"
    live = tmp_path / "source" / "bot.db"
    with closing(sqlite3.connect(live)) as connection:
        connection.execute("VACUUM INTO ?", (str(live.with_name(archive)),))
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'target' / 'bot.db'}"
        return
    async with postgres_database() as url:
        yield url


def _json_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, sa.JSON)]


def _engine(url: str, archive: str | None = None) -> AsyncEngine:
    """An engine on the database at `url`, or on its archive `archive` (a file next to a SQLite
    database, a schema of a PostgreSQL one)."""
    if archive is None:
        return make_engine(url)
    if make_url(url).get_backend_name() == "sqlite":
        return make_engine(f"sqlite+aiosqlite:///{sqlite_file(url).parent / archive}")
    return make_engine(url, connect_args={"server_settings": {"search_path": f'"{archive}"'}})


async def _everything(url: str, archive: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table as the bot reads it, plus each JSON value's stored text."""
    engine = _engine(url, archive)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                texts = [sa.cast(c, sa.Text) for c in _json_columns(table)]
                rows = (await conn.execute(sa.select(table, *texts))).all()
                keys = len(table.primary_key.columns)
                found[table.name] = sorted((tuple(r) for r in rows), key=lambda r: r[:keys])
    finally:
        await engine.dispose()
    return found


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    return {
        t.name: (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
        for t in SQLModel.metadata.sorted_tables
    }


async def _live(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """`_everything` but where each closed round's archive is: that changes with the database."""
    found = await _everything(url)
    column = list(SQLModel.metadata.tables["contest_round"].columns.keys()).index("archive")
    found["contest_round"] = [
        (*row[:column], None, *row[column + 1 :]) for row in found["contest_round"]
    ]
    return found


async def _count_rows(url: str, archive: str | None = None) -> dict[str, int]:
    engine = _engine(url, archive)
    try:
        async with engine.connect() as conn:
            return await _counts(conn)
    finally:
        await engine.dispose()


# What a freshly migrated database holds: the receipt counter and the reminders' switch.
MIGRATIONS_ONLY = dict.fromkeys(SQLModel.metadata.tables, 0) | {
    "receipt_counter": 1,
    "reminder_state": 1,
}


async def test_every_row_arrives_unchanged(source: str, target: str) -> None:
    done = await transfer(source, target, batch_rows=2)

    assert await _live(target) == await _live(source)
    assert set(done.rows) == set(SQLModel.metadata.tables)
    assert done.rows == await _count_rows(source)
    assert done.total > len(done.rows)
    [archived] = done.archives
    moved = "bot.round-1.sqlite" if target.startswith("sqlite") else "round_1"
    assert (archived.label, archived.archive) == ("2027年", moved)
    assert await _everything(target, moved) == await _everything(source, "bot.round-1.sqlite")
    assert archived.rows == await _count_rows(source, "bot.round-1.sqlite")


async def test_values_keep_their_types(source: str, target: str) -> None:
    """Aware UTC datetimes to the microsecond, QQ numbers past 32 bits, JSON null apart from
    SQL NULL, booleans, text with quotes, newlines and emoji."""
    await transfer(source, target)

    engine = make_engine(target)
    try:
        async with engine.connect() as conn:
            snapshots = (
                await conn.execute(
                    sa.text("SELECT snapshot IS NULL, CAST(snapshot AS TEXT) FROM entry")
                )
            ).all()
            before = (await conn.execute(sa.text("SELECT before IS NULL FROM faq_change"))).one()
        async with session_maker(engine)() as session:
            entries = (await session.exec(select(Entry).order_by(col(Entry.receipt)))).all()
            first = (await session.exec(select(ChangeLog).order_by(col(ChangeLog.id)))).first()
            faq = (await session.exec(select(FaqChange))).one()
    finally:
        await engine.dispose()
    assert [(e.receipt, e.late, e.submitted_by) for e in entries] == [
        (1, False, 4_000_000_001),
        (2, True, 3_999_999_999),
    ]
    assert entries[1].author == '王五 "小王"\n😀'
    assert entries[0].snapshot is not None
    assert entries[0].snapshot["title"] == "重温党史"
    assert (False, "null") in [tuple(s) for s in snapshots]  # JSON null, not SQL NULL
    assert first is not None
    assert (first.at, first.at.utcoffset(), first.actor) == (NOW, timedelta(0), None)
    assert (faq.before, faq.after) == (None, {"q": "党费"})
    assert bool(before[0]) is True  # SQL NULL stays SQL NULL


async def test_new_rows_after_the_copy_get_new_ids(source: str, target: str) -> None:
    """PostgreSQL's sequences continue after the copied ids: the bot's own writes succeed."""
    await transfer(source, target)
    storage = await open_storage(target)
    try:
        now = NOW + timedelta(days=1)
        directory = await UnitDirectory.open(storage.sessions, make_contest(), now)
        added = await directory.add("凤桥镇", "town", None, actor=10000, now=now)
        outcomes = await EntryBook(storage.sessions, directory).submit(
            added,
            [NewLink("https://weibo.com/1/New1", "weibo.com/1/New1", "weibo.com", "microblog")],
            submitted_by=10001,
            now=now,
            late=False,
        )
        async with storage.sessions() as session:
            session.add(ChangeLog(at=now, action="unit.add", detail={}))
            await session.commit()
            log_ids = (await session.exec(select(ChangeLog.id))).all()
    finally:
        await storage.close()
    ids = [u.id for u in directory.list_units()]
    assert len(set(ids)) == len(ids) == 4  # 南湖街道 copied; 新嘉街道, 区财政局, 凤桥镇 new
    assert added.id > 1
    assert [o.receipt for o in outcomes if isinstance(o, Accepted)] == [3]  # after #1 and #2
    assert len(set(log_ids)) == len(log_ids) > 5


async def test_a_migrated_but_unused_database_is_accepted(source: str, target: str) -> None:
    """Only what the migrations put there (the receipt counter at 0): not data."""
    storage = await open_storage(target)
    await storage.close()

    await transfer(source, target)

    assert await _live(target) == await _live(source)


async def test_a_database_holding_data_is_refused_and_left_unchanged(
    source: str, target: str
) -> None:
    await transfer(source, target)
    storage = await open_storage(target)
    try:
        async with storage.sessions() as session:
            session.add(ChangeLog(at=NOW, action="unit.add", detail={"only": "here"}))
            await session.commit()
    finally:
        await storage.close()
    before = await _everything(target)

    with pytest.raises(TransferError, match=r"已有数据（.*change_log") as refused:
        await transfer(source, target)

    assert "没有做任何改动" in str(refused.value)
    assert await _everything(target) == before


async def test_the_source_itself_is_refused(source: str) -> None:
    before = await _everything(source)

    with pytest.raises(TransferError, match="就是要复制的数据库本身"):
        await transfer(source, source.replace("/source/", "/source/../source/"))

    assert await _everything(source) == before


@pytest.mark.postgres
async def test_the_same_postgresql_database_under_another_address_is_refused() -> None:
    async with postgres_database() as url:
        storage = await open_storage(url)
        await storage.close()
        parsed = make_url(url)
        alias = parsed.set(host="localhost" if parsed.host == "127.0.0.1" else "127.0.0.1")

        with pytest.raises(TransferError, match="就是要复制的数据库本身"):
            await transfer(url, alias.render_as_string(hide_password=False))


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://bot:s3cret@db.example/bot", "把开头改成 postgresql+asyncpg://"),
        ("mysql+aiomysql://bot:s3cret@db.example/bot", "只支持 sqlite+aiosqlite://"),
        ("postgresql+asyncpg://bot:s3cret@127.0.0.1:notaport/bot", "无法识别的数据库地址"),
        ("postgresql+asyncpg://bot:s3cret@127.0.0.1:1/bot", "连不上目标数据库"),
        ("sqlite+aiosqlite://", "不能是内存数据库"),
    ],
)
async def test_a_bad_address_is_refused_in_chinese_without_its_password(
    source: str, url: str, said: str
) -> None:
    with pytest.raises(TransferError) as refused:
        await transfer(source, url)

    assert said in str(refused.value)
    assert "s3cret" not in str(refused.value)


@pytest.mark.postgres
async def test_a_database_that_does_not_exist_is_named(source: str) -> None:
    async with postgres_database() as url:
        missing = make_url(url).set(database="bot_no_such_db").render_as_string(False)

        with pytest.raises(
            TransferError, match=r'连不上目标数据库.*"bot_no_such_db" does not exist'
        ):
            await transfer(source, missing)


async def test_a_failure_midway_leaves_the_target_without_a_copied_row(
    source: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = bot.storage.transfer._insert
    calls = 0

    async def insert_then_fail(conn: AsyncConnection, table: sa.Table, rows: list[Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("power cut")
        await real_insert(conn, table, rows)

    monkeypatch.setattr(bot.storage.transfer, "_insert", insert_then_fail)

    with pytest.raises(RuntimeError, match="power cut"):
        await transfer(source, target, batch_rows=2)

    assert await _count_rows(target) == MIGRATIONS_ONLY
    monkeypatch.setattr(bot.storage.transfer, "_insert", real_insert)
    await transfer(source, target)  # and the copy can simply be run again
    assert await _live(target) == await _live(source)


async def test_rows_written_to_the_source_during_the_copy_are_not_half_copied(
    source: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot may still be running: the copy is the source as it was when the copy began."""
    real_insert = bot.storage.transfer._insert
    before = await _live(source)
    wrote = False

    async def insert_while_the_bot_writes(
        conn: AsyncConnection, table: sa.Table, rows: list[Any]
    ) -> None:
        nonlocal wrote
        await real_insert(conn, table, rows)
        if wrote or table.name != "change_log" or rows[0]["id"] != 1:
            return
        wrote = True
        # After the first batch: to the table being copied, and to one copied later.
        writer = make_engine(source)
        try:
            async with session_maker(writer)() as session:
                session.add(ChangeLog(at=NOW, action="unit.add", detail={"during": "copy"}))
                session.add(Person(user_id=4_000_000_002, name="李四", updated_at=NOW))
                await session.commit()
        finally:
            await writer.dispose()

    monkeypatch.setattr(bot.storage.transfer, "_insert", insert_while_the_bot_writes)

    done = await transfer(source, target, batch_rows=2)

    assert await _live(target) == before
    now_in_source = await _count_rows(source)
    assert now_in_source["change_log"] == done.rows["change_log"] + 1
    assert now_in_source["person"] == done.rows["person"] + 1


@pytest.mark.postgres
async def test_a_row_postgresql_refuses_rolls_back_the_tables_already_copied(
    source: str,
) -> None:
    """SQLite does not check VARCHAR lengths; PostgreSQL does, on the last table copied."""
    engine = make_engine(source)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE metric_snapshot SET source = :s"), {"s": "表" * 300})
    finally:
        await engine.dispose()

    async with postgres_database() as target:
        with pytest.raises(TransferError) as failed:
            await transfer(source, target)

        assert "复制表 metric_snapshot 时出错" in str(failed.value)
        assert "已回滚，没有写入任何数据" in str(failed.value)
        assert await _count_rows(target) == MIGRATIONS_ONLY


@pytest.mark.postgres
async def test_back_from_postgresql_to_sqlite(source: str, tmp_path: Path) -> None:
    back = f"sqlite+aiosqlite:///{tmp_path / 'back.db'}"
    async with postgres_database() as middle:
        await transfer(source, middle)
        await transfer(middle, back)

    assert await _live(back) == await _live(source)
    assert await _everything(back, "back.round-1.sqlite") == await _everything(
        source, "bot.round-1.sqlite"
    )


# ---- closed rounds --------------------------------------------------------------------------


@pytest.fixture
async def two_rounds(
    database_url: str,
    engine: AsyncEngine,
    sessions: Sessions,
    units: UnitDirectory,
    book: EntryBook,
    contest: Contest,
    now: datetime,
) -> str:
    """A deployment (SQLite or PostgreSQL) whose round 1 (three entries, a judge's score) was
    archived when round 2 began; round 2 has one entry of its own."""
    rounds = RoundBook(sessions, engine, database_url)
    await rounds.load()
    first = [await _submit(book, units, n, now) for n in range(1, 4)]
    await ScoreBook(sessions).set(first[0], judge_id=20001, quality=8, comment="好", now=now)
    later = now + timedelta(days=300)
    await rounds.start_next(
        label="2028年", contest_toml="[contest]\n", now=later, now_local=later, actor=10000
    )
    units = await UnitDirectory.load(sessions, contest)
    assert await _submit(EntryBook(sessions, units), units, 9, later) == 1
    return database_url


def _archive_name(url: str, stem: str = "bot") -> str:
    """Round 1's archive as `RoundBook.start_next` names it on that kind of database."""
    return f"{stem}.round-1.sqlite" if url.startswith("sqlite") else "round_1"


async def _rounds_of(url: str) -> list[RoundView]:
    storage = await open_storage(url)
    try:
        return await RoundBook(storage.sessions, storage.engine, url).load()
    finally:
        await storage.close()


async def test_closed_rounds_come_across_with_their_archives(
    two_rounds: str, target: str, contest: Contest
) -> None:
    done = await transfer(two_rounds, target, batch_rows=2)

    [archived] = done.archives
    assert archived.archive == _archive_name(target)
    assert archived.rows == await _count_rows(two_rounds, _archive_name(two_rounds))
    assert archived.rows["entry"] == 3
    assert await _everything(target, archived.archive) == await _everything(
        two_rounds, _archive_name(two_rounds)
    )
    storage = await open_storage(target)
    try:
        rounds = RoundBook(storage.sessions, storage.engine, target)
        closed, opened = await rounds.load()
        assert (closed.label, closed.archive, closed.entries) == (
            archived.label,
            archived.archive,
            3,
        )
        assert (opened.label, opened.open) == ("2028年", True)
        archive = await open_archive(rounds, closed, contest)
        try:
            assert [e.receipt for e in await archive.entries.all_entries()] == [1, 2, 3]
            async with archive.sessions() as session:
                connection = await session.connection()
                scores = (
                    await connection.execute(sa.text("SELECT receipt, judge_id FROM judge_score"))
                ).all()
            assert [tuple(s) for s in scores] == [(1, 20001)]
        finally:
            await archive.close()
        units = await UnitDirectory.load(storage.sessions, contest)
        live = await EntryBook(storage.sessions, units).all_entries()
    finally:
        await storage.close()
    assert [(e.receipt, e.url) for e in live] == [(1, link(9).url)]
    assert done.rows["entry"] == 1
    assert done.rows["judge_score"] == 0


async def test_a_missing_archive_is_refused_before_anything_is_written(
    two_rounds: str, target: str
) -> None:
    if two_rounds.startswith("sqlite"):
        (sqlite_file(two_rounds).parent / "bot.round-1.sqlite").unlink()
        expected_at = "bot.round-1.sqlite"
    else:
        engine = make_engine(two_rounds)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text("DROP SCHEMA round_1 CASCADE"))
        finally:
            await engine.dispose()
        expected_at = "schema round_1"
    [closed, _] = await _rounds_of(two_rounds)

    with pytest.raises(TransferError) as refused:
        await transfer(two_rounds, target)

    said = str(refused.value)
    assert f"「{closed.label}」这一轮的归档不见了" in said
    assert expected_at in said
    assert "没有做任何改动" in said
    if target.startswith("sqlite"):
        assert not sqlite_file(target).parent.exists()
    else:
        engine = make_engine(target)
        try:
            assert await current_revision(engine) is None  # not even migrated
        finally:
            await engine.dispose()


async def test_a_failed_attempt_leaves_no_live_row_and_can_be_retried(
    two_rounds: str, target: str, contest: Contest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archives are written, then the live copy fails: no live row; a SQLite target keeps
    the archive file, marked unfinished, which the next attempt replaces."""

    async def power_cut(*_args: Any) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(bot.storage.transfer, "_point_rounds", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        await transfer(two_rounds, target)

    assert await _count_rows(target) == MIGRATIONS_ONLY
    if target.startswith("sqlite"):
        left = sqlite_file(target).parent / "bot.round-1.sqlite"
        with closing(sqlite3.connect(left)) as connection:
            [(mark,)] = connection.execute("PRAGMA application_id").fetchall()
        assert mark == bot.storage.transfer.UNFINISHED
    else:
        assert "round_1" not in await _schemas(target)

    monkeypatch.undo()
    done = await transfer(two_rounds, target)

    [archived] = done.archives
    assert archived.rows["entry"] == 3
    assert await _everything(target, archived.archive) == await _everything(
        two_rounds, _archive_name(two_rounds)
    )
    if target.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_file(target).parent / archived.archive)) as connection:
            assert connection.execute("PRAGMA application_id").fetchall() == [(0,)]


async def test_an_archive_place_holding_data_is_refused_and_left_unchanged(
    source: str, target: str
) -> None:
    """A file, or a schema, where the target's round-1 archive would go, that holds data and
    was not left by a failed transfer: someone else's."""
    if target.startswith("sqlite"):
        other = _engine(target, "bot.round-1.sqlite")
        statements = ["CREATE TABLE notes (line TEXT)", "INSERT INTO notes VALUES ('mine')"]
    else:
        other = make_engine(target)
        statements = [
            "CREATE SCHEMA round_1",
            "CREATE TABLE round_1.notes (line TEXT)",
            "INSERT INTO round_1.notes VALUES ('mine')",
        ]
    try:
        async with other.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await other.dispose()

    with pytest.raises(TransferError) as refused:
        await transfer(source, target)

    said = str(refused.value)
    assert "「2027年」的归档要放到" in said
    assert "已有数据（notes）" in said
    assert "没有做任何改动" in said
    engine = _engine(target, _archive_name(target))
    try:
        async with engine.connect() as conn:
            kept = (await conn.execute(sa.text("SELECT line FROM notes"))).all()
    finally:
        await engine.dispose()
    assert [tuple(k) for k in kept] == [("mine",)]
    engine = make_engine(target)
    try:
        assert await current_revision(engine) is None  # not even migrated
    finally:
        await engine.dispose()


async def _schemas(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT nspname FROM pg_namespace"))
            return {name for (name,) in rows}
    finally:
        await engine.dispose()
