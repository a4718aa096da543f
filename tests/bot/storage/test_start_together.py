"""Two bot processes opening one new database at the same instant (systemd restarting one while
an operator runs `python -m bot migrate`, two bots on one PostgreSQL): both start, neither
crashes with "database is locked", and the schema is made once.

Each process is a real one (multiprocessing, spawn); a barrier lines them up before every
round, so both call `open_storage` — the start-up path of the bot and the CLI — within
microseconds of each other, on a fresh file each round.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import traceback
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bot.storage.db import VERSION_TABLE, head_revision, open_storage
from tests.databases import postgres_database

ROUNDS = 10
PROCESSES = 2


def _open_each(urls: list[str], barrier: Barrier, results: Any) -> None:
    """In a child process: for each URL, wait for the others, then open (and migrate) it."""

    async def one(url: str) -> str:
        storage = await open_storage(url)
        await storage.close()
        return storage.revision

    for url in urls:
        barrier.wait(timeout=60)
        try:
            results.put(("ok", asyncio.run(one(url))))
        except BaseException:
            results.put(("error", traceback.format_exc()))


def _start_together(urls: list[str]) -> list[tuple[str, str]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_open_each, args=(urls, barrier, results)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in range(PROCESSES * len(urls))]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return outcomes


def test_two_processes_open_a_fresh_sqlite_file_at_once_ten_times(tmp_path: Path) -> None:
    files = [tmp_path / f"bot-{n}.db" for n in range(ROUNDS)]

    outcomes = _start_together([f"sqlite+aiosqlite:///{f}" for f in files])

    errors = [detail for status, detail in outcomes if status == "error"]
    assert errors == []
    assert [detail for _, detail in outcomes] == [head_revision()] * (PROCESSES * ROUNDS)
    for file in files:
        with sqlite3.connect(file) as db:
            versions = db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        assert versions == [(head_revision(),)]


async def test_two_processes_open_a_fresh_postgresql_database_at_once() -> None:
    async with postgres_database() as url:
        outcomes = await asyncio.to_thread(_start_together, [url])

    assert [status for status, _ in outcomes] == ["ok"] * PROCESSES, outcomes
