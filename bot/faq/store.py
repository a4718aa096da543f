"""FAQ tables: entries added or changed from chat, questions unanswered, answers given, changes.

config/faq.yaml stays the curated base; a `faq_entry` row with the same id changes that entry
field by field (question, answer template when set; learned phrasings are added to the file's;
`deleted` hides it), a row with a new id is an entry of its own. Every change from chat is a
`faq_change` row with who, when and the row before and after, so it can be undone.

Revision 0003 (bot/storage/migrations/versions/0003_faq.py) creates these tables, 0006 `faq_asked`,
0007 the kinds of unanswered questions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime

ENTRY_ID_MAX = 40
QUESTION_MAX = 100
TEMPLATE_MAX = 2000
UNANSWERED_TEXT_MAX = 200
UNANSWERED_KEY_MAX = 200
FAQ_ACTIONS = ("add", "edit", "delete", "learn", "undo")


class FaqEntryRow(SQLModel, table=True):
    """An entry added in chat, or the chat's changes to an entry of config/faq.yaml."""

    __tablename__: ClassVar[Any] = "faq_entry"

    id: str = Field(sa_column=sa.Column(sa.String(ENTRY_ID_MAX), primary_key=True))
    # NULL: keep the file's question / answer (a row that only adds learned phrasings).
    question: str | None = Field(default=None, sa_column=sa.Column(sa.String(QUESTION_MAX)))
    # Added to the file's phrasings (taught with /faq 学习).
    phrasings: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    keywords: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    # A Jinja2 template, rendered from the contest like the file's answers.
    answer: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    tags: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    # A tombstone: hides the entry, including one from the file.
    deleted: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))
    updated_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))

    def snapshot(self) -> dict[str, Any]:
        """The row as JSON, for the change log (enough to restore it)."""
        return {
            "question": self.question,
            "phrasings": list(self.phrasings),
            "keywords": list(self.keywords),
            "answer": self.answer,
            "tags": list(self.tags),
            "deleted": self.deleted,
        }


UNANSWERED_KINDS = ("unanswered", "suggested", "wrong")


class FaqUnanswered(SQLModel, table=True):
    """A question asked with /问 or @ that the bot could not answer, counted by wording.

    `kind`: "unanswered" (the bot said it cannot answer), "suggested" (it offered candidates;
    `count` is the number of offers not yet resolved by a pick, and the question is listed once
    the pick window has passed), "wrong" (the asker replied 不对 to an answer of `wrong_entry`).
    """

    __tablename__: ClassVar[Any] = "faq_unanswered"
    __table_args__: ClassVar[Any] = (
        sa.CheckConstraint("kind IN ('unanswered', 'suggested', 'wrong')", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The question normalised (folded, no punctuation or spaces): the same question typed
    # twice is one row.
    key: str = Field(
        sa_column=sa.Column(sa.String(UNANSWERED_KEY_MAX), nullable=False, unique=True)
    )
    text: str = Field(sa_column=sa.Column(sa.String(UNANSWERED_TEXT_MAX), nullable=False))
    count: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    first_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    last_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    last_group: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    last_user: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    # Set once an organizer taught it to an entry (/faq 学习); it then leaves the list.
    learned_entry: str | None = Field(default=None, sa_column=sa.Column(sa.String(ENTRY_ID_MAX)))
    kind: str = Field(
        default="unanswered",
        sa_column=sa.Column(sa.String(16), nullable=False, server_default="unanswered"),
    )
    # The candidates offered ("suggested"), or the entry wrongly answered with ("wrong").
    offered: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False, server_default="[]")
    )
    wrong_entry: str | None = Field(default=None, sa_column=sa.Column(sa.String(ENTRY_ID_MAX)))


class FaqChange(SQLModel, table=True):
    """One change to the knowledge base from chat: who, when, the row before and after."""

    __tablename__: ClassVar[Any] = "faq_change"
    __table_args__: ClassVar[Any] = (
        sa.CheckConstraint("action IN ('add', 'edit', 'delete', 'learn', 'undo')", name="action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, index=True))
    actor: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    action: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    entry_id: str = Field(sa_column=sa.Column(sa.String(ENTRY_ID_MAX), nullable=False))
    # FaqEntryRow.snapshot() before and after; None: there was / is no row.
    before: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(none_as_null=True))
    )
    after: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(none_as_null=True))
    )
    # For learn: the unanswered question taught (undo puts it back on the list).
    unanswered_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer()))
    undone: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))


class FaqAsked(SQLModel, table=True):
    """How often the bot sent an entry's answer (the dashboard's most asked entries)."""

    __tablename__: ClassVar[Any] = "faq_asked"

    # No foreign key: entries of config/faq.yaml have no row in faq_entry.
    entry_id: str = Field(sa_column=sa.Column(sa.String(ENTRY_ID_MAX), primary_key=True))
    count: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    last_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
