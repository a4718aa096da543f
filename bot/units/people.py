"""People's names as the groups show them (group card, else QQ nickname), so replies, the
dashboard and exports can say 张三 instead of 10003.

Names arrive with every group message (`sender.card`, `sender.nickname`) and with member
lookups the bot makes anyway; nothing is fetched to show a name. They live in memory, loaded
from the `person` table at start-up; a name is written to the database only when it changed,
so a busy group costs a dictionary look-up per message, not a write.

A name is untrusted text: control and direction characters are removed, spaces collapsed and
the length capped (NAME_MAX). It is shown only as text (a text segment in chat, escaped HTML,
a formula-guarded cell), never as a mention.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select

from bot.clock import require_aware
from bot.storage.db import Sessions, write_transaction
from bot.storage.types import UTCDateTime

NAME_MAX = 30


class Person(SQLModel, table=True):
    """The name a QQ id last went by in a served group."""

    __tablename__: ClassVar[Any] = "person"

    user_id: int = Field(
        sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False)
    )
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


def clean_person_name(text: str | None) -> str | None:
    """A card or nickname as shown: visible characters only, spaces collapsed, capped; None
    when nothing is left."""
    if not text:
        return None
    visible = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    name = " ".join(visible.split())
    if not name:
        return None
    return name if len(name) <= NAME_MAX else name[: NAME_MAX - 1] + "…"


class People:
    """Names by QQ id: read from memory, written through to the database when they change.

    `known` are names the organizers wrote in contest.toml (a judge's `name`): shown as
    written, over what the groups show, and never stored (the file is their home).
    """

    def __init__(
        self, sessions: Sessions | None = None, *, known: Mapping[int, str] | None = None
    ) -> None:
        self._sessions = sessions  # None: names kept in memory only (tests)
        self._names: dict[int, str] = {}
        self._known = {
            user_id: name
            for user_id, written in (known or {}).items()
            if (name := clean_person_name(written)) is not None
        }

    async def load(self) -> None:
        if self._sessions is None:
            return
        async with self._sessions() as session:
            rows = (await session.exec(select(Person))).all()
        self._names = {row.user_id: row.name for row in rows}

    def name(self, user_id: int) -> str | None:
        return self._known.get(user_id) or self._names.get(user_id)

    def shown(self, user_id: int) -> str:
        """For chat: the name alone, or `QQ 10003` when no name is known."""
        return self.name(user_id) or f"QQ {user_id}"

    def labelled(self, user_id: int | None) -> str:
        """For the dashboard and exports: `张三（10003）`, or the number alone."""
        if user_id is None:
            return ""
        name = self.name(user_id)
        return f"{name}（{user_id}）" if name else str(user_id)

    def heard(
        self, user_id: int, card: str | None, nickname: str | None
    ) -> Callable[[datetime], Coroutine[Any, Any, None]] | None:
        """Note the name a message or lookup showed; the write to make if it changed (call it
        with the time, off the hot path), else None."""
        name = clean_person_name(card) or clean_person_name(nickname)
        if name is None or self._names.get(user_id) == name:
            return None
        self._names[user_id] = name

        async def save(now: datetime) -> None:
            await self._save(user_id, name, now)

        return save

    async def _save(self, user_id: int, name: str, now: datetime) -> None:
        require_aware(now)
        if self._sessions is None:
            return
        for _ in range(2):  # another process may insert the same person at the same moment
            try:
                async with write_transaction(self._sessions) as session:
                    row = await session.get(Person, user_id)
                    if row is None:
                        session.add(Person(user_id=user_id, name=name, updated_at=now))
                    elif row.name != name:
                        row.name, row.updated_at = name, now
                        session.add(row)
                return
            except IntegrityError:
                continue
