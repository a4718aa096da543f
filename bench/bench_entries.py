"""Entries benchmark: the progress table and one submission with 100,000 entries stored.

Run by hand from the repository root:

    .venv/bin/python bench/bench_entries.py                 # a temporary SQLite database
    .venv/bin/python bench/bench_entries.py --url postgresql+asyncpg://postgres@127.0.0.1:5441/postgres

It builds a database with 1,000 units and 100,000 entries (bulk inserts, a third of the units
behind, some entries withdrawn, late or flagged), then times
- `EntryBook.progress_all()` (target ≤ 100 ms, with a constant number of queries): p50/p99
  over 20 runs, and the number of SQL statements one call issues;
- `EntryBook.submit()` of one new link (lookup, receipt counter, insert, commit): p50/p99
  over 200 runs;
- `EntryBook.progress(unit)` (what the reply to /提交 shows) and `write_exports` of all
  entries, once, for scale.
With --url (PostgreSQL), a fresh database is created on that server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy as sa
from loguru import logger
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.contest import Category, Contest
from bot.db import make_engine, migrate, session_maker
from bot.entries import Accepted, EntryBook, NewLink
from bot.export import write_exports
from bot.models import Entry, Unit
from bot.units import UnitDirectory

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2027, 6, 24, tzinfo=SHANGHAI)
CONTEST = Contest(
    name="基准大赛",
    timezone=SHANGHAI,
    start=START,
    deadline=dt.datetime(2027, 7, 1, 18, tzinfo=SHANGHAI),
    groups=frozenset({1}),
    organizers=frozenset({10000}),
    categories=(Category("town", "镇、街道", 50), Category("dept", "部门、单位", 5)),
)
CHUNK = 5_000


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(fn: Callable[[], Awaitable[Any]], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        await fn()
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


@asynccontextmanager
async def database(url: str | None) -> AsyncIterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"bench_entries_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


async def populate(engine: AsyncEngine, units: int, entries: int, rng: random.Random) -> None:
    now = START + dt.timedelta(days=2)
    unit_rows = [
        {
            "name": f"单位{i:04d}",
            "name_key": f"单位{i:04d}",
            "category": "town" if i % 10 == 0 else "dept",
            "aliases": [],
            "origin": "import",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(units)
    ]
    async with engine.begin() as conn:
        await conn.execute(sa.insert(Unit), unit_rows)
        ids = [r[0] for r in (await conn.execute(sa.select(col(Unit.id)))).all()]
    # Entries spread unevenly: a third of the units get few (they are behind).
    weights = [0.2 if i % 3 == 0 else 1.0 for i in range(len(ids))]
    owners = rng.choices(ids, weights=weights, k=entries)
    for begin in range(0, entries, CHUNK):
        rows = []
        for receipt in range(begin + 1, min(begin + CHUNK, entries) + 1):
            flagged = rng.random() < 0.05
            withdrawn = rng.random() < 0.03
            rows.append(
                {
                    "receipt": receipt,
                    "url": f"https://blog.sina.com.cn/s/blog_{receipt:016x}.html",
                    "given_url": f"blog.sina.com.cn/s/blog_{receipt:016x}.html",
                    "platform": "blog.sina.com.cn",
                    "platform_name": "新浪博客",
                    "kind": "blog",
                    "unit_id": owners[receipt - 1],
                    "author": f"作者{receipt % 5000}",
                    "submitted_by": 20000 + receipt % 3000,
                    "submitted_at": now + dt.timedelta(seconds=receipt),
                    "late": rng.random() < 0.02,
                    "status": "withdrawn" if withdrawn else "accepted",
                    "withdrawn_by": 10000 if withdrawn else None,
                    "withdrawn_at": now if withdrawn else None,
                    "verify_status": "ok",
                    "title": f"学习心得第{receipt}篇",
                    "text_length": 400 if flagged else 900,
                    "flags": ["short"] if flagged else [],
                    "flagged": flagged,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(sa.insert(Entry), rows)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE receipt_counter SET value = :v"), {"v": entries})
        await conn.execute(sa.text("ANALYZE"))


def line(label: str, samples: list[float]) -> str:
    return (
        f"{label:<34} p50 {statistics.median(samples):8.2f} ms   "
        f"p99 {percentile(samples, 0.99):8.2f} ms   max {max(samples):8.2f} ms   (n={len(samples)})"
    )


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    rng = random.Random(20270701)
    async with database(args.url) as url:
        engine = make_engine(url)
        try:
            await migrate(engine)
            started = time.perf_counter()
            await populate(engine, args.units, args.entries, rng)
            build = time.perf_counter() - started
            sessions = session_maker(engine)
            units = await UnitDirectory.load(sessions, CONTEST)
            book = EntryBook(sessions, units)

            statements: list[str] = []

            def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
                statements.append(statement)

            event.listen(engine.sync_engine, "before_cursor_execute", count)
            table = await book.progress_all()
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            queries = [s for s in statements if not s.startswith("BEGIN")]
            progress_samples = await timed(book.progress_all, args.runs)

            all_units = units.list_units()
            serial = iter(range(10**9))
            accepted = 0

            async def submit_one() -> None:
                nonlocal accepted
                n = next(serial)
                link = NewLink(
                    url=f"https://weibo.com/7000000000/Bench{n}",
                    given=f"weibo.com/7000000000/Bench{n}",
                    platform="weibo.com",
                    kind="microblog",
                    author="张三",
                    platform_name="新浪微博",
                )
                unit = rng.choice(all_units)
                outcomes = await book.submit(
                    unit, [link], submitted_by=10001, now=START + dt.timedelta(days=3), late=False
                )
                accepted += isinstance(outcomes[0], Accepted)

            submit_samples = await timed(submit_one, args.submits)
            one_unit = rng.choice(all_units)
            progress_one = await timed(lambda: book.progress(one_unit), args.submits)

            started = time.perf_counter()
            entries = await book.all_entries()
            read_all = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                files = write_exports(Path(tmp), table, entries, CONTEST, START)
                export = time.perf_counter() - started
                sizes = (files.xlsx.stat().st_size, files.csv.stat().st_size)
        finally:
            await engine.dispose()

    backend = make_url(url).get_backend_name()
    print(f"entries benchmark — {backend}, {args.units:,} units, {args.entries:,} entries")
    print(f"built in {build:.1f} s; behind: {sum(p.behind for p in table)} units")
    print(line(f"progress_all ({len(table)} units)", progress_samples))
    print(f"{'':<34} SQL statements per call: {len(queries)} (BEGIN not counted)")
    print(line("submit one new link", submit_samples))
    print(f"{'':<34} accepted {accepted} of {len(submit_samples) + 3}")
    print(line("progress(one unit)", progress_one))
    print(f"{'all_entries()':<34} {read_all * 1000:8.0f} ms for {len(entries):,} entries")
    print(
        f"{'write_exports (xlsx + csv)':<34} {export * 1000:8.0f} ms, "
        f"{sizes[0] / 1e6:.1f} MB + {sizes[1] / 1e6:.1f} MB"
    )
    print(
        f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--submits", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
