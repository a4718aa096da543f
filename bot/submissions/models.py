"""Entries in the database (tables `entry` and `receipt_counter`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.types import EnumText, UTCDateTime
from bot.submissions.links import MAX_URL_LENGTH
from bot.submissions.states import EntryKind, EntryStatus, VerifyStatus

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
    kind: EntryKind = Field(sa_column=sa.Column(EnumText(EntryKind, 16), nullable=False))
    unit_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("unit.id"), nullable=False)
    )
    author: str | None = Field(default=None, sa_column=sa.Column(sa.String(AUTHOR_MAX)))
    submitted_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    submitted_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    late: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    status: EntryStatus = Field(sa_column=sa.Column(EnumText(EntryStatus, 16), nullable=False))
    withdrawn_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    withdrawn_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    source_group: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    source_message_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    verify_status: VerifyStatus = Field(
        sa_column=sa.Column(EnumText(VerifyStatus, 16), nullable=False)
    )
    title: str | None = Field(default=None, sa_column=sa.Column(sa.String(TITLE_MAX)))
    text_length: int | None = Field(default=None, sa_column=sa.Column(sa.Integer()))
    # The publication date the page shows (a calendar date: pages rarely give a time).
    published_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date()))
    verified_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    # "short", "outside_window", "unreachable" (bot.submissions.verify.fetch.assess);
    # flagged = bool(flags).
    flags: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    flagged: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False, index=True))
    # What the post said when it was last read (bot/submissions/recheck.py tells a changed post
    # by it): the SHA-256 of its body text, and {"title", "excerpt", "images"}. None until a
    # verification or re-check read the page (revision 0012 added them).
    fingerprint: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
