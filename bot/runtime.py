"""The running bot's state: configuration, database, unit directory and outbox.

Opened once at start-up (inside the event loop that will use it) and closed at shutdown.
The chat plugins, the CLI and later the dashboard reach it through `current()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import utc_now
from bot.faq.service import FaqService
from bot.messages.outbox import Outbox
from bot.reminders.runner import ReminderRunner
from bot.settings.contest import Contest
from bot.settings.deployment import Deployment, redact_url
from bot.storage.db import Sessions, make_engine, migrate, session_maker
from bot.submissions.book import EntryBook
from bot.submissions.verify.fetch import StaticResolver, Verifier
from bot.units.directory import UnitDirectory


@dataclass
class Runtime:
    deployment: Deployment
    contest: Contest
    engine: AsyncEngine
    sessions: Sessions
    units: UnitDirectory
    outbox: Outbox
    entries: EntryBook
    # Fetches submitted links when `[submission] verify` is on.
    verifier: Verifier | None = None
    clock: Callable[[], datetime] = utc_now
    # QQ ids of organisers to notify privately (configured organisers and SUPERUSERS).
    notify: tuple[int, ...] = field(default=())
    # The FAQ: knowledge base (file + database), ranker and its chat state.
    faq: FaqService | None = None
    # Automatic reminders; the chat layer gives it a sender and calls start/tick.
    reminders: ReminderRunner | None = None

    async def close(self) -> None:
        if self.verifier is not None:
            await self.verifier.close()
        await self.engine.dispose()


def _verifier(contest: Contest) -> Verifier | None:
    policy = contest.submission
    if not policy.verify:
        return None
    resolver = None
    if policy.verify_allow_private and policy.verify_resolve:
        resolver = StaticResolver(dict(policy.verify_resolve))
    return Verifier(policy, resolver=resolver)


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
    faq = FaqService(sessions, contest)
    await faq.load()
    runtime = Runtime(
        deployment=deployment,
        contest=contest,
        engine=engine,
        sessions=sessions,
        units=units,
        outbox=Outbox(contest.messages),
        entries=EntryBook(sessions, units),
        verifier=_verifier(contest),
        clock=clock,
        notify=notify,
        faq=faq,
    )
    runtime.reminders = ReminderRunner(contest, sessions, units, runtime.entries, notify=notify)
    install(runtime)
    return runtime
