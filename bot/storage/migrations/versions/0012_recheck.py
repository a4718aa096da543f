"""Re-verification before judging: each entry's fingerprint and text snapshot, and the re-checks.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entry") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))
    op.create_table(
        "recheck_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recheck_run")),
    )
    op.create_table(
        "entry_recheck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_recheck")),
        sa.ForeignKeyConstraint(
            ["run"], ["recheck_run.id"], name=op.f("fk_entry_recheck_run_recheck_run")
        ),
        sa.ForeignKeyConstraint(
            ["receipt"], ["entry.receipt"], name=op.f("fk_entry_recheck_receipt_entry")
        ),
        sa.UniqueConstraint("run", "receipt", name=op.f("uq_entry_recheck_run_receipt")),
        sa.CheckConstraint(
            "outcome IN ('ok', 'gone', 'private', 'changed', 'cannot_check')",
            name=op.f("ck_entry_recheck_outcome"),
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('keep', 'withdraw')",
            name=op.f("ck_entry_recheck_decision"),
        ),
    )
    op.create_index(op.f("ix_entry_recheck_receipt"), "entry_recheck", ["receipt"])


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_recheck_receipt"), table_name="entry_recheck")
    op.drop_table("entry_recheck")
    op.drop_table("recheck_run")
    with op.batch_alter_table("entry") as batch:
        batch.drop_column("snapshot")
        batch.drop_column("fingerprint")
