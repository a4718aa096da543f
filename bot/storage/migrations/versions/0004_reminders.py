"""Reminders: one row per claimed, sent, failed or skipped reminder; the pause switch.

Revision ID: 0004
Revises: 0003
Create Date: 2026-05-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("pieces_sent", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(40), nullable=True),
        sa.Column("actor", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_send")),
        # The claim: one row per target and slot, whichever process inserts it first.
        sa.UniqueConstraint("target", "key", name=op.f("uq_reminder_send_target_key")),
        sa.CheckConstraint(
            "status IN ('sending', 'failed', 'sent', 'skipped', 'superseded', 'expired',"
            " 'abandoned', 'undelivered')",
            name=op.f("ck_reminder_send_status"),
        ),
    )
    op.create_index(op.f("ix_reminder_send_status"), "reminder_send", ["status"])
    state = op.create_table(
        "reminder_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_state")),
    )
    op.bulk_insert(state, [{"id": 1, "paused": False}])


def downgrade() -> None:
    op.drop_table("reminder_state")
    op.drop_index(op.f("ix_reminder_send_status"), table_name="reminder_send")
    op.drop_table("reminder_send")
