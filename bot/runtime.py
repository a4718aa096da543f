"""The running bot's state: configuration, database, unit directory and outbox.

Opened once at start-up (inside the event loop that will use it) and closed at shutdown.
The chat plugins, the CLI and later the dashboard reach it through `current()`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.registry import BotRegistry
from bot.accounts.relay import Relay
from bot.clock import utc_now
from bot.faq.service import FaqService
from bot.judging.outputs import announcement
from bot.judging.results import Published
from bot.messages.outbox import Outbox
from bot.messages.parts import Target, Text
from bot.reminders.runner import ReminderRunner, Sender
from bot.rounds.archive import Archive
from bot.rounds.book import RoundBook
from bot.settings.check import check, format_report
from bot.settings.contest import Contest
from bot.settings.contests import OtherContest, schema_of
from bot.settings.deployment import Deployment, redact_url
from bot.storage.coherence import ChangeWatcher, Reload, phase_of
from bot.storage.db import Sessions, open_storage
from bot.submissions.book import EntryBook, EntryView, Progress
from bot.submissions.export import Exporter, ExportFiles
from bot.submissions.recheck import STALE_RUN, RecheckBook, RunView, recheck_all
from bot.submissions.verify.fetch import StaticResolver, Verifier
from bot.submissions.verify.run import verify_pending
from bot.units.directory import UnitDirectory
from bot.units.group_roles import GroupRoles
from bot.units.people import People


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
    # QQ ids of organizers to notify privately (configured organizers and SUPERUSERS).
    notify: tuple[int, ...] = field(default=())
    # The FAQ: knowledge base (file + database), ranker and its chat state.
    faq: FaqService | None = None
    # Automatic reminders; the chat layer gives it a sender and calls start/tick.
    reminders: ReminderRunner | None = None
    # People's roles in the served groups as last heard (messages, notices): no QQ call per
    # dashboard click.
    group_roles: GroupRoles = field(default_factory=GroupRoles)
    # Export jobs (/导出 and the dashboard's downloads): one at a time, shared when unchanged.
    exporter: Exporter | None = None
    # People's names as the groups show them (filled by open_runtime; empty in tiny tests).
    people: People = field(default_factory=People)
    # The QQ accounts serving the contest, in this process and others (filled by open_runtime).
    bots: BotRegistry | None = None
    relay: Relay | None = None
    # Notices other processes' changes (started by `start`).
    watcher: ChangeWatcher | None = None
    # The contest's rounds (this year's open, earlier ones archived), and the archives the
    # dashboard opened (read-only; closed with the runtime).
    rounds: RoundBook | None = None
    archives: dict[int, Archive] = field(default_factory=dict)
    # Which contest of the deployment ("": the first, config/contest.toml; else the id of
    # config/contests/<id>.toml), and its PostgreSQL schema (None: the default schema).
    contest_id: str = ""
    schema: str | None = None

    @property
    def token_prefix(self) -> str:
        """What starts this contest's dashboard links and cookies ("" for the first contest)."""
        return f"{self.contest_id}--" if self.contest_id else ""

    # Work started in the background (verification after a receipt, at start-up): kept here so
    # it is not garbage-collected mid-way and is cancelled at shutdown.
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def close(self) -> None:
        for task in list(self.background):
            task.cancel()
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        if self.verifier is not None:
            await self.verifier.close()
        for archive in self.archives.values():
            await archive.close()
        self.archives.clear()
        await self.engine.dispose()


def _verifier(contest: Contest, *, force: bool = False) -> Verifier | None:
    policy = contest.submission
    if not policy.verify and not force:
        return None
    resolver = None
    if policy.verify_allow_private and policy.verify_resolve:
        resolver = StaticResolver(dict(policy.verify_resolve))
    return Verifier(policy, resolver=resolver)


_current: Runtime | None = None
# The deployment's other contests (config/contests/<id>.toml), by id.
_others: dict[str, Runtime] = {}


# The contest whose event (or scheduled work) is being handled: `current()` gives its runtime
# there, so every handler reaches its own contest's data without being told which.
_serving: ContextVar[Runtime | None] = ContextVar("serving", default=None)


def current() -> Runtime:
    """The runtime of the contest being served (see `serving`); elsewhere the first contest's
    (the only one of a single-contest install)."""
    chosen = _serving.get()
    if chosen is not None:
        return chosen
    if _current is None:
        raise RuntimeError("the bot runtime is not open yet")
    return _current


@contextmanager
def serving(runtime: Runtime) -> Iterator[Runtime]:
    """`current()` is `runtime` inside (and in tasks started inside)."""
    token = _serving.set(runtime)
    try:
        yield runtime
    finally:
        _serving.reset(token)


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime
    if runtime is None:
        _others.clear()


def install_other(runtime: Runtime) -> None:
    _others[runtime.contest_id] = runtime


def runtimes() -> list[Runtime]:
    """Every contest's runtime, the first contest's first."""
    if _current is None:
        return []
    return [_current, *_others.values()]


class Rotation:
    """Periodic work for every contest, spread over its period: each `next()` is the next
    contest in turn. A job run every `spread(period)` seconds then reaches each contest once
    per period, instead of all twenty at the same moment (a member's command arriving just
    then would wait behind all of them)."""

    def __init__(self) -> None:
        self._turn = 0

    def next(self) -> Runtime | None:
        everyone = runtimes()
        if not everyone:
            return None
        runtime = everyone[self._turn % len(everyone)]
        self._turn += 1
        return runtime


def spread(period: float) -> float:
    """How often a `Rotation`'s job runs so that each contest has its turn once per `period`
    seconds."""
    return period / max(1, len(runtimes()))


def runtime_for_group(group_id: int) -> Runtime | None:
    """The runtime of the contest that serves `group_id` (a group belongs to one contest)."""
    for runtime in runtimes():
        if group_id in runtime.contest.groups:
            return runtime
    return None


def runtime_by_id(contest_id: str) -> Runtime | None:
    if _current is not None and contest_id == _current.contest_id:
        return _current
    return _others.get(contest_id)


def other_deployment(deployment: Deployment, other: OtherContest) -> Deployment:
    """The deployment as another contest sees it: its own config file, data folder and (on
    SQLite) database file beside the first contest's."""
    url = deployment.database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        url = parsed.set(database=str(path.with_name(f"{path.stem}.{other.id}{path.suffix}")))
        url = url.render_as_string(hide_password=False)
    postgres = parsed.get_backend_name() == "postgresql"
    return dataclasses.replace(
        deployment,
        config_path=other.path,
        data_dir=deployment.data_dir / "contests" / other.id,
        database_url=url,
        database_schema=schema_of(other.id) if postgres else None,
    )


async def open_runtime(
    deployment: Deployment,
    contest: Contest,
    *,
    clock: Callable[[], datetime] = utc_now,
    contest_id: str = "",
) -> Runtime:
    """Connect to the database (migrating it), sync the configured units, build the outbox.

    `contest_id` (another contest of the deployment: `deployment` from `other_deployment`):
    the runtime is not installed as `current()`, and on PostgreSQL its data are in schema
    `contest_<id>`."""
    schema = deployment.database_schema
    storage = await open_storage(deployment.database_url, schema)
    where = f" (schema {schema})" if schema else ""
    logger.info(
        f"database {redact_url(deployment.database_url)}{where} at revision {storage.revision}"
    )
    engine, sessions = storage.engine, storage.sessions
    units = await UnitDirectory.open(sessions, contest, clock())
    notify = tuple(sorted(contest.organizers | deployment.superusers))
    faq = FaqService(
        sessions, contest, data_dir=deployment.data_dir, semantic=deployment.faq_semantic
    )
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
        exporter=Exporter(deployment.data_dir, keep=timedelta(days=deployment.exports_keep_days)),
    )
    runtime.reminders = ReminderRunner(contest, sessions, units, runtime.entries, notify=notify)
    runtime.people = People(sessions, known={j.qq: j.name for j in contest.panel if j.name})
    await runtime.people.load()
    runtime.bots = BotRegistry(sessions)
    await runtime.bots.load()
    runtime.relay = Relay(sessions, runtime.bots.owner)
    runtime.rounds = RoundBook(
        sessions, engine, deployment.database_url, prefix=f"{schema}_" if schema else ""
    )
    await runtime.rounds.load(clock())
    runtime.contest_id, runtime.schema = contest_id, schema
    runtime.spawn(_recheck_link_shapes(runtime))
    if contest_id:
        install_other(runtime)
    else:
        install(runtime)
    return runtime


async def _recheck_link_shapes(runtime: Runtime) -> None:
    """Flag stored entries whose links a newer shape table knows are not posts (never withdrawn)."""
    try:
        changed = await runtime.entries.recheck_link_shapes(runtime.clock())
    except Exception:
        logger.exception("re-checking the stored links' shapes failed")
        return
    if changed:
        logger.info("按链接形式重新检查已登记作品：{} 篇的存疑标记有变化", changed)


async def export_now(runtime: Runtime) -> ExportFiles:
    """Export every entry and each unit's progress (/导出, the dashboard's downloads)."""
    if runtime.exporter is None:
        runtime.exporter = Exporter(
            runtime.deployment.data_dir,
            keep=timedelta(days=runtime.deployment.exports_keep_days),
        )

    async def load() -> tuple[Sequence[Progress], Sequence[EntryView]]:
        return await runtime.entries.progress_all(), await runtime.entries.all_entries()

    return await runtime.exporter.export(
        load, runtime.contest, runtime.clock(), runtime.people.labelled
    )


async def announce_results(runtime: Runtime, send: Sender, published: Published) -> int:
    """A published version's announcement in every served group (/评奖 发布, the dashboard),
    each through an account in that group (`send`: the chat layer's `deliver`); how many groups
    it went (or was handed over) to."""
    link = f"{runtime.deployment.dashboard_url}/dashboard/results"
    text = announcement(published, runtime.contest, link)
    delivered = 0
    for group in sorted(runtime.contest.groups):
        delivery = await send(Target.group(group), [Text(text)])
        delivered += delivery.ok
    return delivered


async def recheck_now(runtime: Runtime, actor: int | None) -> RunView:
    """Re-check every accepted entry (/复核 开始 and the dashboard's button); the finished run.

    Automatic verification may be off (`[submission] verify = false`); an organizer asking for
    a re-check asks for the links to be opened, so a verifier is made for this run then.
    """
    verifier = runtime.verifier
    own = verifier is None
    if verifier is None:
        verifier = _verifier(runtime.contest, force=True)
        assert verifier is not None
    try:
        return await recheck_all(
            runtime.entries, verifier, RecheckBook(runtime.sessions), runtime.clock, actor=actor
        )
    finally:
        if own:
            await verifier.close()


async def recheck_running(runtime: Runtime) -> RunView | None:
    """The run in progress, if one started less than an hour ago has not finished."""
    latest = await RecheckBook(runtime.sessions).latest_run()
    if latest is None or latest.finished or runtime.clock() - latest.started_at >= STALE_RUN:
        return None
    return latest


def is_open() -> bool:
    return _current is not None


async def start(
    deployment: Deployment,
    contest: Contest,
    *,
    clock: Callable[[], datetime] = utc_now,
    others: Sequence[OtherContest] = (),
) -> Runtime:
    """Open the first contest's runtime, then the other contests' (config/contests/), and begin
    their start-up work (verifying entries an earlier run left). The first contest's runtime."""
    runtime = await _start_one(deployment, contest, clock, "")
    for other in others:
        await _start_one(other_deployment(deployment, other), other.contest, clock, other.id)
    return runtime


async def close_all() -> None:
    """Close every contest's runtime (at shutdown)."""
    for runtime in reversed(runtimes()):
        await runtime.close()
    install(None)


async def _start_one(
    deployment: Deployment, contest: Contest, clock: Callable[[], datetime], contest_id: str
) -> Runtime:
    runtime = await open_runtime(deployment, contest, clock=clock, contest_id=contest_id)
    reloads: dict[str, Reload] = {"units": runtime.units.reload, "people": runtime.people.load}
    if runtime.faq is not None:
        reloads["faq"] = runtime.faq.refresh
    if runtime.bots is not None:
        reloads["bots"] = runtime.bots.load
    if runtime.rounds is not None:
        reloads["rounds"] = runtime.rounds.load
    # On one PostgreSQL database the first contest's LISTEN wakes every contest's watcher.
    leader = _current.watcher if contest_id and _current is not None else None
    if leader is not None and leader.engine is not None and leader.engine.url != runtime.engine.url:
        leader = None
    watcher = ChangeWatcher(
        runtime.sessions,
        reloads,
        engine=runtime.engine,
        listen=not leader,
        interval=watch_interval(runtime.engine),
        phase=phase_of(len(_others) + 1 if contest_id else 0, watch_interval(runtime.engine)),
    )
    if leader is not None:
        leader.followers.append(watcher)
    await watcher.prime()
    runtime.watcher = watcher
    runtime.spawn(watcher.run())
    if runtime.verifier is not None:
        runtime.spawn(verify_pending(runtime.entries, runtime.verifier, contest, runtime.clock))
    return runtime


# How often a watcher polls: on PostgreSQL, NOTIFY wakes it at once and the poll only catches a
# notification lost while LISTEN reconnects; on SQLite the poll is all there is.
POSTGRES_POLL_SECONDS = 5.0
SQLITE_POLL_SECONDS = 0.5


def watch_interval(engine: AsyncEngine) -> float:
    postgres = engine.dialect.name == "postgresql"
    return POSTGRES_POLL_SECONDS if postgres else SQLITE_POLL_SECONDS


class NotConfigured(RuntimeError):
    """`.env` or contest.toml has problems; the message lists them (file: key: what to do)."""


async def start_from_files(environ: Mapping[str, str], env_file: Path) -> Runtime:
    """`start`, for entry points other than `python -m bot` (e.g. `nb run`): read and check
    `.env` and contest.toml first, as `python -m bot` does before NoneBot starts."""
    report = check(environ, env_file)
    if report.deployment is None or report.contest is None or report.problems:
        raise NotConfigured(format_report(report))
    return await start(report.deployment, report.contest, others=report.others)
