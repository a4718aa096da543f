"""Starting a round as the command line and the dashboard do it, and how a round is shown."""

from __future__ import annotations

from bot.clock import utc_now
from bot.rounds.book import RoundBook, RoundView, Started
from bot.settings.contest import Contest
from bot.settings.deployment import Deployment


def contest_text(deployment: Deployment) -> str | None:
    """contest.toml as it is now (kept with the round that closes)."""
    try:
        return deployment.config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


async def start_round(
    book: RoundBook, deployment: Deployment, contest: Contest, *, label: str, actor: int | None
) -> Started:
    now = utc_now()
    return await book.start_next(
        label=label,
        contest_toml=contest_text(deployment),
        now=now,
        now_local=contest.local(now),
        actor=actor,
    )


def describe(found: RoundView, contest: Contest) -> str:
    """One line for `round list`: "2026年 · 已归档 · 2026-06-01 至 2027-06-02 · 1,234 篇"."""
    began = contest.local(found.started_at).strftime("%Y-%m-%d")
    if found.open:
        return f"{found.label} · 进行中 · {began} 起"
    assert found.closed_at is not None
    ended = contest.local(found.closed_at).strftime("%Y-%m-%d")
    return f"{found.label} · 已归档 · {began} 至 {ended} · {found.entries or 0:,} 篇"
