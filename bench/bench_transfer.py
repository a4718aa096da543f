"""Transfer benchmark: `python -m bot migrate-to` on a contest-sized SQLite database.

Run by hand from the repository root:

    .venv/bin/python bench/bench_transfer.py                  # into another SQLite file
    .venv/bin/python bench/bench_transfer.py --url postgresql+asyncpg://postgres@127.0.0.1:5441/postgres

It builds a SQLite database with 1,000 units (each with a secretary), 100,000 entries and
100,000 change-log rows (bulk inserts), then times `transfer()` into a new database, as
`migrate-to` does: both migrated, every table copied in batches in one transaction, counts
verified. With --url (PostgreSQL), the target is a fresh database on that server, dropped
afterwards; the runs are repeated on new targets and the best and worst are printed.
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
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy as sa
from loguru import logger
from sqlalchemy.engine import make_url

from bench.filling import database, populate
from bot.storage.changelog import ChangeLog
from bot.storage.db import make_engine, migrate
from bot.storage.transfer import transfer

NOW = dt.datetime(2027, 6, 26, tzinfo=dt.UTC)


async def _fill(url: str, units: int, entries: int, logs: int) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
        await populate(engine, units, entries, random.Random(20270701), now=NOW, secretaries=True)
        for begin in range(0, logs, 5_000):
            rows = [
                {
                    "at": NOW + dt.timedelta(seconds=n),
                    "actor": 3_000_000_000 + n % 1000,
                    "action": "entry.submit",
                    "detail": {"receipt": n, "unit": f"单位{n % units:04d}"},
                }
                for n in range(begin, min(begin + 5_000, logs))
            ]
            async with engine.begin() as conn:
                await conn.execute(sa.insert(ChangeLog), rows)
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    async with database(None, "bench_transfer") as source:
        started = time.perf_counter()
        await _fill(source, args.units, args.entries, args.logs)
        build = time.perf_counter() - started
        seconds: list[float] = []
        rows = 0
        for _ in range(args.runs):
            async with database(args.url, "bench_transfer") as target:
                done = await transfer(source, target)
            seconds.append(done.seconds)
            rows = done.total

    backend = "PostgreSQL" if args.url else "SQLite"
    print(f"transfer benchmark — SQLite to {backend}, {rows:,} rows (built in {build:.1f} s)")
    print(
        f"migrate-to: best {min(seconds):.1f} s, worst {max(seconds):.1f} s "
        f"(n={len(seconds)}), {rows / min(seconds):,.0f} rows/s at best"
    )
    if args.url:
        print(f"server: {make_url(args.url).render_as_string(hide_password=True)}")
    print(
        f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
