"""State shared by several bot processes on one database: each process notices what the others
changed and reloads the caches that hold it, within a second.

Every process keeps some state in memory for speed: the unit directory (units, secretaries),
the FAQ (entries added in chat), people's names. Each of these is written through the database
together with a log row in the same transaction — `change_log` (actions `unit.*`,
`config.sync`), `faq_change`, `person.updated_at` — so the logs say what changed, in order.
`ChangeWatcher` reads them:

- on SQLite and PostgreSQL alike, it polls every `interval` seconds: the `change_log` rows
  after the last one seen (a primary-key range, cheap however long the log; also written when a
  bot account connects, disconnects, joins, leaves or is muted — "bot.*" — and when a message
  is handed over to another process — "relay.new" — and when a round starts — "round.new"),
  `max(id)` of
  `faq_change`, `max(updated_at)` and `count(*)` of `person`;
- on PostgreSQL it also LISTENs on the `bot_changes` channel, which triggers on those tables
  NOTIFY (revision 0015): a change wakes the watcher at once, and the poll stays the source of
  truth (a notification missed during a reconnect is caught by the next poll).

A cache's own process reloads too when it sees its own change: harmless, and simpler than
telling them apart. Per-group guards (repeats, flood limits, pending number replies) are not
shared: they belong to the process serving that group.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import Sessions

CHANNEL = "bot_changes"
UNIT_ACTIONS = frozenset(
    {"unit.add", "unit.bind", "unit.unbind", "unit.quota", "unit.import", "config.sync"}
)
Reload = Callable[[], Awaitable[Any]]


@dataclass
class _Marks:
    change_log: int | None = None
    faq: int | None = None
    people: tuple[Any, ...] | None = None


@dataclass
class ChangeWatcher:
    """Reloads `reloads[topic]` when another process changed it: "units", "faq", "people",
    "bots" (the accounts' registry), "relay" (messages handed over for sending) and "rounds" (a
    new round started: bot/rounds/book.py)."""

    sessions: Sessions
    # Mutable: the chat layer adds "relay" once it can send.
    reloads: dict[str, Reload]
    interval: float = 0.5
    engine: AsyncEngine | None = None  # PostgreSQL: LISTEN for a prompt wake-up
    # Other watchers of this process on the same database (its other contests): woken by this
    # one's LISTEN, which the channel being database-wide makes enough — one LISTEN connection
    # per process, not one per contest.
    followers: list[ChangeWatcher] = field(default_factory=list)
    listen: bool = True
    # Seconds after start of this watcher's first timed poll; its later ones follow every
    # `interval`, whatever wakes it in between. A process's twenty contests' watchers, each
    # with its own phase, poll at twenty moments rather than at one (see `phase_of`).
    phase: float = 0.0
    _marks: _Marks = field(default_factory=_Marks)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def prime(self) -> None:
        """Remember where the logs stand now (what this process already loaded)."""
        await self.poll(fire=False)

    async def poll(self, *, fire: bool = True) -> set[str]:
        """Compare the logs with what was seen; reload what changed. The topics reloaded."""
        changed: set[str] = set()
        async with self.sessions() as session:
            connection = await session.connection()
            last = self._marks.change_log
            if last is None:
                top = (await connection.execute(sa.text("SELECT max(id) FROM change_log"))).scalar()
                self._marks.change_log = top or 0
            else:
                rows = (
                    await connection.execute(
                        sa.text("SELECT id, action FROM change_log WHERE id > :last ORDER BY id"),
                        {"last": last},
                    )
                ).all()
                if rows:
                    self._marks.change_log = rows[-1][0]
                    actions = {action for _id, action in rows}
                    if actions & UNIT_ACTIONS:
                        changed.add("units")
                    if any(a.startswith("bot.") for a in actions):
                        changed.add("bots")
                    if "relay.new" in actions:
                        changed.add("relay")
                    if "round.new" in actions:
                        changed.add("rounds")
            faq = (await connection.execute(sa.text("SELECT max(id) FROM faq_change"))).scalar()
            faq = faq or 0
            if self._marks.faq is not None and faq != self._marks.faq:
                changed.add("faq")
            self._marks.faq = faq
            people = tuple(
                (
                    await connection.execute(
                        sa.text("SELECT count(*), max(updated_at) FROM person")
                    )
                ).one()
            )
            if self._marks.people is not None and people != self._marks.people:
                changed.add("people")
            self._marks.people = people
        if not fire:
            return set()
        for topic in sorted(changed):
            reload = self.reloads.get(topic)
            if reload is None:
                continue
            try:
                await reload()
            except Exception:
                logger.exception("reloading {} after another process changed it failed", topic)
            else:
                logger.debug("reloaded {}: changed by another process", topic)
        return changed

    async def run(self) -> None:
        """Poll until cancelled (woken early by PostgreSQL notifications)."""
        listener = asyncio.create_task(self._listen()) if self._postgres and self.listen else None
        loop = asyncio.get_running_loop()
        base = loop.time() + self.phase
        try:
            while True:
                now = loop.time()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), next_poll(now, base, self.interval) - now
                    )
                self._wake.clear()
                try:
                    await self.poll()
                except Exception:
                    logger.exception("checking for changes by other processes failed")
                    await asyncio.sleep(self.interval)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await listener

    def wake(self) -> None:
        """Poll now (and have the followers poll)."""
        self._wake.set()
        for follower in self.followers:
            follower.wake()

    @property
    def _postgres(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "postgresql"

    async def _listen(self) -> None:
        """LISTEN on `bot_changes` on a connection of its own; reconnect when it drops."""
        assert self.engine is not None
        while True:
            try:
                async with self.engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver: Any = raw.driver_connection
                    await driver.add_listener(CHANNEL, lambda *_args: self.wake())
                    closed = asyncio.Event()
                    driver.add_termination_listener(lambda *_args, done=closed: done.set())
                    await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.opt(exception=True).debug("LISTEN {} failed; retrying", CHANNEL)
            await asyncio.sleep(5)


def next_poll(now: float, base: float, interval: float) -> float:
    """When a watcher whose timed polls fall at `base + n * interval` next polls."""
    if now < base:
        return base
    step = max(interval, 0.01)
    return base + step * (math.floor((now - base) / step) + 1)


def phase_of(k: int, interval: float) -> float:
    """The phase of a process's k-th watcher: spread over `interval` for any number of them
    (multiples of the golden ratio, modulo 1, never bunch up)."""
    return interval * ((k * 0.6180339887) % 1.0)
