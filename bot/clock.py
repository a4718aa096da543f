"""Time in the bot: always timezone-aware, UTC inside, the contest's timezone only for display.

`utc_now` is the production clock (the runtime injects it; tests inject their own) and
`require_aware` is the one check every function taking a moment makes: a naive datetime is a
bug to refuse, not a time to guess.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def require_aware(moment: datetime, name: str = "now") -> datetime:
    """`moment`, if it is timezone-aware; `ValueError` naming the argument otherwise."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"`{name}` must be timezone-aware, got {moment!r}")
    return moment
