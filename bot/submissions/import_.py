"""Load submissions organizers already collected by spreadsheet (`import-submissions`).

One row per link; headers (a title row above them is allowed): 单位 and 链接, optionally 作者,
提交人 (the secretary's QQ id) and 时间 (when it was submitted, contest-local unless the cell
says otherwise). CSV may be UTF-8 (with or without BOM) or GBK; XLSX is read from its first
sheet. Reading reports rows it cannot read as `Problem`s (file, row, reason) and skips them.

Importing applies the chat rules: the link must pass `bot.submissions.links.check_link` with
the contest's platforms, the unit must be named unambiguously (`UnitDirectory.find`), duplicates are
answered with the earlier receipt, a row after the deadline is marked late. Each row is
committed on its own (like a chat submission), so importing the same file twice adds nothing
the second time: every row comes back as a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from loguru import logger

from bot.clock import require_aware
from bot.settings.contest import Contest
from bot.settings.values import Problem
from bot.spreadsheet import cell_text, find_header, read_rows
from bot.submissions.book import Accepted, Duplicate, EntryBook, Outcome, Refused
from bot.submissions.links import Candidate, extract_candidates
from bot.submissions.submit import submit_links
from bot.submissions.window import submission_window
from bot.units.directory import UnitDirectory, UnitError
from bot.units.roster import QQ_ID

# Column → accepted header spellings (compared after name_key folding).
HEADERS: dict[str, tuple[str, ...]] = {
    "unit": ("单位", "单位名称", "所属单位", "unit"),
    "link": ("链接", "作品链接", "网址", "地址", "链接地址", "url", "link"),
    "author": ("作者", "姓名", "作者姓名", "author"),
    "submitter": ("提交人", "提交人qq", "联络员", "联络员qq", "qq", "submitter"),
    "time": ("时间", "提交时间", "日期", "time"),
}
COLUMN_LABELS = {
    "unit": "单位",
    "link": "链接",
    "author": "作者",
    "submitter": "提交人",
    "time": "时间",
}
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
)


@dataclass(frozen=True)
class SubmissionRow:
    """One row as read: `line` is the row number the spreadsheet shows."""

    line: int
    unit: str
    link: str
    author: str | None = None
    submitter: int | None = None
    # Naive = contest-local time (what a spreadsheet holds); None = the time of the import.
    time: datetime | None = None


@dataclass
class ImportReport:
    accepted: list[tuple[SubmissionRow, Accepted]] = field(default_factory=list)
    duplicates: list[tuple[SubmissionRow, Duplicate]] = field(default_factory=list)
    refused: list[tuple[SubmissionRow, str]] = field(default_factory=list)


def parse_time(cell: object) -> datetime | None:
    """A time cell: an Excel datetime/date, or text in the usual Chinese spreadsheet forms.

    ValueError if the text is not a time. Aware results keep their offset; naive ones are
    contest-local.
    """
    if cell is None or cell == "":
        return None
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime.combine(cell, time())
    text = " ".join(str(cell).split())
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(text)


def read_submissions(path: Path) -> tuple[list[SubmissionRow], list[Problem]]:
    """The rows of a submissions file, and a Problem for the file or every unreadable row."""
    file = path.name
    rows, problems = read_rows(path, file)
    if rows is None:
        return [], problems
    header = find_header(rows, HEADERS, {"unit", "link"})
    if header is None:
        message = (
            "找不到表头：第一行应写列名，至少要有“单位”和“链接”两列（可选：作者、提交人、时间）。"
        )
        return [], [Problem(file, "表头", message)]
    header_index, columns, unknown = header.index, header.columns, header.unknown
    for text in unknown:
        problems.append(
            Problem(
                file,
                f"表头「{text}」",
                "无法识别的列名，该列已忽略。可用的列名：单位、链接、作者、提交人、时间。",
            )
        )
    result: list[SubmissionRow] = []
    for line, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        raw = {column: (row[j] if j < len(row) else None) for j, column in columns.items()}
        cells = {column: cell_text(value) for column, value in raw.items()}
        if not any(cells.values()):
            continue
        start = len(problems)

        def problem(column: str, message: str, line: int = line) -> None:
            problems.append(Problem(file, f"第 {line} 行 {COLUMN_LABELS[column]}", message))

        if not cells.get("unit"):
            problem("unit", "单位为空。")
        if not cells.get("link"):
            problem("link", "链接为空。")
        submitter: int | None = None
        submitter_text = cells.get("submitter", "")
        if submitter_text:
            if QQ_ID.fullmatch(submitter_text):
                submitter = int(submitter_text)
            else:
                problem("submitter", f"「{submitter_text}」不是 QQ 号（5 到 12 位数字）。")
        moment: datetime | None = None
        try:
            moment = parse_time(raw.get("time"))
        except ValueError:
            problem("time", f"「{cells.get('time')}」不是时间，请写成 2027-06-25 09:30 的样子。")
        if len(problems) > start:
            continue
        result.append(
            SubmissionRow(
                line=line,
                unit=cells["unit"],
                link=cells["link"],
                author=cells.get("author") or None,
                submitter=submitter,
                time=moment,
            )
        )
    return result, problems


async def import_submissions(
    book: EntryBook,
    units: UnitDirectory,
    rows: Sequence[SubmissionRow],
    contest: Contest,
    *,
    actor: int | None,
    now: datetime,
    source: str = "导入",
    historical: bool = False,
) -> ImportReport:
    """Submit every row under the chat rules; what was accepted, duplicate or refused, and why.

    The submitter is the row's 提交人, else `actor`; the submission time is the row's 时间
    (contest-local when the cell has no offset), else `now`. As in chat for an organizer, a row
    before the contest opened is refused and one after the deadline is accepted as late.
    `historical` (补录: last year's list, a paper register) skips the window: rows keep their
    dates and are never late; the import is logged as historical.
    """
    require_aware(now)
    report = ImportReport()
    for row in rows:
        outcome = await _import_row(
            book, units, row, contest, actor=actor, now=now, historical=historical
        )
        if isinstance(outcome, Accepted):
            report.accepted.append((row, outcome))
        elif isinstance(outcome, Duplicate):
            report.duplicates.append((row, outcome))
        else:
            report.refused.append((row, outcome if isinstance(outcome, str) else outcome.reason))
    if report.accepted:
        await book.log(
            "entry.import",
            {
                "file": source,
                "accepted": [a.receipt for _, a in report.accepted],
                "duplicates": len(report.duplicates),
                "refused": len(report.refused),
                "historical": historical,
            },
            actor=actor,
            now=now,
        )
    logger.info(
        "导入作品（{}）：受理 {}，重复 {}，拒绝 {}",
        source,
        len(report.accepted),
        len(report.duplicates),
        len(report.refused),
    )
    return report


async def _import_row(
    book: EntryBook,
    units: UnitDirectory,
    row: SubmissionRow,
    contest: Contest,
    *,
    actor: int | None,
    now: datetime,
    historical: bool = False,
) -> Outcome | str:
    try:
        unit = units.require(row.unit)
    except UnitError as refusal:
        return str(refusal)
    candidates = extract_candidates([{"type": "text", "data": {"text": row.link}}])
    if not candidates:
        return "没有找到链接。"
    if len(candidates) > 1:
        return "一格只能填一个链接，请分行填写。"
    submitted_at = now
    if row.time is not None:
        submitted_at = (
            row.time if row.time.tzinfo is not None else row.time.replace(tzinfo=contest.timezone)
        )
    found = candidates[0]
    late = False
    if not historical:
        window = submission_window(contest, submitted_at, organizer=True)
        if not window.open:
            return window.reason or "不在大赛的提交时间内。"
        late = window.late
    done = await submit_links(
        book,
        contest,
        unit,
        [Candidate(found.given, row.author or found.author)],
        by=row.submitter if row.submitter is not None else actor,
        at=submitted_at,
        late=late,
    )
    outcome = done.results[0].outcome
    return outcome.reason if isinstance(outcome, Refused) else outcome
