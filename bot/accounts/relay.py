"""Messages for a group this process has no account in, handed through the database to a
process that has one (an announcement published on one process's dashboard, say).

`post` writes the message as pending and logs "relay.new", which wakes the other processes
(`ChangeWatcher`, topic "relay"); each takes the pending messages for the groups it can send to.
Taking is one conditional UPDATE per message, so two processes never both send one; a process
that dies mid-send leaves its message "sending" and it is not sent again (a repeated
announcement is worse than a late one; the dashboard shows it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from bot.accounts.models import RelayMessage
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction

# Longer texts are cut: a relayed message is an announcement, not a document.
MAX_TEXT = 4000


@dataclass(frozen=True)
class Relayed:
    id: int
    group_id: int
    text: str


@dataclass
class Relay:
    sessions: Sessions
    owner: str

    async def post(self, group_id: int, text: str, now: datetime) -> int:
        row = RelayMessage(
            group_id=group_id, text=text[:MAX_TEXT], created_at=now, status="pending"
        )
        async with write_transaction(self.sessions) as session:
            session.add(row)
            await session.flush()
            session.add(
                ChangeLog(at=now, actor=None, action="relay.new", detail={"group": group_id})
            )
        assert row.id is not None
        return row.id

    async def take(self, can_send: Callable[[int], bool]) -> list[Relayed]:
        """Claim the pending messages for groups `can_send` accepts, oldest first."""
        async with self.sessions() as session:
            pending = (
                await session.exec(
                    select(RelayMessage)
                    .where(col(RelayMessage.status) == "pending")
                    .order_by(col(RelayMessage.id))
                )
            ).all()
        taken: list[Relayed] = []
        for row in pending:
            if row.id is None or not can_send(row.group_id):
                continue
            async with write_transaction(self.sessions) as session:
                result = await session.exec(
                    sa.update(RelayMessage)
                    .where(col(RelayMessage.id) == row.id, col(RelayMessage.status) == "pending")
                    .values(status="sending", owner=self.owner)
                )
            if getattr(result, "rowcount", 0) == 1:
                taken.append(Relayed(row.id, row.group_id, row.text))
        return taken

    async def finish(self, relay_id: int, now: datetime, error: str | None = None) -> None:
        async with write_transaction(self.sessions) as session:
            await session.exec(
                sa.update(RelayMessage)
                .where(col(RelayMessage.id) == relay_id)
                .values(
                    status="failed" if error else "sent",
                    finished_at=now,
                    error=error[:200] if error else None,
                )
            )

    async def status(self, relay_id: int) -> str | None:
        async with self.sessions() as session:
            row = await session.get(RelayMessage, relay_id)
        return row.status if row is not None else None
