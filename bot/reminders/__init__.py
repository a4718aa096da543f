"""Automatic deadline reminders: the plan (which slot is due when) and the words (compose).

Both halves are pure. Storage (which slots were sent), the runner and the chat commands build on
them elsewhere.
"""

from bot.reminders.compose import (
    LATE_NOTE,
    closing_message,
    digest_message,
    moment_text,
    offset_text,
    organizer_summary,
    parts_text,
    preview_text,
    reminder_messages,
    time_left_text,
    unit_status,
)
from bot.reminders.plan import (
    LATE_TOLERANCE,
    Catchup,
    Slot,
    SlotKind,
    catch_up,
    deadline_stamp,
    in_quiet,
    next_due,
    plan,
    shift_out_of_quiet,
)

__all__ = [
    "LATE_NOTE",
    "LATE_TOLERANCE",
    "Catchup",
    "Slot",
    "SlotKind",
    "catch_up",
    "closing_message",
    "deadline_stamp",
    "digest_message",
    "in_quiet",
    "moment_text",
    "next_due",
    "offset_text",
    "organizer_summary",
    "parts_text",
    "plan",
    "preview_text",
    "reminder_messages",
    "shift_out_of_quiet",
    "time_left_text",
    "unit_status",
]
