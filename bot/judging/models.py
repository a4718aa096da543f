"""Judging's tables: judges' scores per criterion, who judges which entry, and judging rounds.

Revision 0010 (bot/storage/migrations/versions/0010_judging.py) creates them and copies every
quality score judges gave on the dashboard (`entry_score`) into `judge_score` under the
criterion `quality`.

What the database guarantees:
- one score per entry, judge and criterion (`judge_score`'s unique key), always 1–10;
- one assignment per entry and judge; a judge who drops out keeps the row, marked with when and
  why (`dropped_at`, `dropped_reason`), so coverage can be rebuilt and the record stays;
- a round records who opened judging and when, and the `[judging]` policy it was opened with,
  so results can be traced to the rules they were computed under.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.judging.config import CRITERION_ID_MAX
from bot.storage.types import UTCDateTime

SCORE_MIN = 1
SCORE_MAX = 10
COMMENT_MAX = 500
REASON_MAX = 200
# The criterion today's dashboard scores (quality 1–10), and the one revision 0010 moves
# `entry_score` into.
QUALITY = "quality"


class JudgeScore(SQLModel, table=True):
    """One judge's 1–10 score of one entry on one criterion, with an optional comment."""

    __tablename__: ClassVar[Any] = "judge_score"
    __table_args__: ClassVar[Any] = (
        sa.UniqueConstraint("receipt", "judge_id", "criterion"),
        sa.CheckConstraint(f"value >= {SCORE_MIN} AND value <= {SCORE_MAX}", name="value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("entry.receipt"), nullable=False)
    )
    judge_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, index=True))
    criterion: str = Field(sa_column=sa.Column(sa.String(CRITERION_ID_MAX), nullable=False))
    value: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.String(COMMENT_MAX)))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class JudgingAssignment(SQLModel, table=True):
    """An entry given to a judge; `dropped_at` set: no longer theirs (the row is the record)."""

    __tablename__: ClassVar[Any] = "judging_assignment"
    __table_args__: ClassVar[Any] = (sa.UniqueConstraint("receipt", "judge_id"),)

    id: int | None = Field(default=None, primary_key=True)
    receipt: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("entry.receipt"), nullable=False)
    )
    judge_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, index=True))
    assigned_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    dropped_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    dropped_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(REASON_MAX)))


class JudgingRound(SQLModel, table=True):
    """Judging opened (and later closed) by an organizer; `policy` is `[judging]` as it was."""

    __tablename__: ClassVar[Any] = "judging_round"

    id: int | None = Field(default=None, primary_key=True)
    opened_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # None: from the command line, where there is no QQ id.
    opened_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    closed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    closed_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    policy: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
