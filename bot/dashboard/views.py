"""What the dashboard shows, as plain data: overview, units, entries, FAQ use and gaps.

Every view costs a fixed number of queries whatever the number of units or entries
(searching, filtering, sorting and paging happen in SQL); unit names, categories and
secretaries come from the in-memory UnitDirectory. The HTML pages and the JSON API
(plugins/dashboard) both render these values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col, func, select

from bot.dashboard.params import plain_int
from bot.dashboard.store import EntryScore
from bot.faq.entry import FaqEntry
from bot.faq.service import AnswerCount, FaqService, UnansweredGroup
from bot.settings.contest import Contest
from bot.storage.db import Sessions
from bot.submissions.book import EntryBook, Progress
from bot.submissions.models import Entry
from bot.submissions.states import EntryStatus, Flag, VerifyStatus
from bot.units.directory import UnitDirectory
from bot.units.models import Unit

# A unit's status, which colours its bar: met its quota, half way, behind, or no quota.
UNIT_STATUS_TEXT = {"met": "已完成", "close": "已过半", "behind": "落后", "none": "无配额"}
CLOSE_FROM = 0.5
STATUS_FILTERS = {
    EntryStatus.ACCEPTED: EntryStatus.ACCEPTED.label,
    EntryStatus.WITHDRAWN: EntryStatus.WITHDRAWN.label,
    "late": "逾期",
}
SORTS = {
    "receipt": "回执编号",
    "submitted": "提交时间",
    "unit": "单位",
    "length": "字数",
    "score": "平均分",
}
PER_PAGE = 50
MAX_PER_PAGE = 500
# The entries-per-day chart covers at most this many days (a long import history is cut).
MAX_DAYS = 62
# Days of entries the 全省 page shows for each contest.
PROVINCE_DAYS = 7
# The FAQ page's most asked entries.
MOST_ASKED = 20
_RECEIPT = re.compile(r"#?([0-9]{1,9})")
_ENTRY = SQLModel.metadata.tables[Entry.__tablename__]


# ------------------------------------------------------------------------ values


def unit_status(accepted: int, quota: int | None) -> str:
    if not quota:
        return "none"
    if accepted >= quota:
        return "met"
    return "close" if accepted / quota >= CLOSE_FROM else "behind"


def _totals(progress: Sequence[Progress], withdrawn: int) -> Totals:
    statuses = [unit_status(p.accepted, p.quota) for p in progress]
    return Totals(
        units=len(progress),
        met=statuses.count("met"),
        behind=statuses.count("close") + statuses.count("behind"),
        accepted=sum(p.accepted for p in progress),
        late=sum(p.late for p in progress),
        flagged=sum(p.flagged for p in progress),
        withdrawn=withdrawn,
        quota=sum(p.quota or 0 for p in progress),
    )


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    category: str
    category_name: str
    secretaries: tuple[int, ...]
    quota: int | None
    accepted: int
    late: int
    flagged: int
    completion: float
    status: str
    avg_quality: float | None = None
    scored: int = 0

    @property
    def status_text(self) -> str:
        return UNIT_STATUS_TEXT[self.status]

    @property
    def percent(self) -> int:
        return round(self.completion * 100) if self.quota else 100


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class Totals:
    units: int
    met: int
    behind: int
    accepted: int
    late: int
    flagged: int
    withdrawn: int
    quota: int

    @property
    def percent(self) -> int:
        return round(100 * self.accepted / self.quota) if self.quota else 100


@dataclass(frozen=True)
class Overview:
    contest_name: str
    start: datetime
    deadline: datetime
    now: datetime
    phase: str  # "before", "open" or "closed"
    time_left: str
    totals: Totals
    units: list[UnitRow]
    days: list[DayCount]


@dataclass(frozen=True)
class Summary:
    """A contest at a glance (the 全省 page's row): no per-unit rows, the last few days only."""

    contest_name: str
    phase: str
    time_left: str
    totals: Totals
    days: list[DayCount]


def time_left_text(now: datetime, start: datetime, deadline: datetime) -> tuple[str, str]:
    """(phase, Chinese text): how long until the contest opens or closes."""
    if now >= deadline:
        return "closed", "已截止"
    if now < start:
        return "before", f"距开始还有 {_duration(start - now)}"
    return "open", f"距截止还有 {_duration(deadline - now)}"


def _duration(left: timedelta) -> str:
    minutes = max(1, math.ceil(left.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分钟"
    return f"{minutes} 分钟"


@dataclass(frozen=True)
class EntryFilter:
    """Search, filters, sort and page of the entries list (from query parameters)."""

    search: str = ""
    unit_id: int | None = None
    platform: str = ""
    status: str = ""
    flagged: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "receipt"
    descending: bool = True
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EntryFilter:
        """Lenient: a value that does not parse is ignored rather than refused."""

        def integer(key: str) -> int | None:
            return plain_int(params.get(key, ""))

        def day(key: str) -> date | None:
            try:
                return date.fromisoformat(params.get(key, "").strip())
            except ValueError:
                return None

        flagged = {"1": True, "0": False}.get(params.get("flagged", ""))
        sort = params.get("sort", "receipt")
        status = params.get("status", "")
        return cls(
            search=params.get("q", "").strip()[:100],
            unit_id=integer("unit"),
            platform=params.get("platform", "").strip()[:64],
            status=status if status in STATUS_FILTERS else "",
            flagged=flagged,
            date_from=day("from"),
            date_to=day("to"),
            sort=sort if sort in SORTS else "receipt",
            descending=params.get("order", "desc") != "asc",
            page=max(1, integer("page") or 1),
            per_page=min(MAX_PER_PAGE, max(1, integer("per_page") or PER_PAGE)),
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """Query parameters for this filter with `changes` (for sort and page links)."""
        f = replace(self, **changes)
        values = {
            "q": f.search,
            "unit": str(f.unit_id) if f.unit_id is not None else "",
            "platform": f.platform,
            "status": f.status,
            "flagged": {True: "1", False: "0", None: ""}[f.flagged],
            "from": f.date_from.isoformat() if f.date_from else "",
            "to": f.date_to.isoformat() if f.date_to else "",
            "sort": f.sort if f.sort != "receipt" else "",
            "order": "" if f.descending else "asc",
            "page": str(f.page) if f.page > 1 else "",
            "per_page": str(f.per_page) if f.per_page != PER_PAGE else "",
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class EntryRow:
    receipt: int
    unit_id: int
    unit_name: str
    author: str | None
    url: str
    platform: str
    platform_name: str
    title: str | None
    text_length: int | None
    verify_status: VerifyStatus
    flags: tuple[Flag, ...]
    status: EntryStatus
    late: bool
    submitted_at: datetime
    avg_quality: float | None
    scores: int
    my_quality: int | None = None
    my_comment: str | None = None
    # The link as the secretary sent it (`url` is its normalised form).
    given_url: str = ""

    @property
    def withdrawn(self) -> bool:
        return self.status is EntryStatus.WITHDRAWN


@dataclass(frozen=True)
class EntryPage:
    rows: list[EntryRow]
    total: int
    filter: EntryFilter

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filter.per_page))


@dataclass(frozen=True)
class FaqView:
    available: bool
    unanswered: list[UnansweredGroup] = field(default_factory=list)
    entries: list[FaqEntry] = field(default_factory=list)
    most_asked: list[AnswerCount] = field(default_factory=list)
    # Answers sent are counted per entry (bot.faq.store.FaqAsked) since revision 0006.
    counts_answers: bool = True


# ------------------------------------------------------------------------ the views


class DashboardViews:
    def __init__(
        self,
        sessions: Sessions,
        units: UnitDirectory,
        entries: EntryBook,
        contest: Contest,
        faq: FaqService | None = None,
    ) -> None:
        self._sessions = sessions
        self._units = units
        self._entries = entries
        self._contest = contest
        self._faq = faq

    # ------------------------------------------------------------------ overview

    async def overview(self, now: datetime) -> Overview:
        """Two queries: progress per unit; entries per status and hour (days, withdrawn)."""
        contest = self._contest
        progress = await self._entries.progress_all()
        rows = [self._unit_row(p) for p in progress]
        days, withdrawn = await self._per_day(now)
        totals = _totals(progress, withdrawn)
        phase, left = time_left_text(now, contest.start, contest.deadline)
        return Overview(
            contest_name=contest.name,
            start=contest.local(contest.start),
            deadline=contest.local(contest.deadline),
            now=contest.local(now),
            phase=phase,
            time_left=left,
            totals=totals,
            units=rows,
            days=days,
        )

    async def summary(self, now: datetime, days: int) -> Summary:
        """The overview's totals and its last `days` days, without building, sorting or
        rendering a row per unit: the 全省 page asks this of every contest at once."""
        contest = self._contest
        progress = await self._entries.progress_all(ordered=False)
        counts, withdrawn = await self._per_day(now, last_days=days)
        phase, left = time_left_text(now, contest.start, contest.deadline)
        return Summary(contest.name, phase, left, _totals(progress, withdrawn), counts)

    async def _per_day(
        self, now: datetime, last_days: int = MAX_DAYS
    ) -> tuple[list[DayCount], int]:
        """Accepted entries per contest-local day, from the opening day to today (at most
        MAX_DAYS, or the last `last_days`; entries from before the opening day are not
        charted), and the number withdrawn. One statement of index range counts
        (entry.submitted_at, entry.status): a few milliseconds for 100,000 entries, where
        grouping by a computed day would read every row."""
        contest = self._contest
        zone = contest.timezone
        first = contest.local(contest.start).date()
        last = min(contest.local(now).date(), first + timedelta(days=MAX_DAYS - 1))
        first = max(first, last - timedelta(days=max(1, last_days) - 1))
        days = [first + timedelta(days=i) for i in range(max(0, (last - first).days) + 1)]
        bounds = [datetime.combine(d, time(), tzinfo=zone) for d in days]
        bounds.append(datetime.combine(days[-1] + timedelta(days=1), time(), tzinfo=zone))
        accepted = col(Entry.status) == EntryStatus.ACCEPTED
        per_day = [
            select(func.count())
            .select_from(Entry)
            .where(accepted, col(Entry.submitted_at) >= begin, col(Entry.submitted_at) < end)
            .scalar_subquery()
            for begin, end in pairwise(bounds)
        ]
        withdrawn = (
            select(func.count())
            .select_from(Entry)
            .where(col(Entry.status) == EntryStatus.WITHDRAWN)
            .scalar_subquery()
        )
        async with self._sessions() as session:
            connection = await session.connection()
            row = (await connection.execute(sa.select(*per_day, withdrawn))).one()
        counts = [int(n) for n in row]
        return [DayCount(d, n) for d, n in zip(days, counts, strict=False)], counts[-1]

    # ------------------------------------------------------------------ units

    async def unit_rows(self) -> list[UnitRow]:
        """Every unit, behind first, with its judges' average quality. Two queries."""
        progress = await self._entries.progress_all()
        query = (
            select(
                col(Entry.unit_id),
                func.avg(col(EntryScore.quality)),
                func.count(sa.distinct(col(EntryScore.receipt))),
            )
            .join(Entry, col(Entry.receipt) == col(EntryScore.receipt))
            .where(col(Entry.status) == EntryStatus.ACCEPTED)
            .group_by(col(Entry.unit_id))
        )
        async with self._sessions() as session:
            scores = {u: (avg, n) for u, avg, n in (await session.exec(query)).all()}
        rows: list[UnitRow] = []
        for p in progress:
            avg, n = scores.get(p.unit_id, (None, 0))
            rows.append(self._unit_row(p, float(avg) if avg is not None else None, int(n)))
        return rows

    def _unit_row(self, p: Progress, avg: float | None = None, scored: int = 0) -> UnitRow:
        unit = self._units.get(p.unit_id)
        category = self._contest.category(p.category)
        return UnitRow(
            id=p.unit_id,
            name=p.unit,
            category=p.category,
            category_name=category.name if category is not None else p.category,
            secretaries=unit.secretaries if unit is not None else (),
            quota=p.quota,
            accepted=p.accepted,
            late=p.late,
            flagged=p.flagged,
            completion=p.completion,
            status=unit_status(p.accepted, p.quota),
            avg_quality=avg,
            scored=scored,
        )

    # ------------------------------------------------------------------ entries

    async def entry_page(self, wanted: EntryFilter, viewer: int | None = None) -> EntryPage:
        """One page of entries matching `wanted`; `viewer`'s own scores filled in. Two queries
        (the page number is clamped to the last page, which may take a third)."""
        conditions = self._conditions(wanted)
        scores = (
            select(
                col(EntryScore.receipt).label("receipt"),
                func.avg(col(EntryScore.quality)).label("avg_quality"),
                func.count().label("scores"),
            )
            .group_by(col(EntryScore.receipt))
            .subquery("scores")
        )
        mine = (
            select(
                col(EntryScore.receipt).label("receipt"),
                col(EntryScore.quality).label("quality"),
                col(EntryScore.comment).label("comment"),
            )
            .where(col(EntryScore.judge_id) == (viewer if viewer is not None else -1))
            .subquery("mine")
        )
        entry = _ENTRY
        order = self._order(wanted, scores.c.avg_quality)
        async with self._sessions() as session:
            total = (
                await session.exec(select(func.count()).select_from(Entry).where(*conditions))
            ).one()
            page = min(wanted.page, max(1, math.ceil(total / wanted.per_page)))
            wanted = replace(wanted, page=page)
            query = (
                sa.select(
                    entry,
                    scores.c.avg_quality,
                    scores.c.scores,
                    mine.c.quality.label("my_quality"),
                    mine.c.comment.label("my_comment"),
                )
                .select_from(
                    entry.outerjoin(scores, scores.c.receipt == entry.c.receipt).outerjoin(
                        mine, mine.c.receipt == entry.c.receipt
                    )
                )
                .where(*conditions)
                .order_by(*order)
                .offset((page - 1) * wanted.per_page)
                .limit(wanted.per_page)
            )
            if wanted.sort == "unit":
                query = query.join(Unit, col(Unit.id) == entry.c.unit_id)
            rows = (await (await session.connection()).execute(query)).all()
        return EntryPage([self._entry_row(r) for r in rows], int(total), wanted)

    def _conditions(self, wanted: EntryFilter) -> list[ColumnElement[bool]]:
        entry = _ENTRY
        found: list[ColumnElement[bool]] = []
        if wanted.search:
            found.append(self._search(wanted.search))
        if wanted.unit_id is not None:
            found.append(entry.c.unit_id == wanted.unit_id)
        if wanted.platform:
            found.append(entry.c.platform == wanted.platform)
        if wanted.status == "late":
            found += [entry.c.status == EntryStatus.ACCEPTED, entry.c.late.is_(True)]
        elif wanted.status:
            found.append(entry.c.status == wanted.status)
        if wanted.flagged is not None:
            found.append(entry.c.flagged.is_(wanted.flagged))
        zone = self._contest.timezone
        if wanted.date_from is not None:
            found.append(
                entry.c.submitted_at >= datetime.combine(wanted.date_from, time(), tzinfo=zone)
            )
        if wanted.date_to is not None:
            end = datetime.combine(wanted.date_to + timedelta(days=1), time(), tzinfo=zone)
            found.append(entry.c.submitted_at < end)
        return found

    def _search(self, text: str) -> ColumnElement[bool]:
        entry = _ENTRY
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        options: list[ColumnElement[bool]] = [
            entry.c.url.ilike(pattern, escape="\\"),
            entry.c.title.ilike(pattern, escape="\\"),
            entry.c.author.ilike(pattern, escape="\\"),
        ]
        receipt = _RECEIPT.fullmatch(text)
        if receipt:
            options.append(entry.c.receipt == int(receipt.group(1)))
        folded = text.casefold()
        unit_ids = [u.id for u in self._units.list_units() if folded in u.name.casefold()]
        if unit_ids:
            options.append(entry.c.unit_id.in_(unit_ids[:MAX_PER_PAGE]))
        return sa.or_(*options)

    @staticmethod
    def _order(wanted: EntryFilter, avg_quality: Any) -> list[Any]:
        entry = _ENTRY
        key: Any = {
            "receipt": entry.c.receipt,
            "submitted": entry.c.submitted_at,
            "unit": col(Unit.name),
            "length": entry.c.text_length,
            "score": avg_quality,
        }[wanted.sort]
        first = key.desc() if wanted.descending else key.asc()
        if wanted.sort in ("length", "score"):
            first = first.nulls_last()
        tie = entry.c.receipt.desc() if wanted.descending else entry.c.receipt.asc()
        return [first, tie] if wanted.sort != "receipt" else [first]

    def _entry_row(self, row: sa.Row[Any]) -> EntryRow:
        unit = self._units.get(row.unit_id)
        return EntryRow(
            receipt=row.receipt,
            unit_id=row.unit_id,
            unit_name=unit.name if unit is not None else f"单位 {row.unit_id}",
            author=row.author,
            url=row.url,
            platform=row.platform,
            platform_name=row.platform_name,
            title=row.title,
            text_length=row.text_length,
            verify_status=row.verify_status,
            flags=tuple(Flag(f) for f in row.flags),
            status=row.status,
            late=row.late,
            submitted_at=_aware(row.submitted_at),
            avg_quality=float(row.avg_quality) if row.avg_quality is not None else None,
            scores=int(row.scores or 0),
            my_quality=row.my_quality,
            my_comment=row.my_comment,
            given_url=row.given_url or row.url,
        )

    def platforms(self) -> list[str]:
        """The platforms entries can be on (the filter's choices)."""
        return list(self._contest.submission.platforms)

    # ------------------------------------------------------------------ FAQ

    async def faq(self, limit: int = 100, most_asked: int = MOST_ASKED) -> FaqView:
        """Unanswered questions and the most asked entries: two queries."""
        if self._faq is None:
            return FaqView(available=False)
        entries = sorted(self._faq.list_entries(), key=lambda e: e.question)
        unanswered = await self._faq.unanswered_groups(limit)
        return FaqView(True, unanswered, entries, await self._faq.most_asked(most_asked))


def _aware(moment: datetime) -> datetime:
    """Plain-row reads skip nothing of UTCDateTime, but be safe for naive SQLite values."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
