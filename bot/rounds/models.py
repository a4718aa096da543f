"""The `contest_round` table: one row per round (轮次), the open one last."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime

LABEL_MAX = 32
ARCHIVE_MAX = 255


class ContestRound(SQLModel, table=True):
    """A round: 1, 2, …; `closed_at` None for the one open now (there is exactly one).

    A closed round's data live in its archive: on SQLite a copy of the whole database file
    (`archive` is its file name, next to the live database), on PostgreSQL a schema of the same
    database (`archive` is the schema's name). `contest_toml` is contest.toml as it was when the
    round closed, so the archive shows that year's window, categories and quotas.
    """

    __tablename__: ClassVar[Any] = "contest_round"

    id: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    label: str = Field(sa_column=sa.Column(sa.String(LABEL_MAX), nullable=False, unique=True))
    started_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    closed_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    archive: str | None = Field(default=None, sa_column=sa.Column(sa.String(ARCHIVE_MAX)))
    contest_toml: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    # Accepted entries when the round closed (the round list shows it without opening archives).
    entries: int | None = Field(default=None, sa_column=sa.Column(sa.Integer()))
