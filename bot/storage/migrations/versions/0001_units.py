"""Units, secretaries and the change log.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("config_quota", sa.Integer(), nullable=True),
        sa.Column("quota_override", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("name", name=op.f("uq_unit_name")),
        sa.UniqueConstraint("name_key", name=op.f("uq_unit_name_key")),
        sa.CheckConstraint("origin IN ('config', 'chat', 'import')", name=op.f("ck_unit_origin")),
        sa.CheckConstraint(
            "config_quota IS NULL OR config_quota >= 0", name=op.f("ck_unit_config_quota")
        ),
        sa.CheckConstraint(
            "quota_override IS NULL OR quota_override >= 0", name=op.f("ck_unit_quota_override")
        ),
    )
    op.create_table(
        "secretary",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_secretary")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_secretary_unit_id_unit")),
        sa.CheckConstraint(
            "origin IN ('config', 'chat', 'import')", name=op.f("ck_secretary_origin")
        ),
    )
    op.create_index(op.f("ix_secretary_unit_id"), "secretary", ["unit_id"])
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )
    op.create_index(op.f("ix_change_log_at"), "change_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_change_log_at"), table_name="change_log")
    op.drop_table("change_log")
    op.drop_index(op.f("ix_secretary_unit_id"), table_name="secretary")
    op.drop_table("secretary")
    op.drop_table("unit")
