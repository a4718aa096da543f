"""Database tables (SQLModel over SQLAlchemy), shared by SQLite and PostgreSQL.

Every schema change needs a migration under `bot/migrations/versions/` and a test that
upgrades a database made by the previous version (tests/bot/test_db.py does this for every
revision). The migrations are written by hand against plain SQLAlchemy types, so they never
change when these classes do.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

# Deterministic constraint names: SQLite's batch migrations and PostgreSQL's ALTERs must be
# able to name a constraint to drop or change it later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Origin = Literal["config", "chat", "import"]
ORIGINS: tuple[Origin, ...] = ("config", "chat", "import")

UNIT_NAME_MAX = 64


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC, read back aware on every backend.

    SQLite has no timezone type and hands back naive values; PostgreSQL's timestamptz hands
    back aware ones. Either way the application only ever sees aware UTC datetimes, and a
    naive datetime is refused on the way in rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused by the database layer: {value!r}")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Unit(SQLModel, table=True):
    """A grassroots organisation that must meet a quota (单位)."""

    __tablename__: ClassVar[Any] = "unit"
    __table_args__: ClassVar[Any] = (
        sa.CheckConstraint("origin IN ('config', 'chat', 'import')", name="origin"),
        sa.CheckConstraint("config_quota IS NULL OR config_quota >= 0", name="config_quota"),
        sa.CheckConstraint("quota_override IS NULL OR quota_override >= 0", name="quota_override"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(UNIT_NAME_MAX), nullable=False, unique=True))
    # The name folded for lenient comparison (see bot.units.name_key); unique, so "南湖 街道"
    # and "南湖街道" can never both exist, whatever the race.
    name_key: str = Field(
        sa_column=sa.Column(sa.String(UNIT_NAME_MAX), nullable=False, unique=True)
    )
    category: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    aliases: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    # The quota written for this unit in contest.toml (or in the imported roster).
    config_quota: int | None = Field(default=None, sa_column=sa.Column(sa.Integer()))
    # Set from chat (/单位 配额); wins over config_quota and the category's quota.
    quota_override: int | None = Field(default=None, sa_column=sa.Column(sa.Integer()))
    origin: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    updated_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))


class Secretary(SQLModel, table=True):
    """A QQ id bound to a unit (联络员). One unit per QQ id.

    `unit_id` NULL is a tombstone: the binding was removed from chat, so a restart must not
    re-bind it from contest.toml.
    """

    __tablename__: ClassVar[Any] = "secretary"
    __table_args__: ClassVar[Any] = (
        sa.CheckConstraint("origin IN ('config', 'chat', 'import')", name="origin"),
    )

    user_id: int = Field(
        sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False)
    )
    unit_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("unit.id"), nullable=True, index=True),
    )
    origin: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    updated_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))


class ChangeLog(SQLModel, table=True):
    """Who changed what, when: one row per change made from chat, import or config."""

    __tablename__: ClassVar[Any] = "change_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, index=True))
    actor: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    action: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
