"""Database tables (SQLModel over SQLAlchemy), shared by SQLite and PostgreSQL.

Every schema change needs a migration under `bot/migrations/versions/` and a test that
upgrades a database made by the previous version (tests/bot/test_db.py does this for every
revision). The migrations are written by hand against plain SQLAlchemy types, so they never
change when these classes do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from bot.submissions.links import MAX_URL_LENGTH

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
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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
    # The name folded for lenient comparison (see bot.units.directory.name_key); unique, so
    # "南湖 街道" and "南湖街道" can never both exist, whatever the race.
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


# -------------------------------------------------------------------- submissions (0002)

EntryKind = Literal["blog", "microblog", "article"]
EntryStatus = Literal["accepted", "withdrawn"]
VerifyStatus = Literal["pending", "ok", "unreachable", "not_verifiable", "blocked", "skipped"]
ENTRY_KINDS: tuple[EntryKind, ...] = ("blog", "microblog", "article")
VERIFY_STATUSES: tuple[VerifyStatus, ...] = (
    "pending",
    "ok",
    "unreachable",
    "not_verifiable",
    "blocked",
    "skipped",
)
# Longer links are refused before they reach the database (a unique B-tree key must stay
# small); bot.submissions.links refuses them first (MAX_URL_LENGTH).
URL_MAX = MAX_URL_LENGTH
AUTHOR_MAX = 20
TITLE_MAX = 200


class ReceiptCounter(SQLModel, table=True):
    """The last receipt number handed out: one row (id 1), bumped in the inserting transaction.

    A rolled-back insert (a duplicate, a crash) rolls the counter back with it, so receipts
    have no gaps; on PostgreSQL the row lock also serialises concurrent submissions.
    """

    __tablename__: ClassVar[Any] = "receipt_counter"

    id: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    value: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))


class Entry(SQLModel, table=True):
    """One submitted link (作品), numbered by its receipt (回执编号)."""

    __tablename__: ClassVar[Any] = "entry"
    __table_args__: ClassVar[Any] = (
        sa.CheckConstraint("kind IN ('blog', 'microblog', 'article')", name="kind"),
        sa.CheckConstraint("status IN ('accepted', 'withdrawn')", name="status"),
        sa.CheckConstraint(
            "verify_status IN ('pending', 'ok', 'unreachable', 'not_verifiable', 'blocked',"
            " 'skipped')",
            name="verify_status",
        ),
        # Progress: one GROUP BY over (unit, status) that never reads the table itself.
        sa.Index(None, "unit_id", "status", "late", "flagged"),
        # A unit's entries, newest first.
        sa.Index(None, "unit_id", "receipt"),
        sa.Index(None, "verify_status"),
    )

    receipt: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    # Normalised (bot.submissions.links); unique: the same link submitted twice at the same
    # moment by two secretaries ends with one entry, whatever the race.
    url: str = Field(sa_column=sa.Column(sa.String(URL_MAX), nullable=False, unique=True))
    given_url: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    # The platform's host suffix from [submission] platforms, and its display name.
    platform: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    platform_name: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    unit_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("unit.id"), nullable=False)
    )
    author: str | None = Field(default=None, sa_column=sa.Column(sa.String(AUTHOR_MAX)))
    submitted_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    submitted_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    late: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    withdrawn_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    withdrawn_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    source_group: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    source_message_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    verify_status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    title: str | None = Field(default=None, sa_column=sa.Column(sa.String(TITLE_MAX)))
    text_length: int | None = Field(default=None, sa_column=sa.Column(sa.Integer()))
    # The publication date the page shows (a calendar date: pages rarely give a time).
    published_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date()))
    verified_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    # "short", "outside_window", "unreachable" (bot.submissions.verify.fetch.assess);
    # flagged = bool(flags).
    flags: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    flagged: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False, index=True))
