"""A database for the benchmarks: a throwaway one, and bulk-filled units and entries."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.names import name_key
from bot.storage.db import make_engine
from bot.submissions.models import Entry
from bot.units.models import Secretary, Unit

CHUNK = 5_000  # entries per INSERT (one executemany each)
ORGANIZER = 10_000  # who withdrew the withdrawn entries


@asynccontextmanager
async def database(url: str | None, prefix: str) -> AsyncIterator[str]:
    """The URL of an empty database, gone afterwards.

    Without `url`, a SQLite file in a temporary directory; with a PostgreSQL server's `url`, a
    fresh database named `prefix_<random>` on that server, dropped at the end.
    """
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


async def populate(
    engine: AsyncEngine,
    units: int,
    entries: int,
    rng: random.Random,
    *,
    now: dt.datetime,
    first: int = 0,
    seconds_apart: float = 1.0,
    flagged: float = 0.05,
    withdrawn: float = 0.03,
    late: float = 0.02,
    secretaries: bool = False,
) -> None:
    """Bulk-insert `units` units and `entries` entries into a migrated database.

    The units are 单位{first:04d} onwards, every tenth a town, the rest departments; with
    `secretaries`, each gets one. The entries go to all units in the database, unevenly: a
    third of the units get a fifth of the share (they are behind). Entry n is submitted at
    `now` + n × `seconds_apart`; `flagged`, `withdrawn` and `late` are the chances that an
    entry is flagged (too short), withdrawn by the organizer, or late. The receipt counter is
    set to `entries`, so new receipts follow on, and ANALYZE runs (on PostgreSQL, VACUUM ANALYZE
    of the entries, as autovacuum would have done).
    """
    names = [f"单位{i:04d}" for i in range(first, first + units)]
    unit_rows = [
        {
            "name": name,
            "name_key": name_key(name),
            "category": "town" if i % 10 == 0 else "dept",
            "aliases": [],
            "origin": "import",
            "created_at": now,
            "updated_at": now,
        }
        for i, name in enumerate(names, start=first)
    ]
    async with engine.begin() as conn:
        await conn.execute(sa.insert(Unit), unit_rows)
        ids = [r[0] for r in (await conn.execute(sa.select(col(Unit.id)))).all()]
        if secretaries:
            await conn.execute(
                sa.insert(Secretary),
                [
                    {
                        "user_id": 3_000_000_000 + i,
                        "unit_id": unit_id,
                        "origin": "import",
                        "updated_at": now,
                    }
                    for i, unit_id in enumerate(ids)
                ],
            )
    weights = [0.2 if i % 3 == 0 else 1.0 for i in range(len(ids))]
    owners = rng.choices(ids, weights=weights, k=entries)
    for begin in range(0, entries, CHUNK):
        rows = []
        for receipt in range(begin + 1, min(begin + CHUNK, entries) + 1):
            # Drawn in this order so that a given seed keeps giving the same database.
            is_flagged = rng.random() < flagged
            is_withdrawn = rng.random() < withdrawn
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
                    "submitted_by": 20_000 + receipt % 3000,
                    "submitted_at": now + dt.timedelta(seconds=receipt * seconds_apart),
                    "late": rng.random() < late,
                    "status": "withdrawn" if is_withdrawn else "accepted",
                    "withdrawn_by": ORGANIZER if is_withdrawn else None,
                    "withdrawn_at": now if is_withdrawn else None,
                    "verify_status": "ok",
                    "title": f"学习心得第{receipt}篇",
                    "text_length": 400 if is_flagged else 900,
                    "flags": ["short"] if is_flagged else [],
                    "flagged": is_flagged,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(sa.insert(Entry), rows)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE receipt_counter SET value = :v"), {"v": entries})
        await conn.execute(sa.text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a table that has grown by inserts (PostgreSQL 13 and later)
        # before a live database gets this big: without it, every count reads the whole heap
        # instead of the index (196 ms → 66 ms for 1,000,000 entries).
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(sa.text("VACUUM ANALYZE entry"))
