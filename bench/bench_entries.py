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
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from loguru import logger
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.filling import database, populate
from bench.timing import line, timed
from bot.settings.contest import Category, Contest
from bot.storage.db import make_engine, migrate, session_maker
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.submissions.export import write_exports
from bot.units.directory import UnitDirectory

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


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    rng = random.Random(20270701)
    async with database(args.url, "bench_entries") as url:
        engine = make_engine(url)
        try:
            await migrate(engine)
            started = time.perf_counter()
            await populate(engine, args.units, args.entries, rng, now=START + dt.timedelta(days=2))
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
