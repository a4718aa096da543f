"""Exports for organizers and judges: an XLSX workbook and a CSV of every entry.

Workbook: sheet "单位进度" (one row per unit) and sheet "全部作品" (one row per entry, withdrawn
ones included and marked); frozen header row, column widths, autofilter, links clickable,
times as Excel datetimes in the contest's timezone. CSV: the entries sheet, UTF-8 with a BOM
so that Excel opens it as UTF-8.

What users typed (authors, titles of fetched pages) must never run as a formula when an
organizer opens the file: in the workbook such a cell is stored as text (and shown with
Excel's quote prefix), in the CSV it gets a leading apostrophe.

Files are written under `<data dir>/exports/` with the contest-local time in the name, first
to a temporary name and then renamed, so a half-written file is never offered for download.
The workbook is written in openpyxl's streaming mode: 100,000 entries stay cheap in memory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.clock import require_aware
from bot.settings.contest import Contest
from bot.submissions.book import EntryView, Progress
from bot.submissions.states import Flag, VerifyStatus

PROGRESS_SHEET = "单位进度"
ENTRIES_SHEET = "全部作品"
PROGRESS_COLUMNS: tuple[tuple[str, float], ...] = (
    ("单位", 24),
    ("类别", 12),
    ("配额", 8),
    ("已提交", 8),
    ("逾期", 8),
    ("存疑", 8),
    ("完成率", 10),
)
ENTRY_COLUMNS: tuple[tuple[str, float], ...] = (
    ("回执编号", 10),
    ("单位", 20),
    ("作者", 12),
    ("链接", 50),
    ("平台", 12),
    ("标题", 40),
    ("字数", 8),
    ("核验结果", 14),
    ("存疑原因", 24),
    ("提交人", 14),
    ("提交时间", 18),
    ("状态", 14),
)
# Labels by value, for templates and lookups (the labels themselves live in states.py).
VERIFY_TEXT = {status: status.label for status in VerifyStatus}
FLAG_TEXT = {flag: flag.label for flag in Flag}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
# Cells starting with these are formulas (or DDE) to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_HEADER_FONT = Font(bold=True)
_LINK_FONT = Font(color="0563C1", underline="single")


@dataclass(frozen=True)
class ExportFiles:
    xlsx: Path
    csv: Path


def status_text(entry: EntryView) -> str:
    text = entry.status.label
    return f"{text}（逾期）" if entry.late else text


def flags_text(flags: Iterable[Flag]) -> str:
    return "、".join(flag.label for flag in flags)


def entry_values(entry: EntryView, contest: Contest) -> list[Any]:
    """One entry as the export's cell values, in ENTRY_COLUMNS order (None = empty)."""
    return [
        entry.receipt,
        entry.unit_name,
        entry.author,
        entry.url,
        entry.platform_name or entry.platform,
        entry.title,
        entry.text_length,
        entry.verify_status.label,
        flags_text(entry.flags) or None,
        entry.submitted_by,
        contest.local(entry.submitted_at).replace(tzinfo=None),
        status_text(entry),
    ]


def progress_values(progress: Progress, contest: Contest) -> list[Any]:
    category = contest.category(progress.category)
    return [
        progress.unit,
        category.name if category is not None else progress.category,
        progress.quota,
        progress.accepted,
        progress.late,
        progress.flagged,
        progress.completion if progress.quota else None,
    ]


def csv_text(value: Any) -> str:
    """A value as CSV text that no spreadsheet will evaluate."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_exports(
    directory: Path,
    progress: Sequence[Progress],
    entries: Sequence[EntryView],
    contest: Contest,
    now: datetime,
) -> ExportFiles:
    """Write the workbook and the CSV under `directory/exports`; their paths.

    Blocking file I/O (a second or two for 100,000 entries): call it in a worker thread.
    """
    require_aware(now)
    folder = directory / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = _free_stem(folder, f"submissions-{contest.local(now):%Y%m%d-%H%M%S}")
    xlsx = folder / f"{stem}.xlsx"
    csv_path = folder / f"{stem}.csv"
    rows = [entry_values(e, contest) for e in entries]
    _atomic(xlsx, lambda tmp: _write_workbook(tmp, progress, rows, contest))
    _atomic(csv_path, lambda tmp: _write_csv(tmp, rows))
    return ExportFiles(xlsx=xlsx, csv=csv_path)


def _free_stem(folder: Path, stem: str) -> str:
    candidate, n = stem, 1
    while (folder / f"{candidate}.xlsx").exists() or (folder / f"{candidate}.csv").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_csv(path: Path, rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([name for name, _ in ENTRY_COLUMNS])
        for row in rows:
            writer.writerow([csv_text(v) for v in row])


def _write_workbook(
    path: Path,
    progress: Sequence[Progress],
    rows: Sequence[Sequence[Any]],
    contest: Contest,
) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(PROGRESS_SHEET)
    _start(sheet, PROGRESS_COLUMNS, len(progress))
    for p in progress:
        sheet.append(_cells(sheet, progress_values(p, contest), percent_column=6))
    sheet = book.create_sheet(ENTRIES_SHEET)
    _start(sheet, ENTRY_COLUMNS, len(rows))
    for row in rows:
        sheet.append(_cells(sheet, row, link_column=3, datetime_column=10))
    book.save(path)


def _start(
    # openpyxl's stubs lack the attributes its write-only sheets set up at run time.
    sheet: Any,
    columns: Sequence[tuple[str, float]],
    count: int,
) -> None:
    for index, (_, width) in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    header: list[Any] = []
    for name, _ in columns:
        cell = WriteOnlyCell(sheet, name)
        cell.font = _HEADER_FONT
        cell.alignment = Alignment(horizontal="center")
        header.append(cell)
    sheet.append(header)


def _cells(
    sheet: Any,
    values: Sequence[Any],
    *,
    link_column: int | None = None,
    datetime_column: int | None = None,
    percent_column: int | None = None,
) -> list[Any]:
    cells: list[Any] = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith(_FORMULA_START):
                cell = WriteOnlyCell(sheet, value)
                cell.data_type = "s"  # openpyxl would store it as a formula
                cell.quotePrefix = True
                cells.append(cell)
                continue
            if index == link_column and value.startswith(("http://", "https://")):
                cell = WriteOnlyCell(sheet, value)
                cell.hyperlink = value
                cell.font = _LINK_FONT
                cells.append(cell)
                continue
        elif index == datetime_column and isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value)
            cell.number_format = DATETIME_FORMAT
            cells.append(cell)
            continue
        elif index == percent_column and isinstance(value, float):
            cell = WriteOnlyCell(sheet, value)
            cell.number_format = PERCENT_FORMAT
            cells.append(cell)
            continue
        cells.append(value)
    return cells
