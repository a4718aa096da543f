"""What became of each reminder: claimed, sent, failed (to retry), skipped; and the pause switch.

One `reminder_send` row per (target, slot key). The row is inserted — the *claim* — before
anything is sent, and the unique constraint on (target, key) decides between two bot processes
sharing a database: the second insert fails, so that process does not send. The row then
follows the send:

    sending ──ok──▶ sent
       │
       └─failed──▶ failed (next_try_at) ──retry claimed──▶ sending …
                      │
                      ├─ a newer slot for the same target was claimed ──▶ superseded
                      └─ too late to be useful (deadline passed) ─────────▶ expired

Slots nobody will send are recorded too (`skipped`, with the reason: missed while the bot was
down, or paused), so a restart never reconsiders them. A `sending` row whose process died
mid-send (its lease ran out) becomes `abandoned`: the message may well have arrived, and
sending it again would break "never twice", so it is not retried.

Revision 0004 (bot/storage/migrations/versions/0004_reminders.py) creates these tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select

from bot.storage.db import Sessions, write_transaction
from bot.storage.types import UTCDateTime

SendStatus = Literal[
    "sending", "failed", "sent", "skipped", "superseded", "expired", "abandoned", "undelivered"
]
SEND_STATUSES: tuple[SendStatus, ...] = (
    "sending",
    "failed",
    "sent",
    "skipped",
    "superseded",
    "expired",
    "abandoned",
    "undelivered",
)
# Rows still in play: being sent, or waiting for a retry.
OPEN_STATUSES: tuple[SendStatus, ...] = ("sending", "failed")

TARGET_MAX = 40
KEY_MAX = 120
KIND_MAX = 16
REASON_MAX = 32
ERROR_MAX = 200
OWNER_MAX = 40
STATE_ID = 1


def group_target(group_id: int) -> str:
    return f"group:{group_id}"


# The organizers' private summary after the deadline and the private messages to secretaries
# are claimed once per slot, whatever the number of groups.
ORGANIZERS_TARGET = "organizers"
SECRETARIES_TARGET = "secretaries"


class ReminderSend(SQLModel, table=True):
    """One scheduled (or manual) reminder to one target, from claim to outcome."""

    __tablename__: ClassVar[Any] = "reminder_send"
    __table_args__: ClassVar[Any] = (
        sa.UniqueConstraint("target", "key"),
        sa.CheckConstraint(
            "status IN ('sending', 'failed', 'sent', 'skipped', 'superseded', 'expired',"
            " 'abandoned', 'undelivered')",
            name="status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(sa_column=sa.Column(sa.String(TARGET_MAX), nullable=False))
    key: str = Field(sa_column=sa.Column(sa.String(KEY_MAX), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(KIND_MAX), nullable=False))
    # When the slot was due (for a manual send: when it was asked for).
    due: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False, index=True))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(REASON_MAX)))
    late: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer(), nullable=False))
    # Messages of this reminder already delivered: a retry resumes after them.
    pieces_sent: int = Field(default=0, sa_column=sa.Column(sa.Integer(), nullable=False))
    claimed_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    attempt_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    next_try_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    # Which runner holds a `sending` row (a random id per process).
    owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(OWNER_MAX)))
    # Who asked, for a manual send.
    actor: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.String(ERROR_MAX)))


class ReminderState(SQLModel, table=True):
    """The one row of switches organizers change from chat (`/提醒 暂停`)."""

    __tablename__: ClassVar[Any] = "reminder_state"

    id: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    paused: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))
    changed_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    changed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


@dataclass(frozen=True)
class SendRecord:
    """A `reminder_send` row as plain values."""

    id: int
    target: str
    key: str
    kind: str
    due: datetime
    status: str
    reason: str | None
    late: bool
    attempts: int
    pieces_sent: int
    claimed_at: datetime
    attempt_at: datetime | None
    next_try_at: datetime | None
    finished_at: datetime | None
    actor: int | None
    error: str | None


@dataclass(frozen=True)
class PauseState:
    paused: bool
    changed_by: int | None = None
    changed_at: datetime | None = None


def _record(row: ReminderSend) -> SendRecord:
    assert row.id is not None
    return SendRecord(
        id=row.id,
        target=row.target,
        key=row.key,
        kind=row.kind,
        due=row.due,
        status=row.status,
        reason=row.reason,
        late=row.late,
        attempts=row.attempts,
        pieces_sent=row.pieces_sent,
        claimed_at=row.claimed_at,
        attempt_at=row.attempt_at,
        next_try_at=row.next_try_at,
        finished_at=row.finished_at,
        actor=row.actor,
        error=row.error,
    )


def _clip(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


class ReminderStore:
    """Claims and outcomes of reminders; every method is one short transaction."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    # ------------------------------------------------------------------ reading

    async def keys_by_target(self, targets: Iterable[str]) -> dict[str, set[str]]:
        """For each target, the slot keys it already has a row for (whatever the outcome)."""
        wanted = list(targets)
        found: dict[str, set[str]] = {t: set() for t in wanted}
        if not wanted:
            return found
        query = select(col(ReminderSend.target), col(ReminderSend.key)).where(
            col(ReminderSend.target).in_(wanted)
        )
        async with self._sessions() as session:
            for target, key in (await session.exec(query)).all():
                found[target].add(key)
        return found

    async def get(self, target: str, key: str) -> SendRecord | None:
        async with self._sessions() as session:
            row = (
                await session.exec(
                    select(ReminderSend).where(
                        col(ReminderSend.target) == target, col(ReminderSend.key) == key
                    )
                )
            ).first()
        return None if row is None else _record(row)

    async def records(self, target: str | None = None) -> list[SendRecord]:
        """Rows (of one target), oldest claim first."""
        query = select(ReminderSend).order_by(col(ReminderSend.id))
        if target is not None:
            query = query.where(col(ReminderSend.target) == target)
        async with self._sessions() as session:
            return [_record(r) for r in (await session.exec(query)).all()]

    async def due_retries(self, now: datetime) -> list[SendRecord]:
        """Failed sends whose next try has come, oldest due first."""
        query = (
            select(ReminderSend)
            .where(col(ReminderSend.status) == "failed", col(ReminderSend.next_try_at) <= now)
            .order_by(col(ReminderSend.due), col(ReminderSend.id))
        )
        async with self._sessions() as session:
            return [_record(r) for r in (await session.exec(query)).all()]

    async def next_retry_at(self) -> datetime | None:
        query = select(sa.func.min(col(ReminderSend.next_try_at))).where(
            col(ReminderSend.status) == "failed"
        )
        async with self._sessions() as session:
            value = (await session.exec(query)).one()
        return value

    async def pending(self) -> list[SendRecord]:
        """Rows waiting for a retry."""
        query = select(ReminderSend).where(col(ReminderSend.status) == "failed")
        async with self._sessions() as session:
            return [_record(r) for r in (await session.exec(query)).all()]

    # ------------------------------------------------------------------ claiming

    async def claim(
        self,
        target: str,
        key: str,
        *,
        kind: str,
        due: datetime,
        now: datetime,
        owner: str,
        late: bool = False,
        actor: int | None = None,
        supersede: bool = True,
    ) -> SendRecord | None:
        """Claim (target, key) for sending; None when a row exists already (someone else's).

        In the same transaction (unless `supersede` is False), a reminder of this target still
        waiting for a retry is marked superseded: the new one replaces it, so at most one is
        ever pending.
        """
        row = ReminderSend(
            target=target,
            key=key,
            kind=kind,
            due=due,
            status="sending",
            late=late,
            attempts=1,
            claimed_at=now,
            attempt_at=now,
            owner=owner,
            actor=actor,
        )
        try:
            async with write_transaction(self._sessions) as session:
                session.add(row)
                await session.flush()
                if not supersede:
                    return _record(row)
                await session.exec(
                    sa.update(ReminderSend)
                    .where(
                        col(ReminderSend.target) == target,
                        col(ReminderSend.status) == "failed",
                        col(ReminderSend.id) != row.id,
                    )
                    .values(status="superseded", finished_at=now, next_try_at=None)
                )
        except IntegrityError:
            return None
        return _record(row)

    async def record(
        self,
        target: str,
        key: str,
        *,
        kind: str,
        due: datetime,
        now: datetime,
        status: SendStatus,
        reason: str | None = None,
    ) -> bool:
        """Record a slot that will not be sent (skipped); False if it had a row already."""
        row = ReminderSend(
            target=target,
            key=key,
            kind=kind,
            due=due,
            status=status,
            reason=_clip(reason, REASON_MAX),
            claimed_at=now,
            finished_at=now,
        )
        try:
            async with write_transaction(self._sessions) as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def claim_retry(self, row_id: int, now: datetime, owner: str) -> SendRecord | None:
        """Take a failed row for another attempt; None if another process took it first."""
        async with write_transaction(self._sessions) as session:
            result = await session.exec(
                sa.update(ReminderSend)
                .where(
                    col(ReminderSend.id) == row_id,
                    col(ReminderSend.status) == "failed",
                    col(ReminderSend.next_try_at) <= now,
                )
                .values(
                    status="sending",
                    owner=owner,
                    attempt_at=now,
                    attempts=col(ReminderSend.attempts) + 1,
                    next_try_at=None,
                )
            )
            if result.rowcount != 1:
                return None
            row = await session.get(ReminderSend, row_id)
            assert row is not None
            await session.refresh(row)
            return _record(row)

    # ------------------------------------------------------------------ outcomes

    async def finish(
        self,
        row_id: int,
        now: datetime,
        status: SendStatus,
        *,
        pieces_sent: int | None = None,
        reason: str | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": now, "next_try_at": None}
        if pieces_sent is not None:
            values["pieces_sent"] = pieces_sent
        if reason is not None:
            values["reason"] = _clip(reason, REASON_MAX)
        if error is not None:
            values["error"] = _clip(error, ERROR_MAX)
        async with write_transaction(self._sessions) as session:
            await session.exec(
                sa.update(ReminderSend).where(col(ReminderSend.id) == row_id).values(**values)
            )

    async def fail(
        self, row_id: int, now: datetime, *, next_try_at: datetime, pieces_sent: int, error: str
    ) -> bool:
        """Leave a failed attempt for a retry at `next_try_at`.

        False (and nothing changed) when the row is no longer ours to retry: a newer
        reminder for the target superseded it while this attempt was under way.
        """
        async with write_transaction(self._sessions) as session:
            result = await session.exec(
                sa.update(ReminderSend)
                .where(col(ReminderSend.id) == row_id, col(ReminderSend.status) == "sending")
                .values(
                    status="failed",
                    next_try_at=next_try_at,
                    pieces_sent=pieces_sent,
                    error=_clip(error, ERROR_MAX),
                )
            )
            return result.rowcount == 1

    async def abandon_stale(self, before: datetime, now: datetime) -> list[SendRecord]:
        """`sending` rows whose attempt began before `before`: their process died mid-send."""
        stale = select(col(ReminderSend.id)).where(
            col(ReminderSend.status) == "sending", col(ReminderSend.attempt_at) < before
        )
        async with self._sessions() as session:
            if not (await session.exec(stale)).first():
                return []  # the usual case, without taking the write lock
        async with write_transaction(self._sessions) as session:
            rows = (
                await session.exec(
                    select(ReminderSend).where(
                        col(ReminderSend.status) == "sending",
                        col(ReminderSend.attempt_at) < before,
                    )
                )
            ).all()
            for row in rows:
                row.status = "abandoned"
                row.finished_at = now
                session.add(row)
        return [_record(r) for r in rows]

    async def hurry(self, now: datetime) -> int:
        """Make every send waiting for a retry due at `now`; how many there were."""
        async with write_transaction(self._sessions) as session:
            result = await session.exec(
                sa.update(ReminderSend)
                .where(col(ReminderSend.status) == "failed", col(ReminderSend.next_try_at) > now)
                .values(next_try_at=now)
            )
            return result.rowcount

    # ------------------------------------------------------------------ pause

    async def pause_state(self) -> PauseState:
        async with self._sessions() as session:
            row = await session.get(ReminderState, STATE_ID)
        if row is None:
            return PauseState(False)
        return PauseState(row.paused, row.changed_by, row.changed_at)

    async def set_paused(self, paused: bool, actor: int | None, now: datetime) -> bool:
        """Switch automatic reminders off or on; False if they already were."""
        async with write_transaction(self._sessions) as session:
            row = await session.get(ReminderState, STATE_ID)
            if row is None:
                row = ReminderState(id=STATE_ID, paused=False)
            if row.paused == paused:
                return False
            row.paused = paused
            row.changed_by = actor
            row.changed_at = now
            session.add(row)
        return True
