"""Reach figures: snapshots of each entry's views, reposts, comments and likes, with their source.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_snapshot")),
        sa.ForeignKeyConstraint(
            ["receipt"], ["entry.receipt"], name=op.f("fk_metric_snapshot_receipt_entry")
        ),
        sa.UniqueConstraint(
            "receipt",
            "metric",
            "measured_at",
            "source",
            name=op.f("uq_metric_snapshot_receipt_metric_measured_at_source"),
        ),
        sa.CheckConstraint(
            "value >= 0 AND value <= 1000000000000", name=op.f("ck_metric_snapshot_value")
        ),
    )
    op.create_index(
        "ix_metric_snapshot_receipt_metric",
        "metric_snapshot",
        ["receipt", "metric", "measured_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_metric_snapshot_receipt_metric", table_name="metric_snapshot")
    op.drop_table("metric_snapshot")
