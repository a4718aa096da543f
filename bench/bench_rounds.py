"""Rounds benchmark: starting next year's round on a contest-sized database, and opening last
year's archive on the dashboard.

Run by hand from the repository root:

    .venv/bin/python bench/bench_rounds.py                  # SQLite
    .venv/bin/python bench/bench_rounds.py --url postgresql+asyncpg://postgres@127.0.0.1:5441/postgres

It builds a database with 1,000 units (each with a secretary) and 100,000 entries (bulk
inserts), then times, per run on a fresh copy:
- `round new` (`RoundBook.start_next`): the whole database archived (SQLite: VACUUM INTO;
  PostgreSQL: schema round_1 migrated and filled) and the round's tables emptied, in one
  transaction; meanwhile a secretary submits a link every 20 ms, and the slowest of those
  submissions is reported (they wait for the switch's lock, they are not refused);
- opening the archive read-only (migration check, units, names) and the archived overview
  page's data (`DashboardViews.overview`).
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

from loguru import logger

from bench.filling import database, populate
from bot.dashboard.views import DashboardViews
from bot.rounds.archive import open_archive
from bot.rounds.book import RoundBook
from bot.storage.db import open_storage
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.submissions.states import EntryKind
from bot.units.directory import UnitDirectory
from tests.fake import make_contest

NOW = dt.datetime(2027, 6, 26, tzinfo=dt.UTC)


def _link(n: int) -> NewLink:
    return NewLink(
        url=f"https://weibo.com/1/Bench{n}zz",
        given=f"https://weibo.com/1/Bench{n}zz",
        platform="weibo.com",
        kind=EntryKind.MICROBLOG,
        author="张三",
        platform_name="新浪微博",
    )


async def _one_run(url: str, args: argparse.Namespace) -> tuple[float, float, float, float, int]:
    storage = await open_storage(url)
    try:
        await populate(
            storage.engine, args.units, args.entries, random.Random(1), now=NOW, secretaries=True
        )
        contest = make_contest()
        units = await UnitDirectory.load(storage.sessions, contest)
        entries = EntryBook(storage.sessions, units)
        book = RoundBook(storage.sessions, storage.engine, url)
        await book.load(NOW)
        unit = units.list_units()[0]
        waits: list[float] = []
        switching = True

        async def submit() -> None:
            n = 0
            while switching:
                n += 1
                began = time.perf_counter()
                [done] = await entries.submit(unit, [_link(n)], submitted_by=1, now=NOW, late=False)
                assert isinstance(done, Accepted)
                waits.append(time.perf_counter() - began)
                await asyncio.sleep(0.02)

        writer = asyncio.create_task(submit())
        await asyncio.sleep(0.1)
        began = time.perf_counter()
        started = await book.start_next(
            label="下一年", contest_toml=None, now=NOW, now_local=NOW, actor=None
        )
        switch = time.perf_counter() - began
        await asyncio.sleep(0.1)
        switching = False
        await writer
        began = time.perf_counter()
        archive = await open_archive(book, started.closed, contest)
        opened = time.perf_counter() - began
        try:
            views = DashboardViews(
                archive.sessions, archive.units, archive.entries, archive.contest, None
            )
            began = time.perf_counter()
            await views.overview(NOW)
            overview = time.perf_counter() - began
        finally:
            await archive.close()
        return switch, max(waits), opened, overview, started.closed.entries or 0
    finally:
        await storage.close()


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    results = []
    for _ in range(args.runs):
        async with database(args.url, "bench_rounds") as url:
            results.append(await _one_run(url, args))
    backend = "PostgreSQL" if args.url else "SQLite"
    switch, wait, opened, overview, archived = zip(*results, strict=True)
    print(
        f"rounds benchmark — {backend}, {args.units:,} units, {args.entries:,} entries "
        f"({archived[0]:,} accepted archived), n={len(results)}"
    )
    print(f"round new (archive + empty): best {min(switch):.2f} s, worst {max(switch):.2f} s")
    print(f"slowest /提交 during the switch: {max(wait) * 1000:,.0f} ms (none refused)")
    best, worst = min(opened) * 1000, max(opened) * 1000
    print(f"open the archive read-only: best {best:,.0f} ms, worst {worst:,.0f} ms")
    print(
        f"archived overview page data: best {min(overview) * 1000:,.0f} ms, "
        f"worst {max(overview) * 1000:,.0f} ms"
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
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
