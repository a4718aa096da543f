"""The running bot's state: configuration, database, unit directory and outbox.

Opened once at start-up (inside the event loop that will use it) and closed at shutdown.
The chat plugins, the CLI and later the dashboard reach it through `current()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.contest import Contest
from bot.db import Sessions, make_engine, migrate, session_maker
from bot.outgoing import Outbox
from bot.settings import Deployment, redact_url
from bot.units import UnitDirectory


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    deployment: Deployment
    contest: Contest
    engine: AsyncEngine
    sessions: Sessions
    units: UnitDirectory
    outbox: Outbox
    clock: Callable[[], datetime] = utc_now
    # QQ ids of organisers to notify privately (configured organisers and SUPERUSERS).
    notify: tuple[int, ...] = field(default=())

    async def close(self) -> None:
        await self.engine.dispose()


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the bot runtime is not open yet")
    return _current


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


async def open_runtime(
    deployment: Deployment, contest: Contest, *, clock: Callable[[], datetime] = utc_now
) -> Runtime:
    """Connect to the database (migrating it), sync the configured units, build the outbox."""
    engine = make_engine(deployment.database_url)
    revision = await migrate(engine)
    logger.info(f"database {redact_url(deployment.database_url)} at schema {revision}")
    sessions = session_maker(engine)
    units = await UnitDirectory.load(sessions, contest)
    await units.sync_from_config(contest, clock())
    notify = tuple(sorted(contest.organizers | deployment.superusers))
    runtime = Runtime(
        deployment=deployment,
        contest=contest,
        engine=engine,
        sessions=sessions,
        units=units,
        outbox=Outbox(contest.messages),
        clock=clock,
        notify=notify,
    )
    install(runtime)
    return runtime
