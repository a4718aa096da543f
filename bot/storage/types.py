"""Column types and naming rules every table shares, on SQLite and PostgreSQL alike.

Every schema change needs a migration under `bot/storage/migrations/versions/` and a test that
upgrades a database made by the previous version (tests/bot/storage/test_db.py does this for
every revision). The migrations are written by hand against plain SQLAlchemy types, so they
never change when the table classes do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

# Deterministic constraint names: SQLite's batch migrations and PostgreSQL's ALTERs must be
# able to name a constraint to drop or change it later.
# The largest value an INTEGER column holds (PostgreSQL refuses more, past int64 the driver
# overflows): receipts and other ids a person may type are checked against it first.
INT_MAX = 2**31 - 1

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


E = TypeVar("E", bound=StrEnum)


class EnumText(sa.TypeDecorator[E], Generic[E]):
    """A `StrEnum` stored as its value in a VARCHAR; read back as the enum member.

    An unknown value is refused on the way in (ValueError), so a typo cannot reach the table.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)
