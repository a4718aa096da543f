"""A closed round's archive, opened read-only: the same books the live round uses, on the
archive's data, with contest.toml as it was when the round closed.

Opening first brings the archive to the newest schema (an archive made by an older version of
the bot is migrated like the live database), then reads it through an engine that cannot write:
SQLite `PRAGMA query_only`, PostgreSQL `default_transaction_read_only` (and `search_path` set to
the round's schema). Nothing said or clicked can change an archived round.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.rounds.book import RoundBook, RoundView
from bot.settings.contest import Contest
from bot.settings.loader import load_contest
from bot.storage.db import Sessions, make_engine, migrate, session_maker
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory
from bot.units.people import People


class ArchiveMissing(RuntimeError):
    """A closed round's archive is not where the round says (a file moved, a schema dropped)."""


@dataclass
class Archive:
    round: RoundView
    engine: AsyncEngine
    sessions: Sessions
    contest: Contest
    units: UnitDirectory
    entries: EntryBook
    people: People

    async def close(self) -> None:
        await self.engine.dispose()


def _engine(book: RoundBook, found: RoundView, *, read_only: bool) -> AsyncEngine:
    assert found.archive is not None
    if book.engine.dialect.name == "sqlite":
        path = book.archive_path(found)
        if not path.is_file():
            raise ArchiveMissing(f"{found.label}的归档文件不见了：{path}")
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        if read_only:

            @event.listens_for(engine.sync_engine, "connect")
            def _query_only(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute("PRAGMA query_only=ON")
                finally:
                    cursor.close()

        return engine
    settings = {"search_path": f'"{found.archive}"'}
    if read_only:
        settings["default_transaction_read_only"] = "on"
    return make_engine(book.url, connect_args={"server_settings": settings})


async def open_archive(book: RoundBook, found: RoundView, live: Contest) -> Archive:
    """The archive of closed round `found`, read-only (see the module's docstring)."""
    if found.open or found.archive is None:
        raise ValueError(f"round {found.id} is open: it has no archive")
    writable = _engine(book, found, read_only=False)
    try:
        await migrate(writable)
    finally:
        await writable.dispose()
    engine = _engine(book, found, read_only=True)
    try:
        sessions = session_maker(engine)
        contest = archived_contest(found, live)
        units = await UnitDirectory.load(sessions, contest)
        people = People(sessions, known={j.qq: j.name for j in contest.panel if j.name})
        await people.load()
        return Archive(found, engine, sessions, contest, units, EntryBook(sessions, units), people)
    except BaseException:
        await engine.dispose()
        raise


def archived_contest(found: RoundView, live: Contest) -> Contest:
    """contest.toml as the round closed with it; the live one if it was not kept or no longer
    reads (a setting this version of the bot renamed)."""
    if not found.contest_toml:
        return live
    with tempfile.TemporaryDirectory(prefix="round-") as folder:
        path = Path(folder) / "contest.toml"
        path.write_text(found.contest_toml, encoding="utf-8")
        contest, problems = load_contest(path)
    if contest is None:
        logger.warning(
            "{} 的 contest.toml 已不能按现在的版本读取（{} 个问题），归档页面按现在的设置显示",
            found.label,
            len(problems),
        )
        return live
    return dataclasses.replace(contest, config_dir=live.config_dir)
