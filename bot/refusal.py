"""A request the contest refuses, with the reason in Chinese, written once.

Every domain error a user can cause derives from `Refusal`; `str(error)` is the one or two
lines every adapter shows (the chat reply, the dashboard's message page, the import report).
`NotFound` marks refusals about something that does not exist (the dashboard answers 404).
Errors only an operator can cause (a bad config file, a database from a newer version) are
not refusals: they name the file and key instead.
"""

from __future__ import annotations


class Refusal(Exception):
    """The contest refuses a request; the message is for the user (Chinese)."""


class NotFound(Refusal):
    """The request names something that does not exist (a receipt, a unit, an FAQ entry)."""
