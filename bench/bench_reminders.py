"""Reminders benchmark: building (and sending) the group reminder with 100,000 entries stored.

Run by hand from the repository root:

    .venv/bin/python bench/bench_reminders.py                 # a temporary SQLite database
    .venv/bin/python bench/bench_reminders.py --url postgresql+asyncpg://postgres@127.0.0.1:5441/postgres

It builds a database with 1,000 units (each with a secretary; about a third of them behind
their quota) and 100,000 entries, then times
- building the reminder: the progress of every unit (`EntryBook.progress_all`, one query),
  the @-list and `reminder_messages`, rendered to OneBot segment arrays as the outbox would
  (target ≤ 200 ms, with a constant number of queries): p50/p99 over `--runs` runs, and the
  SQL statements one build issues;
- one whole scheduled send through `ReminderRunner.send_slot` — claim, build, send to a sender
  that returns at once, record the outcome — p50/p99 and its statements.
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
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from loguru import logger
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.filling import database, populate
from bench.timing import line, timed
from bot.messages.outbox import Delivery
from bot.messages.parts import Part, Target
from bot.messages.render import render
from bot.reminders.compose import reminder_messages
from bot.reminders.plan import Slot
from bot.reminders.runner import ReminderRunner
from bot.reminders.store import group_target
from bot.settings.contest import Category, Contest, ReminderPolicy
from bot.storage.db import make_engine, migrate, session_maker
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2027, 6, 24, tzinfo=SHANGHAI)
DEADLINE = dt.datetime(2027, 7, 1, 18, tzinfo=SHANGHAI)
NOW = DEADLINE - dt.timedelta(days=1)
GROUP = 1
CONTEST = Contest(
    name="基准大赛",
    timezone=SHANGHAI,
    start=START,
    deadline=DEADLINE,
    groups=frozenset({GROUP}),
    organizers=frozenset({10000}),
    categories=(Category("town", "镇、街道", 150), Category("dept", "部门、单位", 100)),
    reminders=ReminderPolicy(daily_at=None, quiet_hours=None),
)


class Statements:
    """Counts the SQL statements an engine sends (BEGIN/COMMIT not counted)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def _count(self, _c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.seen.append(statement)

    async def during(self, fn: Callable[[], Awaitable[Any]]) -> int:
        self.seen = []
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)
        try:
            await fn()
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", self._count)
        return len(self.seen)


async def run(args: argparse.Namespace) -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    rng = random.Random(20270701)
    async with database(args.url, "bench_reminders") as url:
        engine = make_engine(url)
        try:
            await migrate(engine)
            started = time.perf_counter()
            await populate(
                engine,
                args.units,
                args.entries,
                rng,
                now=START + dt.timedelta(days=2),
                flagged=0.0,
                withdrawn=0.0,
                late=0.0,
                secretaries=True,
            )
            build_db = time.perf_counter() - started
            sessions = session_maker(engine)
            units = await UnitDirectory.load(sessions, CONTEST)
            book = EntryBook(sessions, units)
            messages_sent = 0

            async def sender(target: Target, parts: Sequence[Part]) -> Delivery:
                nonlocal messages_sent
                messages_sent += 1
                return Delivery(target, ok=True, sent=1)

            runner = ReminderRunner(CONTEST, sessions, units, book, sender=sender)
            shape: dict[str, int] = {}

            async def build() -> None:
                progress = await book.progress_all()
                secretaries = {u.id: u.secretaries for u in units.list_units()}
                messages = reminder_messages(
                    CONTEST,
                    progress,
                    secretaries,
                    NOW,
                    late=False,
                    max_mentions=CONTEST.messages.max_mentions,
                )
                arrays = [a for m in messages for a in render(m, CONTEST.messages)]
                shape.update(
                    behind=sum(p.behind for p in progress),
                    messages=len(messages),
                    arrays=len(arrays),
                    mentions=sum(1 for a in arrays for s in a if s["type"] == "at"),
                )

            counter = Statements(engine)
            build_queries = await counter.during(build)
            build_samples = await timed(build, args.runs)

            serial = iter(range(10**9))

            async def send_one() -> None:
                n = next(serial)
                slot = Slot("offset", f"offset:bench{n}@x", NOW, NOW)
                await runner.send_slot(slot, NOW, late=False, target=group_target(GROUP))

            send_queries = await counter.during(send_one)
            before = messages_sent
            send_samples = await timed(send_one, args.runs)
            per_send = (messages_sent - before) // (args.runs + 3)
        finally:
            await engine.dispose()

    backend = make_url(url).get_backend_name()
    print(f"reminders benchmark — {backend}, {args.units:,} units, {args.entries:,} entries")
    print(
        f"database built in {build_db:.1f} s; behind: {shape['behind']} units → "
        f"{shape['messages']} messages, {shape['mentions']} @ (max {CONTEST.messages.max_mentions}"
        f" per message, {CONTEST.messages.max_length} characters)"
    )
    print(line("build the reminder", build_samples))
    print(f"{'':<34} SQL statements per build: {build_queries}")
    print(line("send_slot (claim+build+record)", send_samples))
    print(f"{'':<34} SQL statements per send: {send_queries}; messages per send: {per_send}")
    print(
        f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
