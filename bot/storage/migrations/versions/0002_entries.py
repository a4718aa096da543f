"""Submitted entries and the receipt counter.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counter = op.create_table(
        "receipt_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_counter")),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    op.create_table(
        "entry",
        sa.Column("receipt", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("given_url", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("platform_name", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(20), nullable=True),
        sa.Column("submitted_by", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("withdrawn_by", sa.BigInteger(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_group", sa.BigInteger(), nullable=True),
        sa.Column("source_message_id", sa.BigInteger(), nullable=True),
        sa.Column("verify_status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("text_length", sa.Integer(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("receipt", name=op.f("pk_entry")),
        sa.UniqueConstraint("url", name=op.f("uq_entry_url")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_entry_unit_id_unit")),
        sa.CheckConstraint("kind IN ('blog', 'microblog', 'article')", name=op.f("ck_entry_kind")),
        sa.CheckConstraint("status IN ('accepted', 'withdrawn')", name=op.f("ck_entry_status")),
        sa.CheckConstraint(
            "verify_status IN ('pending', 'ok', 'unreachable', 'not_verifiable', 'blocked',"
            " 'skipped')",
            name=op.f("ck_entry_verify_status"),
        ),
    )
    op.create_index(
        op.f("ix_entry_unit_id_status_late_flagged"),
        "entry",
        ["unit_id", "status", "late", "flagged"],
    )
    op.create_index(op.f("ix_entry_unit_id_receipt"), "entry", ["unit_id", "receipt"])
    op.create_index(op.f("ix_entry_verify_status"), "entry", ["verify_status"])
    op.create_index(op.f("ix_entry_flagged"), "entry", ["flagged"])


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_flagged"), table_name="entry")
    op.drop_index(op.f("ix_entry_verify_status"), table_name="entry")
    op.drop_index(op.f("ix_entry_unit_id_receipt"), table_name="entry")
    op.drop_index(op.f("ix_entry_unit_id_status_late_flagged"), table_name="entry")
    op.drop_table("entry")
    op.drop_table("receipt_counter")
