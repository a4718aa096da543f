"""Dashboard tables: one-time sign-in links, sessions and judges' scores.

Revision 0005 (bot/storage/migrations/versions/0005_dashboard.py) creates the links and
scores, revision 0008 (0008_dashboard_sessions.py) the sessions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.judging.models import COMMENT_MAX as JUDGE_COMMENT_MAX
from bot.judging.models import SCORE_MAX, SCORE_MIN
from bot.storage.types import UTCDateTime
from bot.submissions.models import Entry

TOKEN_HASH_LENGTH = 64  # SHA-256, hex
# A quality score is a judge's score on the criterion "quality" (bot/judging/models.py).
COMMENT_MAX = JUDGE_COMMENT_MAX
QUALITY_MIN = SCORE_MIN
QUALITY_MAX = SCORE_MAX


class LoginToken(SQLModel, table=True):
    """A one-time sign-in link sent by /后台; only its SHA-256 is stored.

    `organizer` and `judge` are what the sender was when the link was made (a group admin
    counts as an organizer only while the bot can see it in the group, so it is recorded
    here rather than recomputed at sign-in).
    """

    __tablename__: ClassVar[Any] = "login_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(
        sa_column=sa.Column(sa.String(TOKEN_HASH_LENGTH), nullable=False, unique=True)
    )
    user_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    organizer: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    judge: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, index=True))
    used_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class DashboardSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds a random token of which only the SHA-256 is here.

    Roles are not stored: each request reads them from the current config (`bot.dashboard.auth`).
    `group_admin` records that the person was an organizer only as a served group's owner or
    admin when signing in (the bot cannot ask QQ on every click). Signing out sets
    `revoked_at`, so a copied cookie stops working too.
    """

    __tablename__: ClassVar[Any] = "dashboard_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(
        sa_column=sa.Column(sa.String(TOKEN_HASH_LENGTH), nullable=False, unique=True)
    )
    user_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, index=True))
    group_admin: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, index=True))
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class EntryScore(SQLModel, table=True):
    """A judge's quality score (1–10) and comment for one entry; one row per judge and entry.

    The dashboard's pages read these; `ScoreBook` also writes each as the judge's `judge_score`
    on "quality" (bot/judging/models.py), the model judging is computed from.
    """

    __tablename__: ClassVar[Any] = "entry_score"
    __table_args__: ClassVar[Any] = (
        sa.UniqueConstraint("receipt", "judge_id"),
        sa.CheckConstraint(
            f"quality >= {QUALITY_MIN} AND quality <= {QUALITY_MAX}", name="quality"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("entry.receipt"), nullable=False)
    )
    judge_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    quality: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.String(COMMENT_MAX)))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


# The overview's entries-per-day chart counts index ranges of (submitted_at, status); the
# index belongs to the entry table but is the dashboard's, so it is declared (and migrated)
# here.
_ENTRY_TABLE = SQLModel.metadata.tables[Entry.__tablename__]
ENTRY_DAY_INDEX = sa.Index(
    "ix_entry_submitted_at_status", _ENTRY_TABLE.c.submitted_at, _ENTRY_TABLE.c.status
)
