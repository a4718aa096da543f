"""Results: from judges' scores and reach figures to award lists, previewed, then published.

`compute` reads what the database holds — accepted entries, judges' scores (`judge_score`),
the latest reach figures (`metric_snapshot`), each unit's progress — and runs the pure rules
(bot/judging/scoring.py, awards.py) under the contest's `[judging]`. Nothing is stored: that is
the preview, and it changes as scores come in.

`ResultsBook.publish` freezes a computed set as a numbered version (`results_version`, revision
0014), with who published it and when. A published version never changes: publishing again
(after a late score, a withdrawn entry) makes version 2, and both stay, each logged. Every number
in a version traces to its inputs through each entry's explanation line
("质量 8.4（4 位评委，标准化后）· 阅读 12,300（7.9 分）→ 综合 86.2") and the formula.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from loguru import logger
from sqlmodel import Field, SQLModel, col, select

from bot.clock import require_aware
from bot.judging.awards import UNNAMED, Entrant, UnitStanding, individual_awards, unit_awards
from bot.judging.config import Source
from bot.judging.metrics import MetricBook
from bot.judging.models import JudgeScore
from bot.judging.scoring import Score, formula, results
from bot.settings.contest import Contest
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction
from bot.storage.types import INT_MAX, UTCDateTime
from bot.submissions.book import EntryBook
from bot.submissions.states import EntryStatus

NOTE_MAX = 200
# Parsed versions kept in memory, per database (its session maker) and version, the oldest
# dropped first; gone with the session maker.
PARSED_KEPT = 8
_PARSED: weakref.WeakKeyDictionary[object, dict[int, Published]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class EntryRow:
    receipt: int
    unit: str
    author: str
    title: str
    url: str
    total: float | None
    line: str


@dataclass(frozen=True)
class PersonRow:
    rank: int
    award: str | None
    unit: str
    author: str
    score: float
    entries: tuple[int, ...]


@dataclass(frozen=True)
class UnitRow:
    unit: str
    accepted: int
    quota: int
    completion: float
    mean: float | None
    judged: int
    award: str | None
    rank: int | None


@dataclass(frozen=True)
class ResultSet:
    """Everything the results page, the award lists and the certificates show."""

    formula: str
    entries: tuple[EntryRow, ...]  # best total first; not yet judged last
    people: tuple[PersonRow, ...]  # ranked
    units: tuple[UnitRow, ...]  # awarded first
    unnamed: tuple[int, ...]  # entries without an author: never awarded, listed to fix
    computed_at: datetime

    @property
    def judged(self) -> int:
        return sum(1 for e in self.entries if e.total is not None)

    @property
    def winners(self) -> tuple[PersonRow, ...]:
        return tuple(p for p in self.people if p.award is not None)

    @property
    def awarded_units(self) -> tuple[UnitRow, ...]:
        return tuple(u for u in self.units if u.award is not None)

    def award_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in (*self.winners, *self.awarded_units):
            assert row.award is not None
            counts[row.award] = counts.get(row.award, 0) + 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "entries": [asdict(e) for e in self.entries],
            "people": [{**asdict(p), "entries": list(p.entries)} for p in self.people],
            "units": [asdict(u) for u in self.units],
            "unnamed": list(self.unnamed),
            "computed_at": self.computed_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResultSet:
        return cls(
            formula=data["formula"],
            entries=tuple(EntryRow(**e) for e in data["entries"]),
            people=tuple(
                PersonRow(**{**p, "entries": tuple(p["entries"])}) for p in data["people"]
            ),
            units=tuple(UnitRow(**u) for u in data["units"]),
            unnamed=tuple(data["unnamed"]),
            computed_at=datetime.fromisoformat(data["computed_at"]),
        )


async def _scores(sessions: Sessions) -> list[Score]:
    query = select(
        col(JudgeScore.receipt), col(JudgeScore.judge_id), col(JudgeScore.criterion),
        col(JudgeScore.value),
    )  # fmt: skip
    async with sessions() as session:
        rows = (await session.exec(query)).all()
    return [
        Score(receipt, judge, criterion, float(value)) for receipt, judge, criterion, value in rows
    ]


async def compute(
    sessions: Sessions, entries: EntryBook, contest: Contest, now: datetime
) -> ResultSet:
    """The results as of now (the preview)."""
    require_aware(now)
    policy = contest.judging
    accepted = [e for e in await entries.all_entries() if e.status is EntryStatus.ACCEPTED]
    latest = await MetricBook(sessions).latest(e.receipt for e in accepted)
    figures = {
        receipt: {Source(metric): figure.value for metric, figure in found.items()}
        for receipt, found in latest.items()
    }
    computed = results([e.receipt for e in accepted], await _scores(sessions), figures, policy)
    entrants = [
        Entrant(e.receipt, e.unit_name, e.author or "", computed[e.receipt].total) for e in accepted
    ]
    rows = [
        EntryRow(
            e.receipt,
            e.unit_name,
            e.author or UNNAMED,
            e.title or "",
            e.url,
            computed[e.receipt].total,
            computed[e.receipt].explain(),
        )
        for e in accepted
    ]
    rows.sort(key=lambda r: (r.total is None, -(r.total or 0.0), r.receipt))
    individuals = individual_awards(entrants, policy)
    people = tuple(
        PersonRow(p.rank, p.award, p.who.unit, p.who.author, p.score, p.who.entries)
        for p in individuals.placed
    )
    progress = {p.unit: p for p in await entries.progress_all()}
    standings = [UnitStanding(name, p.quota or 0, p.accepted) for name, p in progress.items()]
    units = tuple(
        UnitRow(
            u.unit,
            progress[u.unit].accepted if u.unit in progress else 0,
            (progress[u.unit].quota or 0) if u.unit in progress else 0,
            u.completion,
            u.mean,
            u.judged,
            u.award,
            u.rank,
        )
        for u in unit_awards(standings, entrants, policy)
    )
    return ResultSet(formula(policy), tuple(rows), people, units, individuals.unnamed, now)


class ResultsVersion(SQLModel, table=True):
    """A published, frozen set of results; the highest `version` is the current one."""

    __tablename__: ClassVar[Any] = "results_version"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False, unique=True))
    published_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    published_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    note: str | None = Field(default=None, sa_column=sa.Column(sa.String(NOTE_MAX)))
    data: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))


@dataclass(frozen=True)
class Published:
    version: int
    published_at: datetime
    published_by: int | None
    note: str | None
    results: ResultSet


def _published(row: ResultsVersion) -> Published:
    return Published(
        row.version, row.published_at, row.published_by, row.note, ResultSet.from_json(row.data)
    )


class ResultsBook:
    """Published versions of the results."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def publish(
        self, result: ResultSet, *, actor: int | None, now: datetime, note: str | None = None
    ) -> Published:
        """Freeze `result` as the next version (1, 2, …); logged with who and when."""
        require_aware(now)
        note = " ".join((note or "").split())[:NOTE_MAX] or None
        async with write_transaction(self._sessions) as session:
            last = (await session.exec(select(sa.func.max(col(ResultsVersion.version))))).one()
            version = (last or 0) + 1
            row = ResultsVersion(
                version=version, published_at=now, published_by=actor, note=note,
                data=result.as_json(),
            )  # fmt: skip
            session.add(row)
            detail = {"version": version, "judged": result.judged, "awards": result.award_counts()}
            session.add(ChangeLog(at=now, actor=actor, action="results.publish", detail=detail))
        logger.info("评审结果第 {} 版已发布（{}）", version, actor)
        return _published(row)

    async def current(self) -> Published | None:
        return await self.version(None)

    async def version(self, number: int | None) -> Published | None:
        """Version `number` (None: the latest). A published version never changes, so once
        read it is kept: the results page does not parse 10,000 rows on every request."""
        if number is not None and not 0 < number <= INT_MAX:
            return None
        async with self._sessions() as session:
            if number is None:
                latest = select(sa.func.max(col(ResultsVersion.version)))
                number = (await session.exec(latest)).one()
                if number is None:
                    return None
            kept = _PARSED.setdefault(self._sessions, {})
            if number in kept:
                return kept[number]
            query = select(ResultsVersion).where(col(ResultsVersion.version) == number)
            row = (await session.exec(query)).first()
        if row is None:
            return None
        found = _published(row)
        kept[number] = found
        while len(kept) > PARSED_KEPT:
            kept.pop(next(iter(kept)))
        return found

    async def versions(self) -> Sequence[tuple[int, datetime, int | None, str | None]]:
        query = select(
            col(ResultsVersion.version), col(ResultsVersion.published_at),
            col(ResultsVersion.published_by), col(ResultsVersion.note),
        ).order_by(col(ResultsVersion.version).desc())  # fmt: skip
        async with self._sessions() as session:
            return [tuple(r) for r in (await session.exec(query)).all()]  # type: ignore[misc]
