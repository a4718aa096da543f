"""FAQ: unanswered questions get a kind (unanswered, suggested, wrong) and what was offered.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("faq_unanswered") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="unanswered")
        )
        batch.add_column(sa.Column("offered", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("wrong_entry", sa.String(40), nullable=True))
        batch.create_check_constraint("kind", "kind IN ('unanswered', 'suggested', 'wrong')")


def downgrade() -> None:
    with op.batch_alter_table("faq_unanswered") as batch:
        batch.drop_constraint(op.f("ck_faq_unanswered_kind"), type_="check")
        batch.drop_column("wrong_entry")
        batch.drop_column("offered")
        batch.drop_column("kind")
