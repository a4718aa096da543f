"""The audit trail: one `change_log` row per change made from chat, import, config or the web."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


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
