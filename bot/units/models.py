"""Units and their secretaries in the database (tables `unit` and `secretary`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime

Origin = Literal["config", "chat", "import"]
ORIGINS: tuple[Origin, ...] = ("config", "chat", "import")

UNIT_NAME_MAX = 64


class Unit(SQLModel, table=True):
    """A grassroots organization that must meet a quota (单位)."""

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
