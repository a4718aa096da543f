"""Rounds on SQLite and PostgreSQL: a new round keeps units, secretaries and the FAQ, starts
entries from nothing, and leaves the old round whole, read-only and readable."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dashboard.scores import ScoreBook
from bot.refusal import Refusal
from bot.rounds.archive import open_archive
from bot.rounds.book import RoundBook, RoundError, RoundNotFound, label_problem
from bot.settings.contest import Contest
from bot.storage.db import Sessions, migrate
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.units.directory import UnitDirectory
from tests.bot.storage.test_db import NOW, _seed_0016

NANHU_SECRETARY = 10001


def link(n: int) -> NewLink:
    return NewLink(
        url=f"https://weibo.com/1234567890/Post{n}",
        given=f"https://weibo.com/1234567890/Post{n}",
        platform="weibo.com",
        kind="microblog",
        author="张三",
        platform_name="新浪微博",
    )


@pytest.fixture
async def rounds(sessions: Sessions, engine: AsyncEngine, database_url: str) -> RoundBook:
    book = RoundBook(sessions, engine, database_url)
    await book.load()
    return book


async def _submit(book: EntryBook, units: UnitDirectory, n: int, now: datetime) -> int:
    nanhu = units.find("南湖街道").unit
    assert nanhu is not None
    [outcome] = await book.submit(
        nanhu, [link(n)], submitted_by=NANHU_SECRETARY, now=now, late=False
    )
    assert isinstance(outcome, Accepted)
    return outcome.receipt


async def _start(rounds: RoundBook, now: datetime, label: str | None = None):
    return await rounds.start_next(
        label=label, contest_toml="[contest]\n", now=now, now_local=now, actor=10000
    )


async def test_a_database_with_entries_becomes_round_one_when_migrated(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0016")
    async with engine.begin() as conn:
        await conn.run_sync(_seed_0016)
    await migrate(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT id, label, closed_at FROM contest_round"))).all()
        kept = (await conn.execute(sa.text("SELECT count(*) FROM entry"))).scalar_one()
    assert [tuple(r) for r in rows] == [(1, f"{NOW.year}年", None)]
    assert kept > 0


async def test_an_existing_database_is_round_one(rounds: RoundBook) -> None:
    [only] = rounds.rounds
    assert only.id == 1
    assert only.open
    assert only.label.endswith("年")
    assert rounds.current == only


async def test_a_new_round_archives_the_old_and_starts_entries_afresh(
    rounds: RoundBook,
    book: EntryBook,
    units: UnitDirectory,
    sessions: Sessions,
    contest: Contest,
    now: datetime,
) -> None:
    first = [await _submit(book, units, n, now) for n in range(1, 4)]
    await ScoreBook(sessions).set(first[0], judge_id=20001, quality=8, comment="好", now=now)
    assert first == [1, 2, 3]

    started = await _start(rounds, now + timedelta(days=300), "2028年")

    assert (started.closed.label, started.closed.entries, started.closed.open) == (
        rounds.rounds[0].label,
        3,
        False,
    )
    assert started.opened.label == "2028年"
    assert rounds.current.id == 2
    # Live: no entries, receipts from 1 again, the same link accepted anew; units carry over.
    assert await book.all_entries() == []
    fresh = await UnitDirectory.load(sessions, contest)
    assert [u.name for u in fresh.list_units()] == [u.name for u in units.list_units()]
    assert fresh.unit_of(NANHU_SECRETARY) is not None
    assert await _submit(book, fresh, 1, now + timedelta(days=301)) == 1

    # The archive: all three entries and the score, read-only.
    archive = await open_archive(rounds, started.closed, contest)
    try:
        kept = await archive.entries.all_entries()
        assert [e.receipt for e in kept] == [1, 2, 3]
        assert archive.units.unit_of(NANHU_SECRETARY) is not None
        async with archive.sessions() as session:
            held = (
                await (await session.connection()).execute(
                    sa.text("SELECT receipt FROM judge_score")
                )
            ).all()
        assert [tuple(r) for r in held] == [(1,)]
        with pytest.raises((OperationalError, DBAPIError)):
            async with archive.sessions() as session, session.begin():
                await (await session.connection()).execute(sa.text("DELETE FROM entry"))
        assert len(await archive.entries.all_entries()) == 3
    finally:
        await archive.close()


async def test_labels_are_checked_and_unique(rounds: RoundBook, now: datetime) -> None:
    taken = rounds.current.label
    for bad in ("", "x" * 33, "[CQ:at,qq=all]", "a\nb"):
        assert label_problem(bad)
    with pytest.raises(RoundError):
        await _start(rounds, now, taken)
    with pytest.raises(RoundError):
        await _start(rounds, now, "@全体成员")
    assert len(rounds.rounds) == 1
    started = await _start(rounds, now)
    assert started.opened.label != taken
    assert rounds.find(started.opened.label) == started.opened
    assert rounds.find("1").id == 1
    with pytest.raises(RoundNotFound):
        rounds.find("1999年")


async def test_two_starts_at_once_open_one_round(rounds: RoundBook, now: datetime) -> None:
    other = RoundBook(rounds.sessions, rounds.engine, rounds.url)
    await other.load()
    results = await asyncio.gather(
        _start(rounds, now, "甲"), _start(other, now, "乙"), return_exceptions=True
    )
    assert sum(isinstance(r, Refusal) for r in results) == 1, results
    await rounds.load()
    assert [r.open for r in rounds.rounds] == [False, True]


async def test_submissions_during_the_switch_are_in_one_round_or_the_other(
    rounds: RoundBook, book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    async def submit_many() -> list[int]:
        done = []
        for n in range(100, 130):
            done.append(await _submit(book, units, n, now))
            await asyncio.sleep(0)
        return done

    task = asyncio.create_task(submit_many())
    await asyncio.sleep(0.01)
    started = await _start(rounds, now)
    accepted = await task
    live = await book.all_entries()
    archive = await open_archive(rounds, started.closed, contest)
    try:
        archived = await archive.entries.all_entries()
    finally:
        await archive.close()
    assert len(live) + len(archived) == len(accepted) == 30
    assert {e.url for e in live}.isdisjoint({e.url for e in archived})


async def test_a_writer_holding_the_counter_is_never_the_one_aborted(
    rounds: RoundBook, engine: AsyncEngine, now: datetime
) -> None:
    """A submission holds `receipt_counter` and then needs `entry`, which the switch took
    first: the switch lets go and tries again instead of deadlocking (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no lock order to get wrong")
    async with engine.connect() as writer:
        await writer.begin()
        await writer.execute(sa.text("UPDATE receipt_counter SET value = value + 1"))
        switch = asyncio.create_task(_start(rounds, now))
        await asyncio.sleep(0.1)  # the switch now holds `entry` and waits for the counter
        assert not switch.done()
        await writer.execute(sa.text("LOCK TABLE entry IN ROW EXCLUSIVE MODE"))
        await writer.commit()
    started = await asyncio.wait_for(switch, 30)
    assert started.opened.open
    async with engine.connect() as conn:
        counter = (await conn.execute(sa.text("SELECT value FROM receipt_counter"))).scalar_one()
    assert counter == 0  # the writer committed first; the new round starts from zero
