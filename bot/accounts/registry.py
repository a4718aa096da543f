"""Which QQ account answers a group's messages and which one sends there, when several accounts
(in one process or several, on one database) serve the same contest.

What it guarantees:
- **One serving account per group**, the same in every process that has read the same rows:
  among the accounts that are connected (their process's heartbeat is younger than `STALE`),
  in the group and not muted there, the one seen first, then the lowest QQ number. Accounts whose
  group list is unknown (get_group_list failed) come after those known to be in the group.
- **A group event is taken on once.** While more than one account is registered in a group, an
  account claims each message or notice in `event_claim` (keyed by what every account sees
  alike: group, sender, QQ's own timestamp and the text) before acting on it. The serving
  account claims at once; another waits `FALLBACK` seconds and acts only if nobody claimed it,
  so a message is still answered when the serving account went away before the others learnt
  it. A group served by one account pays nothing.
- **Sends go through an account in the group**: a local one (serving first). A process with no
  account in a group may still claim a reminder there only if no other process has a live one
  (`deliverable`), so the reminder waits for the account that can send it rather than failing.
- **Failover**: an account that disconnects is marked so at once (its process writes it); one
  whose process died is taken for gone when its heartbeat is `STALE`. Either way the next
  account in the group becomes the serving one, in every process, within a poll.

The rows are written by the process holding the connection; every process re-reads them when
the change log says so (`ChangeWatcher`, topic "bots") and on each heartbeat.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.accounts.models import BotAccount, BotGroup, EventClaim
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction

# How often a process refreshes its accounts' `last_seen`, and when another process gives up on
# an account whose heartbeat stopped (its process was killed without saying goodbye).
HEARTBEAT = timedelta(seconds=10)
STALE = timedelta(seconds=30)
# How long an account that does not serve a group waits before taking on one of its events that
# nobody claimed.
FALLBACK = 3.0
# Claims are only compared between copies of one event, which arrive within seconds.
CLAIMS_KEEP = timedelta(days=1)
# An account not seen for this long no longer counts as sharing its groups.
FORGOTTEN = timedelta(days=7)


def process_tag() -> str:
    """This process, for the registry's `owner` columns: host, pid and a random tag."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def event_key(kind: str, group_id: int, user_id: int, at: int, text: str) -> str:
    """The same for every account's copy of one group event (their message ids differ)."""
    raw = f"{kind}|{group_id}|{user_id}|{at}|{text}".encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Account:
    """One account as the registry last read it."""

    self_id: int
    nickname: str
    owner: str
    connected: bool
    first_seen: datetime
    connected_at: datetime
    last_seen: datetime
    disconnected_at: datetime | None
    # Group → muted until (None: not muted). None: get_group_list did not answer.
    groups: Mapping[int, datetime | None] | None


@dataclass(frozen=True)
class AccountView:
    """An account for the dashboard: its state in words and its groups."""

    self_id: int
    nickname: str
    state: str  # "connected" | "muted" | "gone"
    local: bool
    last_seen: datetime
    groups: tuple[tuple[int, datetime | None, bool], ...]  # (group, muted until, serving)
    groups_known: bool


@dataclass
class BotRegistry:
    sessions: Sessions
    owner: str = field(default_factory=process_tag)
    # Accounts connected to this process right now (the chat layer keeps it).
    local: set[int] = field(default_factory=set)
    _accounts: dict[int, Account] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading

    async def load(self) -> None:
        """Re-read every account and membership."""
        async with self.sessions() as session:
            accounts = (await session.exec(select(BotAccount))).all()
            memberships = (await session.exec(select(BotGroup))).all()
        groups: dict[int, dict[int, datetime | None]] = {}
        for row in memberships:
            groups.setdefault(row.self_id, {})[row.group_id] = row.muted_until
        self._accounts = {
            a.self_id: Account(
                self_id=a.self_id,
                nickname=a.nickname,
                owner=a.owner,
                connected=a.connected,
                first_seen=a.first_seen,
                connected_at=a.connected_at,
                last_seen=a.last_seen,
                disconnected_at=a.disconnected_at,
                groups=groups.get(a.self_id, {}) if a.groups_known else None,
            )
            for a in accounts
        }

    def account(self, self_id: int) -> Account | None:
        return self._accounts.get(self_id)

    def live(self, account: Account, now: datetime) -> bool:
        if account.self_id in self.local:
            return True
        if account.owner == self.owner:
            return False  # ours once, not connected here any more
        return account.connected and now - account.last_seen <= STALE

    @staticmethod
    def muted(account: Account, group_id: int, now: datetime) -> bool:
        until = (account.groups or {}).get(group_id)
        return until is not None and until > now

    def candidates(self, group_id: int, now: datetime) -> list[int]:
        """Accounts that could speak in the group now, the serving one first."""
        known: list[Account] = []
        unknown: list[Account] = []
        for account in self._accounts.values():
            if not self.live(account, now) or self.muted(account, group_id, now):
                continue
            if account.groups is None:
                unknown.append(account)
            elif group_id in account.groups:
                known.append(account)
        order = sorted(known, key=_seniority) + sorted(unknown, key=_seniority)
        return [a.self_id for a in order]

    def serving(self, group_id: int, now: datetime) -> int | None:
        ranked = self.candidates(group_id, now)
        return ranked[0] if ranked else None

    def shared(self, group_id: int, now: datetime) -> bool:
        """Whether more than one account is (or lately was) registered in the group."""
        count = 0
        for account in self._accounts.values():
            if now - account.last_seen > FORGOTTEN and account.self_id not in self.local:
                continue
            if account.groups is None or group_id in account.groups:
                count += 1
        return count > 1

    def sender_for(self, group_id: int, now: datetime) -> int | None:
        """The local account to send to the group with: one that can speak there, serving
        first; with no registry knowledge of the group at all, any local account."""
        for self_id in self.candidates(group_id, now):
            if self_id in self.local:
                return self_id
        if self.serving(group_id, now) is None and self.local:
            return min(self.local, key=self._local_order)
        return None

    def private_sender(self) -> int | None:
        """The local account for private messages (organizers, secretaries): the senior one."""
        return min(self.local, key=self._local_order) if self.local else None

    def deliverable(self, group_id: int, now: datetime) -> bool:
        """Whether this process should take on a send to the group: it has an account that can
        speak there, or no process has one (then it claims, fails and retries as before)."""
        ranked = self.candidates(group_id, now)
        return not ranked or any(s in self.local for s in ranked)

    def private_deliverable(self, now: datetime) -> bool:
        """Whether this process should take on private messages: it has an account connected,
        or no other process has one."""
        return bool(self.local) or not any(
            self.live(a, now) for a in self._accounts.values() if a.self_id not in self.local
        )

    def _local_order(self, self_id: int) -> tuple[datetime, int]:
        account = self._accounts.get(self_id)
        if account is None:
            return (datetime.max.replace(tzinfo=UTC), self_id)
        return _seniority(account)

    def views(self, groups: frozenset[int], now: datetime) -> list[AccountView]:
        """Every account, senior first, with its state and (served) groups."""
        rows: list[AccountView] = []
        for account in sorted(self._accounts.values(), key=_seniority):
            live = self.live(account, now)
            served = sorted(groups if account.groups is None else set(account.groups) & groups)
            muted_all = bool(served) and all(self.muted(account, g, now) for g in served)
            rows.append(
                AccountView(
                    self_id=account.self_id,
                    nickname=account.nickname,
                    state="gone" if not live else "muted" if muted_all else "connected",
                    local=account.self_id in self.local,
                    last_seen=now if account.self_id in self.local else account.last_seen,
                    groups=tuple(
                        (
                            g,
                            (account.groups or {}).get(g) if self.muted(account, g, now) else None,
                            self.serving(g, now) == account.self_id,
                        )
                        for g in served
                    ),
                    groups_known=account.groups is not None,
                )
            )
        return rows

    # ------------------------------------------------------------------ writing

    async def connected(
        self,
        self_id: int,
        nickname: str,
        groups: Mapping[int, datetime | None] | None,
        now: datetime,
    ) -> None:
        """An account connected to this process; `groups` from get_group_list (None: unknown),
        with each group's mute as QQ reported it."""
        self.local.add(self_id)
        async with write_transaction(self.sessions) as session:
            row = await session.get(BotAccount, self_id)
            if row is None:
                row = BotAccount(
                    self_id=self_id,
                    nickname=nickname[:64],
                    owner=self.owner,
                    connected=True,
                    groups_known=groups is not None,
                    first_seen=now,
                    connected_at=now,
                    last_seen=now,
                )
            else:
                row.nickname = nickname[:64] or row.nickname
                row.owner = self.owner
                row.connected = True
                row.groups_known = groups is not None or row.groups_known
                row.connected_at = now
                row.last_seen = now
                row.disconnected_at = None
            session.add(row)
            if groups is not None:
                await session.exec(sa.delete(BotGroup).where(col(BotGroup.self_id) == self_id))
                for group_id, muted_until in groups.items():
                    session.add(
                        BotGroup(
                            self_id=self_id,
                            group_id=group_id,
                            muted_until=muted_until,
                            updated_at=now,
                        )
                    )
            session.add(_logged(now, "bot.connect", self_id))
        await self.load()

    async def disconnected(self, self_id: int, now: datetime) -> None:
        """An account's connection to this process closed."""
        self.local.discard(self_id)
        async with write_transaction(self.sessions) as session:
            row = await session.get(BotAccount, self_id)
            if row is not None and row.owner == self.owner:
                row.connected = False
                row.disconnected_at = now
                session.add(row)
                session.add(_logged(now, "bot.disconnect", self_id))
        await self.load()

    async def beat(self, now: datetime) -> None:
        """Say this process's accounts are alive; re-read everyone else's."""
        if self.local:
            async with write_transaction(self.sessions) as session:
                await session.exec(
                    sa.update(BotAccount)
                    .where(
                        col(BotAccount.self_id).in_(sorted(self.local)),
                        col(BotAccount.owner) == self.owner,
                    )
                    .values(last_seen=now, connected=True)
                )
        await self.load()

    async def joined(self, self_id: int, group_id: int, now: datetime) -> None:
        await self._membership(self_id, group_id, now, present=True, until=None)

    async def left(self, self_id: int, group_id: int, now: datetime) -> None:
        await self._membership(self_id, group_id, now, present=False, until=None)

    async def mute(
        self, self_id: int, group_id: int, until: datetime | None, now: datetime
    ) -> None:
        """QQ muted the account in the group until `until` (None: the mute was lifted)."""
        await self._membership(self_id, group_id, now, present=True, until=until)

    async def _membership(
        self, self_id: int, group_id: int, now: datetime, *, present: bool, until: datetime | None
    ) -> None:
        async with write_transaction(self.sessions) as session:
            row = await session.get(BotGroup, (self_id, group_id))
            if not present:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(
                    BotGroup(self_id=self_id, group_id=group_id, muted_until=until, updated_at=now)
                )
            else:
                row.muted_until = until
                row.updated_at = now
                session.add(row)
            session.add(_logged(now, "bot.group", self_id, group=group_id))
        await self.load()

    # ------------------------------------------------------------------ claims

    async def claim(self, key: str, self_id: int, now: datetime) -> bool:
        """Take on a group event; False when another account already did."""
        try:
            async with write_transaction(self.sessions) as session:
                if await session.get(EventClaim, key) is not None:
                    return False
                session.add(EventClaim(key=key, self_id=self_id, at=now))
        except IntegrityError:
            return False  # PostgreSQL: the other account's insert committed first
        return True

    async def forget_claims(self, now: datetime) -> int:
        """Drop claims older than `CLAIMS_KEEP`; how many."""
        async with write_transaction(self.sessions) as session:
            result = await session.exec(
                sa.delete(EventClaim).where(col(EventClaim.at) < now - CLAIMS_KEEP)
            )
        return int(getattr(result, "rowcount", 0) or 0)


def _seniority(account: Account) -> tuple[datetime, int]:
    return (account.first_seen, account.self_id)


def _logged(now: datetime, action: str, self_id: int, **detail: int) -> ChangeLog:
    return ChangeLog(at=now, actor=None, action=action, detail={"bot": self_id, **detail})
