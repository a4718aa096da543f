"""The demo's contest and its seeded database: valid for the bot, around today, nothing due.

`demo_contest` must give a file `python -m bot check` accepts, built from the shipped demo or a
district's own contest.toml; `seed` fills an empty database through the import rules, once, and
leaves no reminder of the days past for the bot to catch up on its first start.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from bot.demo.config import DEMO_CONTEST, GROUP_ID, demo_contest, to_toml
from bot.demo.seed import seed
from bot.reminders.runner import ReminderRunner
from bot.settings.check import check, format_report
from bot.settings.contest import Contest
from bot.settings.deployment import Deployment
from bot.storage.db import make_engine, session_maker
from bot.submissions.book import EntryBook
from bot.units.directory import UnitDirectory

REPO = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2027, 6, 27, 2, 30, tzinfo=dt.UTC)  # 10:30 in Shanghai


def load(tmp_path: Path, source: Path = DEMO_CONTEST) -> tuple[Deployment, Contest, dict]:
    data, cast = demo_contest(source, now=NOW)
    path = tmp_path / "contest.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    environ = {
        "BOT_CONFIG": str(path),
        "BOT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "SUPERUSERS": "[]",
    }
    report = check(environ, tmp_path / ".env")
    assert report.deployment is not None, format_report(report)
    assert report.contest is not None, format_report(report)
    assert not report.problems, format_report(report)
    return report.deployment, report.contest, {"data": data, "cast": cast}


@pytest.mark.parametrize("source", [DEMO_CONTEST, REPO / "config" / "contest.toml"])
def test_the_demo_contest_is_valid_and_in_progress(tmp_path: Path, source: Path) -> None:
    _deployment, contest, made = load(tmp_path, source)
    cast = made["cast"]
    assert contest.start < NOW < contest.deadline
    assert contest.groups == {GROUP_ID}
    roles = {p.key: p.qq for p in cast.personas}
    assert roles["organizer"] in contest.organizers
    assert roles["judge"] in contest.judges or any(
        getattr(j, "qq", None) == roles["judge"] for j in getattr(contest, "judge_list", ())
    )
    unit = next(u for u in contest.units if u.name == cast.unit)
    assert roles["secretary"] in unit.secretaries
    assert contest.reminders.quiet_hours is None
    assert contest.submission.verify is False
    # The district's own units and quotas are kept.
    original = tomllib.loads(source.read_text(encoding="utf-8"))
    assert [u.name for u in contest.units] == [u["name"] for u in original["units"]]
    # Everybody in the group has a name, never a bare number.
    assert all(not card.isdigit() for card in cast.cards().values())
    assert {"member", "secretary", "organizer", "judge", "newcomer"} == set(roles)
    assert all(len(p.tries) == 5 for p in cast.personas)


def test_to_toml_reads_back_the_same(tmp_path: Path) -> None:
    data = tomllib.loads((REPO / "config" / "contest.toml").read_text(encoding="utf-8"))
    assert tomllib.loads(to_toml(data)) == data


async def test_seed_fills_once_and_leaves_nothing_to_catch_up(tmp_path: Path) -> None:
    deployment, contest, _ = load(tmp_path)
    first = await seed(deployment, contest, NOW)
    assert 100 < first.entries < 400
    assert first.flagged >= 3
    assert first.withdrawn == 1
    again = await seed(deployment, contest, NOW)
    assert again.entries == 0  # already seeded: a kept --data directory is not doubled

    engine = make_engine(deployment.database_url)
    try:
        sessions = session_maker(engine)
        units = await UnitDirectory.load(sessions, contest)
        book = EntryBook(sessions, units)
        progress = {p.unit: p for p in await book.progress_all()}
        assert progress["新兴街道"].accepted == 50  # done
        assert progress["七星街道"].accepted == 0  # nothing yet
        assert progress["南湖街道"].accepted == 18  # the visitor's unit: behind
        entries = await book.all_entries()
        assert all(contest.start <= e.submitted_at <= NOW for e in entries)
        assert sum(1 for e in entries if e.flags) == first.flagged

        sent: list[object] = []

        async def sender(target, parts):  # type: ignore[no-untyped-def]
            sent.append((target, parts))
            raise AssertionError("nothing should be sent on the first start")

        runner = ReminderRunner(contest, sessions, units, book, notify=(), sender=sender)
        wake = await runner.start(NOW)
        assert sent == []
        assert wake is not None
        assert wake > NOW
    finally:
        await engine.dispose()
