"""Numbers in the dashboard's addresses and forms: digits 0-9 only, within what is stored.

`str.isdigit()` accepts "²" (which `int()` then refuses) and `int()` accepts "١٢" and "１２";
a number past int64 raises OverflowError in the database driver, past int32 PostgreSQL refuses
it. A number a person mistyped, or a probe, is answered politely (400/404), so every number the
dashboard reads goes through `plain_int` first.
"""

from __future__ import annotations

import re

from bot.refusal import NotFound
from bot.storage.types import INT_MAX
from bot.submissions.book import RECEIPT_NOT_FOUND

# The largest id or receipt any table holds (PostgreSQL INTEGER).
ID_MAX = INT_MAX
_DIGITS = re.compile(r"[0-9]{1,10}")


def plain_int(text: str, maximum: int = ID_MAX) -> int | None:
    """`text` (surrounding spaces allowed) as a number 0..`maximum`, or None."""
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


def receipt_of(text: str) -> int:
    """The receipt number in a dashboard address; `NotFound` unless it can be one."""
    number = plain_int(text)
    if number is None or number < 1:
        raise NotFound(RECEIPT_NOT_FOUND.format(ref=text[:24]))
    return number
