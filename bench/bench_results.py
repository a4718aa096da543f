"""Results benchmark (issue 13): the results page and the static showcase, from a database.

Run by hand from the repository root:

    .venv/bin/python bench/bench_results.py                  # SQLite, about 30 s
    .venv/bin/python bench/bench_results.py --postgres postgresql+asyncpg://…/postgres

A database with 200 units and 10,000 entries (bench/filling.py), 3 judges' quality scores on
every accepted entry (about 29,000 rows) and views for four in five, under the shipped
config/contest.toml's [judging] (z-score, quality 70 · views 20 · reposts 10, four tiers, two
unit awards). Times, in the process, what the routes and commands do:

- preview: `compute` — every accepted entry, score and latest figure read, normalised,
  scaled, totalled and explained, the awards drawn (what /评奖 预览 and the preview page do);
- results page: the published version loaded, its versions listed, one page of 50 rows
  rendered with the dashboard's template (the server's share of GET /dashboard/results;
  target ≤ 300 ms);
- showcase: `write_showcase` of a published version whose winners hold 500 entries
  (target ≤ 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy as sa

from bench.filling import database, populate
from bench.timing import line, timed
from bot.judging.metrics import MetricSnapshot
from bot.judging.models import JudgeScore
from bot.judging.results import PersonRow, ResultsBook, compute
from bot.judging.showcase import write_showcase
from bot.settings.loader import load_contest
from bot.storage.db import make_engine, migrate, session_maker
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory
from bot.units.people import People

JUDGES = (20001, 20002, 20003, 20004, 20005, 20006, 20007)


async def fill(url: str, entries: int, rng: random.Random, now: dt.datetime) -> None:
    engine = make_engine(url)
    await migrate(engine)
    await populate(engine, 200, entries, rng, now=now - dt.timedelta(days=10))
    async with engine.begin() as conn:
        accepted = [
            r[0]
            for r in (
                await conn.execute(sa.text("SELECT receipt FROM entry WHERE status = 'accepted'"))
            ).all()
        ]
        scores = [
            {"receipt": r, "judge_id": j, "criterion": "quality", "value": rng.randint(4, 10),
             "updated_at": now}
            for r in accepted
            for j in rng.sample(JUDGES, 3)
        ]  # fmt: skip
        for begin in range(0, len(scores), 5000):
            await conn.execute(sa.insert(JudgeScore), scores[begin : begin + 5000])
        figures = [
            {"receipt": r, "metric": "views", "value": int(rng.lognormvariate(7, 1.5)),
             "measured_at": now, "source": "表格 bench.xlsx", "recorded_at": now}
            for r in accepted
            if rng.random() < 0.8
        ]  # fmt: skip
        for begin in range(0, len(figures), 5000):
            await conn.execute(sa.insert(MetricSnapshot), figures[begin : begin + 5000])
    await engine.dispose()


async def run(url: str | None, entries: int, runs: int) -> None:
    # The dashboard's pages module without the plugin package (which needs NoneBot running).
    spec = importlib.util.spec_from_file_location(
        "dashboard_pages", REPO_ROOT / "plugins" / "dashboard" / "pages.py"
    )
    assert spec is not None
    assert spec.loader is not None
    pages_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pages_module)
    make_pages = pages_module.make_pages

    rng = random.Random(20270710)
    now = dt.datetime.now(dt.UTC)
    contest, problems = load_contest(REPO_ROOT / "config" / "contest.toml")
    assert contest is not None, problems
    async with database(url, "bench_results") as db_url:
        began = time.perf_counter()
        await fill(db_url, entries, rng, now)
        print(f"filled {entries:,} entries and their scores in {time.perf_counter() - began:.1f} s")
        engine = make_engine(db_url)
        sessions = session_maker(engine)
        units = await UnitDirectory.open(sessions, contest, now)
        book = EntryBook(sessions, units)

        previews = await timed(lambda: compute(sessions, book, contest, now), runs, warmup=1)
        preview = await compute(sessions, book, contest, now)
        results = ResultsBook(sessions)
        await results.publish(preview, actor=10000, now=now)
        pages = make_pages()
        template = pages.get_template("results.html")

        async def results_page() -> str:
            published = await results.current()
            assert published is not None
            versions = await results.versions()
            shown = published.results
            return template.render(
                contest=contest, viewer=None, csrf="", local=contest.local, people=People(),
                prefix="/dashboard", shown=shown, published=published, preview=False,
                versions=versions, tab="entries", tabs={"entries": "全部作品"},
                rows=shown.entries[:50], number=1, pages=len(shown.entries) // 50,
                done=None,
            )  # fmt: skip

        page_times = await timed(results_page, runs * 4)

        all_entries = {e.receipt: e for e in await book.all_entries()}
        accepted = [r for r, e in all_entries.items() if not e.withdrawn][:500]
        winners = tuple(
            PersonRow(
                i + 1, ("一等奖", "二等奖", "三等奖", "优秀奖")[i % 4], "单位", "作者", 90.0, (r,)
            )
            for i, r in enumerate(accepted)
        )
        published = await results.current()
        assert published is not None
        big = replace(published, results=replace(published.results, people=winners))
        with tempfile.TemporaryDirectory() as out:
            showcase = []
            for _ in range(runs):
                started = time.perf_counter()
                count = write_showcase(Path(out), big, all_entries, contest)
                showcase.append((time.perf_counter() - started) * 1000)
        await engine.dispose()

    print(f"{entries:,} entries, {len(preview.entries):,} accepted, {os.cpu_count()} cores")
    print(line("preview: compute every total and award", previews, 42))
    print(line("results page (load version + render 50 rows)", page_times, 42))
    print(line(f"showcase of {count} entries (write_showcase)", showcase, 42))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server's URL")
    args = parser.parse_args()
    asyncio.run(run(args.postgres, args.entries, args.runs))


if __name__ == "__main__":
    main()
