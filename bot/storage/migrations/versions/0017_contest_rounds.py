"""Contest rounds (issue 15, part 3): the `contest_round` table. An existing database becomes
round 1, open, named after the year of its first entry: nothing else changes. (A database
without entries gets its round 1, named after this year, when the bot first opens it.)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "contest_round",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("archive", sa.String(255), nullable=True),
        sa.Column("contest_toml", sa.Text(), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_round")),
        sa.UniqueConstraint("label", name=op.f("uq_contest_round_label")),
    )
    # A database with entries is round 1 from its first entry on. An empty one gets its round 1
    # when the bot first opens it (RoundBook.load), so that every fresh database is the same.
    first = _moment(op.get_bind().execute(sa.text("SELECT min(submitted_at) FROM entry")).scalar())
    if first is not None:
        op.bulk_insert(table, [{"id": 1, "label": f"{first.year}年", "started_at": first}])


def _moment(value: object) -> datetime | None:
    # SQLite hands back the stored text, PostgreSQL a datetime.
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def downgrade() -> None:
    op.drop_table("contest_round")
