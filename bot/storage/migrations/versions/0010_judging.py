"""Judging: scores per criterion, assignments, rounds; today's quality scores moved in.

Every `entry_score` row (a judge's quality 1–10 and comment from the dashboard) becomes a
`judge_score` row under the criterion "quality", with its comment and time. `entry_score` stays:
the dashboard writes both until its pages read `judge_score`, so a downgrade loses nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "judge_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.BigInteger(), nullable=False),
        sa.Column("criterion", sa.String(32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_score")),
        sa.ForeignKeyConstraint(
            ["receipt"], ["entry.receipt"], name=op.f("fk_judge_score_receipt_entry")
        ),
        sa.UniqueConstraint(
            "receipt",
            "judge_id",
            "criterion",
            name=op.f("uq_judge_score_receipt_judge_id_criterion"),
        ),
        sa.CheckConstraint("value >= 1 AND value <= 10", name=op.f("ck_judge_score_value")),
    )
    op.create_index(op.f("ix_judge_score_judge_id"), "judge_score", ["judge_id"])
    op.create_table(
        "judging_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.BigInteger(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dropped_reason", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judging_assignment")),
        sa.ForeignKeyConstraint(
            ["receipt"], ["entry.receipt"], name=op.f("fk_judging_assignment_receipt_entry")
        ),
        sa.UniqueConstraint(
            "receipt", "judge_id", name=op.f("uq_judging_assignment_receipt_judge_id")
        ),
    )
    op.create_index(op.f("ix_judging_assignment_judge_id"), "judging_assignment", ["judge_id"])
    op.create_table(
        "judging_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judging_round")),
    )

    # Today's scores: plain SQL, the same on SQLite and PostgreSQL; times are copied as stored.
    op.execute(
        "INSERT INTO judge_score (receipt, judge_id, criterion, value, comment, updated_at)"
        " SELECT receipt, judge_id, 'quality', quality, comment, updated_at FROM entry_score"
        " ORDER BY id"
    )


def downgrade() -> None:
    op.drop_table("judging_round")
    op.drop_index(op.f("ix_judging_assignment_judge_id"), table_name="judging_assignment")
    op.drop_table("judging_assignment")
    op.drop_index(op.f("ix_judge_score_judge_id"), table_name="judge_score")
    op.drop_table("judge_score")
