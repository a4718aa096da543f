"""`transfer`: a deployment's database copied into a new one, every row, or nothing at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col, select

import bot.storage.tables  # every table on SQLModel.metadata
import bot.storage.transfer
from bot.faq.store import FaqChange
from bot.reminders.store import ReminderSend
from bot.storage.changelog import ChangeLog
from bot.storage.db import head_revision, make_engine, migrate, open_storage, session_maker
from bot.storage.transfer import TransferError, transfer
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.submissions.models import Entry
from bot.units.directory import UnitDirectory
from bot.units.people import Person
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
    """A SQLite deployment with rows in every table the migrations create."""
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
    finally:
        await engine.dispose()
    assert empty == [], f"the test data misses these tables: {empty}"
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


async def _everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table as the bot reads it, plus each JSON value's stored text."""
    engine = make_engine(url)
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


async def _count_rows(url: str) -> dict[str, int]:
    engine = make_engine(url)
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

    assert await _everything(target) == await _everything(source)
    assert set(done.rows) == set(SQLModel.metadata.tables)
    assert done.rows == await _count_rows(source)
    assert done.total > len(done.rows)


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

    assert await _everything(target) == await _everything(source)


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
    assert await _everything(target) == await _everything(source)


async def test_rows_written_to_the_source_during_the_copy_are_not_half_copied(
    source: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot may still be running: the copy is the source as it was when the copy began."""
    real_insert = bot.storage.transfer._insert
    before = await _everything(source)

    async def insert_while_the_bot_writes(
        conn: AsyncConnection, table: sa.Table, rows: list[Any]
    ) -> None:
        await real_insert(conn, table, rows)
        if table.name != "change_log" or rows[0]["id"] != 1:
            return
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

    assert await _everything(target) == before
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

    assert await _everything(back) == await _everything(source)
