"""Reach figures: what a post's views, reposts, comments and likes were, when, by whose account.

A figure is never read from the platforms (Weibo sits behind a login wall, WeChat shows reads
only inside WeChat): organizers type it on the dashboard or import a spreadsheet
(`python -m bot import-metrics FILE`). Each is kept as a snapshot — value, the moment it was
measured, its source ("表格 阅读量.xlsx 第 5 行", "后台 陈老师") and who recorded it — so a
figure on the results page traces back to where it came from. The latest snapshot of each
figure counts; older ones stay.

What the database guarantees: a figure is a whole number from 0 to `VALUE_MAX` (past int64
nothing is stored), one snapshot per (entry, figure, moment, source), so importing one file
twice records nothing the second time.

Revision 0011 (bot/storage/migrations/versions/0011_metrics.py) creates the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from loguru import logger
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select

from bot.clock import require_aware
from bot.judging.config import Source
from bot.refusal import Refusal
from bot.settings.contest import Contest
from bot.settings.values import Problem
from bot.spreadsheet import cell_text, find_header, read_rows
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction
from bot.storage.types import INT_MAX, UTCDateTime
from bot.submissions.book import EntryBook, EntryView
from bot.submissions.links import extract_candidates, normalize

# The figures a post has, in the order they are shown.
METRICS: tuple[Source, ...] = (Source.VIEWS, Source.REPOSTS, Source.COMMENTS, Source.LIKES)
METRIC_LABELS: Mapping[str, str] = {
    Source.VIEWS: "阅读",
    Source.REPOSTS: "转发",
    Source.COMMENTS: "评论",
    Source.LIKES: "点赞",
}
# A trillion views is not a post's; anything larger is a typing slip (and past it, int64).
VALUE_MAX = 10**12
SOURCE_MAX = 120
METRIC_MAX_LENGTH = 16


class MetricSnapshot(SQLModel, table=True):
    """One figure of one entry as measured at one moment, and where it came from."""

    __tablename__: ClassVar[Any] = "metric_snapshot"
    __table_args__: ClassVar[Any] = (
        sa.UniqueConstraint("receipt", "metric", "measured_at", "source"),
        sa.CheckConstraint(f"value >= 0 AND value <= {VALUE_MAX}", name="value"),
        sa.Index("ix_metric_snapshot_receipt_metric", "receipt", "metric", "measured_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("entry.receipt"), nullable=False)
    )
    metric: str = Field(sa_column=sa.Column(sa.String(METRIC_MAX_LENGTH), nullable=False))
    value: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    measured_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    source: str = Field(sa_column=sa.Column(sa.String(SOURCE_MAX), nullable=False))
    recorded_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    recorded_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


@dataclass(frozen=True)
class Figure:
    """A figure as shown: "阅读 12,300（12月3日 · 表格 阅读量.xlsx 第 5 行）"."""

    metric: str
    value: int
    measured_at: datetime
    source: str
    recorded_by: int | None = None

    @property
    def label(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)


class MetricError(Refusal):
    """A figure that cannot be stored; the message is the organizer's Chinese."""


def check_metric(metric: str) -> Source:
    try:
        found = Source(metric)
    except ValueError:
        found = None
    if found not in METRICS:
        raise MetricError("只能记录阅读、转发、评论、点赞四种数据。")
    assert found is not None
    return found


_GROUPING = re.compile(r"[,，\s_]")
_UNITS = {"万": 10_000, "w": 10_000, "亿": 100_000_000, "k": 1_000}


def parse_figure(text: str) -> int:
    """ "12,300", "1.2万", "3k", "８５" → an int; `MetricError` for anything else, a negative,
    a fraction of one, or more than `VALUE_MAX`."""
    raw = _GROUPING.sub("", text.strip().lower())
    raw = raw.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    if not raw:
        raise MetricError("没有填写数字。")
    multiplier = 1
    if raw[-1] in _UNITS:
        multiplier, raw = _UNITS[raw[-1]], raw[:-1]
    if len(raw) > 40 or not re.fullmatch(r"\d+(\.\d+)?", raw):
        raise MetricError(f"「{text.strip()[:20]}」不是数字，请填写如 12300 或 1.2万。")
    try:
        value = Decimal(raw) * multiplier
    except InvalidOperation as error:
        raise MetricError(f"「{text.strip()[:20]}」不是数字。") from error
    if value != value.to_integral_value():
        raise MetricError(f"「{text.strip()[:20]}」不是整数。")
    if value > VALUE_MAX:
        raise MetricError(f"「{text.strip()[:20]}」太大了，请核对（最多 {VALUE_MAX:,}）。")
    return int(value)


class MetricBook:
    """Reach figures of the entries, in the database."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def record(
        self,
        receipt: int,
        metric: str,
        value: int,
        *,
        measured_at: datetime,
        source: str,
        actor: int | None,
        now: datetime,
    ) -> bool:
        """Store one snapshot; False when the same one (moment and source) is already there."""
        require_aware(measured_at)
        require_aware(now)
        metric = check_metric(metric)
        if not 0 < receipt <= INT_MAX:
            raise MetricError(f"没有编号 #{receipt} 的作品。")
        if isinstance(value, bool) or not 0 <= value <= VALUE_MAX:
            raise MetricError(f"数字应在 0 到 {VALUE_MAX:,} 之间。")
        source = (source.strip() or "未注明")[:SOURCE_MAX]
        row = MetricSnapshot(
            receipt=receipt,
            metric=metric.value,
            value=value,
            measured_at=measured_at,
            source=source,
            recorded_by=actor,
            recorded_at=now,
        )
        detail = {"receipt": receipt, "metric": metric.value, "value": value, "source": source}
        try:
            async with write_transaction(self._sessions) as session:
                session.add(row)
                session.add(ChangeLog(at=now, actor=actor, action="metric.record", detail=detail))
        except IntegrityError:
            return False
        return True

    async def latest(self, receipts: Iterable[int] | None = None) -> dict[int, dict[str, Figure]]:
        """The newest snapshot of each figure, by entry (all entries when `receipts` is None)."""
        wanted = None if receipts is None else sorted(set(receipts))
        newest = (
            select(
                col(MetricSnapshot.receipt),
                col(MetricSnapshot.metric),
                sa.func.max(col(MetricSnapshot.measured_at)).label("at"),
            )
            .group_by(col(MetricSnapshot.receipt), col(MetricSnapshot.metric))
            .subquery()
        )
        query = select(MetricSnapshot).join(
            newest,
            sa.and_(
                col(MetricSnapshot.receipt) == newest.c.receipt,
                col(MetricSnapshot.metric) == newest.c.metric,
                col(MetricSnapshot.measured_at) == newest.c.at,
            ),
        )
        if wanted is not None:
            query = query.where(col(MetricSnapshot.receipt).in_(wanted))
        async with self._sessions() as session:
            rows = (await session.exec(query.order_by(col(MetricSnapshot.id)))).all()
        found: dict[int, dict[str, Figure]] = {}
        for row in rows:  # of two snapshots at one moment, the one recorded last counts
            found.setdefault(row.receipt, {})[row.metric] = _figure(row)
        return found

    async def history(self, receipt: int) -> list[Figure]:
        """Every snapshot of one entry, newest first."""
        query = (
            select(MetricSnapshot)
            .where(col(MetricSnapshot.receipt) == receipt)
            .order_by(col(MetricSnapshot.measured_at).desc(), col(MetricSnapshot.id).desc())
        )
        async with self._sessions() as session:
            return [_figure(row) for row in (await session.exec(query)).all()]

    async def figures_of(self, metric: str) -> dict[int, int]:
        """The latest value of one figure by entry: what reach scaling reads."""
        return {
            receipt: figures[metric].value
            for receipt, figures in (await self.latest()).items()
            if metric in figures
        }


def _figure(row: MetricSnapshot) -> Figure:
    return Figure(row.metric, row.value, row.measured_at, row.source, row.recorded_by)


# --- the spreadsheet import -------------------------------------------------------------------

HEADERS: dict[str, tuple[str, ...]] = {
    "receipt": ("编号", "回执", "回执编号", "作品编号", "receipt", "#"),
    "link": ("链接", "作品链接", "网址", "地址", "url", "link"),
    Source.VIEWS: (
        "阅读",
        "阅读量",
        "阅读数",
        "浏览",
        "浏览量",
        "点击",
        "点击量",
        "点击率",
        "views",
    ),
    Source.REPOSTS: ("转发", "转发量", "转发数", "转载", "分享", "reposts"),
    Source.COMMENTS: ("评论", "评论量", "评论数", "留言", "comments"),
    Source.LIKES: ("点赞", "点赞量", "点赞数", "赞", "喜欢", "likes"),
    "date": ("日期", "统计日期", "统计时间", "时间", "date"),
    "source": ("来源", "数据来源", "备注", "source"),
}
COLUMN_LABELS = {
    "receipt": "编号",
    "link": "链接",
    "date": "日期",
    "source": "来源",
    **METRIC_LABELS,
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class MetricRow:
    """One row as read: `line` is the row number the spreadsheet shows."""

    line: int
    receipt: int | None
    link: str | None
    figures: Mapping[str, int]
    measured: datetime | None = None  # naive = contest-local; None = the time of the import
    source: str | None = None


@dataclass
class MetricReport:
    recorded: list[tuple[MetricRow, int]] = field(default_factory=list)  # row, receipt
    unchanged: list[tuple[MetricRow, int]] = field(default_factory=list)
    refused: list[tuple[MetricRow, str]] = field(default_factory=list)


def _parse_date(cell: object) -> datetime | None:
    if cell is None or cell == "":
        return None
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime.combine(cell, time(0, 0))
    text = cell_text(cell)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(text)


def _receipt(text: str) -> int | None:
    digits = text.strip().lstrip("#＃").strip()
    if not digits:
        return None
    if not digits.isdigit() or len(digits) > 9:
        raise MetricError(f"「{text[:20]}」不是作品编号（机器人回执里的数字，如 17 或 #17）。")
    return int(digits)


def read_metrics(path: Path) -> tuple[list[MetricRow], list[Problem]]:
    """The rows of a figures file, and a Problem for the file or every unreadable row."""
    file = path.name
    rows, problems = read_rows(path, file)
    if rows is None:
        return [], problems
    header = None
    for required in ({"receipt"}, {"link"}):
        header = find_header(rows, HEADERS, required)
        if header is not None:
            break
    if header is None or not set(METRICS) & set(header.columns.values()):
        message = (
            "找不到表头：第一行应写列名，要有“编号”或“链接”一列，和阅读、转发、评论、点赞中的"
            "至少一列（可选：日期、来源）。"
        )
        return [], [Problem(file, "表头", message)]
    result: list[MetricRow] = []
    for line, row in enumerate(rows[header.index + 1 :], start=header.index + 2):
        raw = {column: (row[j] if j < len(row) else None) for j, column in header.columns.items()}
        cells = {column: cell_text(value) for column, value in raw.items()}
        if not any(cells.values()):
            continue
        try:
            result.append(_metric_row(line, raw, cells))
        except MetricError as error:
            problems.append(Problem(file, f"第 {line} 行", str(error)))
    return result, problems


def _metric_row(line: int, raw: Mapping[str, object], cells: Mapping[str, str]) -> MetricRow:
    receipt = _receipt(cells.get("receipt", ""))
    link = cells.get("link") or None
    if receipt is None and link is None:
        raise MetricError("编号和链接都是空的，不知道是哪篇作品。")
    figures: dict[str, int] = {}
    for metric in METRICS:
        text = cells.get(metric, "")
        if text:
            try:
                figures[metric] = parse_figure(text)
            except MetricError as error:
                raise MetricError(f"{METRIC_LABELS[metric]}：{error}") from error
    if not figures:
        raise MetricError("阅读、转发、评论、点赞都是空的。")
    try:
        measured = _parse_date(raw.get("date"))
    except ValueError as error:
        raise MetricError(
            f"日期「{cells.get('date', '')[:20]}」看不懂，请写成 2027-07-05 的样子。"
        ) from error
    return MetricRow(line, receipt, link, figures, measured, cells.get("source") or None)


async def _entry_of(entries: EntryBook, row: MetricRow) -> EntryView | str:
    entry = None
    if row.receipt is not None:
        entry = await entries.get(row.receipt)
        if entry is None:
            return f"没有编号 #{row.receipt} 的作品。"
    if row.link is not None:
        candidates = extract_candidates([{"type": "text", "data": {"text": row.link}}])
        if not candidates:
            return "链接一栏里没有链接。"
        try:
            url = normalize(candidates[0].given)
        except ValueError:
            return "链接一栏里的链接不是可以登记的作品链接。"
        by_link = await entries.find(url)
        if by_link is None:
            return "没有登记过这个链接的作品。"
        if entry is not None and by_link.receipt != entry.receipt:
            return f"编号 #{entry.receipt} 和链接说的不是同一篇作品（链接是 #{by_link.receipt}）。"
        entry = by_link
    assert entry is not None
    if entry.withdrawn:
        return f"#{entry.receipt} 已撤回，不记录它的数据。"
    return entry


async def import_metrics(
    book: MetricBook,
    entries: EntryBook,
    rows: Sequence[MetricRow],
    contest: Contest,
    *,
    file: str,
    actor: int | None,
    now: datetime,
) -> MetricReport:
    """Record every row's figures; each row reported as recorded, unchanged or refused (why)."""
    require_aware(now)
    report = MetricReport()
    for row in rows:
        entry = await _entry_of(entries, row)
        if isinstance(entry, str):
            report.refused.append((row, entry))
            continue
        # Without a date: measured today (so one file imported twice the same day adds nothing).
        today = now.astimezone(contest.timezone).date()
        measured = datetime.combine(today, time(0, 0), tzinfo=contest.timezone)
        if row.measured is not None:
            moment = row.measured
            measured = moment if moment.tzinfo else moment.replace(tzinfo=contest.timezone)
        if measured > now:
            report.refused.append((row, "日期在今天之后，请核对。"))
            continue
        source = f"表格 {file} 第 {row.line} 行" + (f"（{row.source}）" if row.source else "")
        added = [
            await book.record(
                entry.receipt,
                metric,
                value,
                measured_at=measured,
                source=source,
                actor=actor,
                now=now,
            )
            for metric, value in row.figures.items()
        ]
        target = report.recorded if any(added) else report.unchanged
        target.append((row, entry.receipt))
    logger.info(
        "导入阅读、转发等数据（{}）：记录 {} 行，未变 {} 行，拒绝 {} 行",
        file,
        len(report.recorded),
        len(report.unchanged),
        len(report.refused),
    )
    return report
