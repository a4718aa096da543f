"""Dashboard: one-time sign-in links and judges' scores.

Revision ID: 0005
Revises: 0004
Create Date: 2026-05-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("organizer", sa.Boolean(), nullable=False),
        sa.Column("judge", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_token_token_hash")),
    )
    op.create_index(op.f("ix_login_token_expires_at"), "login_token", ["expires_at"])
    op.create_table(
        "entry_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.BigInteger(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_score")),
        sa.ForeignKeyConstraint(
            ["receipt"], ["entry.receipt"], name=op.f("fk_entry_score_receipt_entry")
        ),
        sa.UniqueConstraint("receipt", "judge_id", name=op.f("uq_entry_score_receipt_judge_id")),
        sa.CheckConstraint("quality >= 1 AND quality <= 10", name=op.f("ck_entry_score_quality")),
    )

    # The overview's entries-per-day counts (bot/dashboard/views.py).
    op.create_index(op.f("ix_entry_submitted_at_status"), "entry", ["submitted_at", "status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_submitted_at_status"), table_name="entry")
    op.drop_table("entry_score")
    op.drop_index(op.f("ix_login_token_expires_at"), table_name="login_token")
    op.drop_table("login_token")
