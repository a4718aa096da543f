"""The bot accounts' registry (issue 15, part 2): accounts, their groups and mutes, the group
events one account took on, and messages relayed to the process whose account can send them.
On PostgreSQL the registry's changes NOTIFY bot_changes like the other watched logs.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Heartbeats update bot_account.last_seen every few seconds: only the columns that change who
# serves a group wake the other processes.
NOTIFY = {
    "bot_account": "INSERT OR DELETE OR UPDATE OF connected, owner, groups_known",
    "bot_group": "INSERT OR DELETE OR UPDATE OF muted_until",
    "relay_message": "INSERT",
}


def upgrade() -> None:
    op.create_table(
        "bot_account",
        sa.Column("self_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("nickname", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("groups_known", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disconnected_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("self_id", name=op.f("pk_bot_account")),
    )
    op.create_table(
        "bot_group",
        sa.Column("self_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("self_id", "group_id", name=op.f("pk_bot_group")),
    )
    op.create_table(
        "event_claim",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("self_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_event_claim")),
    )
    op.create_index(op.f("ix_event_claim_at"), "event_claim", ["at"])
    op.create_table(
        "relay_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_message")),
    )
    op.create_index(op.f("ix_relay_message_status"), "relay_message", ["status"])
    if op.get_bind().dialect.name == "postgresql":
        for table, events in NOTIFY.items():
            op.execute(
                f"CREATE TRIGGER {table}_notify AFTER {events} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bot_notify_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in NOTIFY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.drop_index(op.f("ix_relay_message_status"), table_name="relay_message")
    op.drop_table("relay_message")
    op.drop_index(op.f("ix_event_claim_at"), table_name="event_claim")
    op.drop_table("event_claim")
    op.drop_table("bot_group")
    op.drop_table("bot_account")
