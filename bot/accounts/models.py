"""Tables of the bot accounts' registry: one row per QQ account, one per (account, group), one
per group event a bot took on (so that two accounts in one group answer it once), and messages
waiting for the process whose account can deliver them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


class BotAccount(SQLModel, table=True):
    """A QQ account the bot runs as, as its process last reported it."""

    __tablename__: ClassVar[Any] = "bot_account"

    self_id: int = Field(
        sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False)
    )
    nickname: str = Field(default="", sa_column=sa.Column(sa.String(64), nullable=False))
    # The process that holds (or last held) the connection: host, pid and a random tag.
    owner: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    connected: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    # Whether get_group_list answered at the last connect (False: its groups are unknown).
    groups_known: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    first_seen: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    connected_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # Refreshed by the owning process's heartbeat; a stale one means the process is gone.
    last_seen: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    disconnected_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )


class BotGroup(SQLModel, table=True):
    """An account's membership of a group, and until when it is muted there."""

    __tablename__: ClassVar[Any] = "bot_group"

    self_id: int = Field(
        sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False)
    )
    group_id: int = Field(
        sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False)
    )
    muted_until: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class EventClaim(SQLModel, table=True):
    """A group message or notice one account took on; the others leave it."""

    __tablename__: ClassVar[Any] = "event_claim"

    key: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    self_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, index=True))


class RelayMessage(SQLModel, table=True):
    """A message for a group this process has no account in, for a process that has one."""

    __tablename__: ClassVar[Any] = "relay_message"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # pending → sending (claimed by `owner`) → sent | failed
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False, index=True))
    owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    finished_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    error: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
