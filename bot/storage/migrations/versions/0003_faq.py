"""FAQ: entries added or changed from chat, unanswered questions, the change log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_entry",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("question", sa.String(100), nullable=True),
        sa.Column("phrasings", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entry")),
    )
    op.create_table(
        "faq_unanswered",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_group", sa.BigInteger(), nullable=True),
        sa.Column("last_user", sa.BigInteger(), nullable=True),
        sa.Column("learned_entry", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_unanswered")),
        sa.UniqueConstraint("key", name=op.f("uq_faq_unanswered_key")),
    )
    op.create_table(
        "faq_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("unanswered_id", sa.Integer(), nullable=True),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_change")),
        sa.CheckConstraint(
            "action IN ('add', 'edit', 'delete', 'learn', 'undo')",
            name=op.f("ck_faq_change_action"),
        ),
    )
    op.create_index(op.f("ix_faq_change_at"), "faq_change", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_faq_change_at"), table_name="faq_change")
    op.drop_table("faq_change")
    op.drop_table("faq_unanswered")
    op.drop_table("faq_entry")
