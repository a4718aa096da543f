"""Dashboard benchmark: the overview page with 1,000 units and 100,000 entries.

Run by hand from the repository root:

    .venv/bin/python bench/bench_dashboard.py                # 1,000 units, 100,000 entries
    .venv/bin/python bench/bench_dashboard.py --runs 50 --units 300 --entries 20000

It fills a temporary SQLite database (tests/e2e/dashboard_seed.py: realistic names, entries
spread over three days, a third of the units behind, some withdrawn or flagged) and times

- **server time**: `DashboardViews.overview()` plus rendering overview.html, in process
  (target ≤ 300 ms), and the number of SQL queries one overview costs;
- **HTTP round trip**: `GET /dashboard/` against the real app (`python -m bot` on that
  database, signed in with a session cookie), from sending the request to the last byte;
  also `GET /dashboard/api/units` and the first page of `/dashboard/entries`, for scale.

p50/p99 over `--runs` runs after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import aiohttp
import nonebot
from loguru import logger
from sqlalchemy import event

from bench.timing import line, percentile, timed
from bot.dashboard.auth import CsrfTokens, Grant, SessionBook
from bot.dashboard.views import DashboardViews
from bot.settings.contest import Category, Contest
from bot.storage.db import make_engine, session_maker
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory
from tests.e2e.conftest import AppProcess, app_env, free_port, write_contest
from tests.e2e.dashboard_seed import seed

# The pages live in a NoneBot plugin: load it as one (no bot connects; nothing is served).
nonebot.init(driver="~fastapi")
nonebot.require("plugins.dashboard")
from plugins.dashboard.web import COOKIE, make_pages

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "bench-dashboard-secret-0123456789abcdef"
ORGANIZER = 10_000


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    local = now.astimezone(SHANGHAI).replace(tzinfo=None)
    start, deadline = local - dt.timedelta(days=3), local + dt.timedelta(days=4)
    contest = Contest(
        name="基准大赛",
        timezone=SHANGHAI,
        start=start.replace(tzinfo=SHANGHAI),
        deadline=deadline.replace(tzinfo=SHANGHAI),
        groups=frozenset({700_000_001}),
        organizers=frozenset({ORGANIZER}),
        categories=(Category("town", "镇、街道", 50), Category("dept", "部门、单位", 5)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        started = time.perf_counter()
        await seed(
            url, units=args.units, entries=args.entries, opened=now - dt.timedelta(days=3), now=now
        )
        print(
            f"database: {args.units:,} units, {args.entries:,} entries "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )

        # ---------------------------------------------------------------- in process
        engine = make_engine(url)
        sessions = session_maker(engine)
        units = await UnitDirectory.load(sessions, contest)
        views = DashboardViews(sessions, units, EntryBook(sessions, units), contest)
        pages = make_pages()
        template = pages.get_template("overview.html")
        codec = CsrfTokens(SECRET.encode())
        book = SessionBook(sessions, contest, frozenset())
        session, cookie = await book.start(Grant(ORGANIZER, True, False), now, 12)
        sizes: list[int] = []

        async def overview_only() -> None:
            await views.overview(now)

        async def overview_page() -> None:
            data = await views.overview(now)
            html = template.render(
                contest=contest,
                viewer=session,
                csrf=codec.csrf(cookie),
                local=contest.local,
                page="overview",
                o=data,
            )
            sizes.append(len(html.encode()))

        statements: list[str] = []

        def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            if not statement.startswith("BEGIN"):
                statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        await views.overview(now)
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        data_samples = await timed(overview_only, args.runs)
        page_samples = await timed(overview_page, args.runs)
        await engine.dispose()

        # ---------------------------------------------------------------- over HTTP
        config = folder / "contest.toml"
        write_contest(
            config,
            {
                "contest": {
                    "name": "基准大赛",
                    "start": start,
                    "deadline": deadline,
                    "groups": [700_000_001],
                    "organizers": [ORGANIZER],
                    "judges": [],
                },
                "categories": [
                    {"id": "town", "name": "镇、街道", "quota": 50},
                    {"id": "dept", "name": "部门、单位", "quota": 5},
                ],
                "units": [{"name": "南湖街道", "category": "town"}],
                "submission": {"verify": False},
            },
            from_shipped=False,
        )
        data_dir = folder / "data"
        data_dir.mkdir()
        env = app_env(
            port=free_port(),
            data_dir=data_dir,
            config=config,
            log_level="WARNING",
            extra={"DATABASE_URL": url, "DASHBOARD_SECRET": SECRET},
        )
        app = AppProcess(env, log_path=folder / "app.log")
        await app.start(60)
        base = f"http://{app.host}:{app.port}/dashboard"
        http: dict[str, list[float]] = {}
        try:
            async with aiohttp.ClientSession(headers={"Cookie": f"{COOKIE}={cookie}"}) as client:
                for label, path in (
                    ("GET /dashboard/ (overview)", "/"),
                    ("GET /dashboard/api/units", "/api/units"),
                    ("GET /dashboard/entries (page 1)", "/entries"),
                ):

                    async def fetch(path: str = path) -> None:
                        async with client.get(base + path, allow_redirects=False) as answer:
                            if answer.status != 200:
                                raise RuntimeError(f"{path}: HTTP {answer.status}")
                            await answer.read()

                    http[label] = await timed(fetch, args.runs)
        finally:
            await app.stop()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"date: {dt.date.today().isoformat()}")
    print(
        f"overview: {len(statements)} SQL queries, page {statistics.median(sizes) / 1024:.0f} KiB"
    )
    print(line("overview data (views.overview)", data_samples, width=36, digits=1))
    print(line("overview data + render (server time)", page_samples, width=36, digits=1))
    for label, samples in http.items():
        print(line(label, samples, width=36, digits=1))
    p99 = percentile(page_samples, 0.99)
    verdict = "OK" if p99 <= 300 else "MISSED"
    print(f"target: overview server time ≤ 300 ms — p99 {p99:.0f} ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
