"""Province benchmark (issue 15, parts 4–5): the 全省 overview of 20 contests on one
PostgreSQL database — 20,000 units and 1,000,000 entries in all.

Run by hand from the repository root (needs a PostgreSQL server it may create databases on):

    .venv/bin/python bench/bench_province.py --url postgresql+asyncpg://postgres@127.0.0.1:5439/postgres
    .venv/bin/python bench/bench_province.py --url … --contests 5 --entries 10000   # quicker

A fresh database; each contest gets its own schema `contest_<id>` migrated as the bot does it
(`open_storage(url, schema)`), then 1,000 units with a secretary each and 50,000 entries,
bulk-inserted (bench/filling.py), VACUUM ANALYZE. Timed: what the 全省 page computes — every
contest's overview (progress per unit, entries per day), all contests at once as the route does
(`asyncio.gather` over one engine per contest): each contest's summary (totals and the last
seven days, `DashboardViews.summary`) `--rounds` times after 3 warm-ups, target ≤ 500 ms; then,
for comparison, every contest's full overview (a row per unit) as the page computed it before;
and one contest's overview alone.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from loguru import logger

from bench.filling import database, populate
from bench.timing import percentile
from bot.dashboard.views import PROVINCE_DAYS, DashboardViews
from bot.settings.contests import schema_of
from bot.storage.db import Storage, open_storage
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory
from tests.fake import make_contest

NOW = dt.datetime(2027, 6, 30, tzinfo=dt.UTC)


async def _contest(url: str, n: int, args: argparse.Namespace) -> tuple[Storage, DashboardViews]:
    storage = await open_storage(url, schema_of(f"c{n:02d}"))
    opened = NOW - dt.timedelta(days=6)
    await populate(
        storage.engine,
        args.units,
        args.entries,
        random.Random(n),
        now=opened,
        seconds_apart=6 * 86_400 / max(args.entries, 1),
        secretaries=True,
    )
    contest = make_contest(start=opened, deadline=NOW + dt.timedelta(days=1))
    units = await UnitDirectory.load(storage.sessions, contest)
    entries = EntryBook(storage.sessions, units)
    return storage, DashboardViews(storage.sessions, units, entries, contest, None)


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    async with database(args.url, "bench_province") as url:
        began = time.perf_counter()
        opened = [await _contest(url, n, args) for n in range(args.contests)]
        built = time.perf_counter() - began
        views = [v for _, v in opened]
        try:
            for _ in range(3):
                await asyncio.gather(*(v.summary(NOW, PROVINCE_DAYS) for v in views))
            every: list[float] = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                await asyncio.gather(*(v.summary(NOW, PROVINCE_DAYS) for v in views))
                every.append(time.perf_counter() - began)
            whole: list[float] = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                await asyncio.gather(*(v.overview(NOW) for v in views))
                whole.append(time.perf_counter() - began)
            one: list[float] = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                await views[0].overview(NOW)
                one.append(time.perf_counter() - began)
        finally:
            for storage, _ in opened:
                await storage.close()
    total_units = args.contests * args.units
    total_entries = args.contests * args.entries
    print(
        f"province benchmark — PostgreSQL, {args.contests} contests, {total_units:,} units, "
        f"{total_entries:,} entries (built in {built:.0f} s)"
    )
    print(
        f"全省 page's figures (every contest's summary): p50 {percentile(every, 0.5) * 1000:.0f}"
        f" ms, p99 {percentile(every, 0.99) * 1000:.0f} ms (n={len(every)}; target ≤ 500 ms)"
    )
    print(
        f"every contest's full overview (as before): p50 {percentile(whole, 0.5) * 1000:.0f}"
        f" ms, p99 {percentile(whole, 0.99) * 1000:.0f} ms"
    )
    print(
        f"one contest's overview: p50 {percentile(one, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(one, 0.99) * 1000:.0f} ms"
    )
    print(
        f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True, help="PostgreSQL server URL")
    parser.add_argument("--contests", type=int, default=20)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=30)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
