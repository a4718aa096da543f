"""Exports for organizers and judges: an XLSX workbook and a CSV of every entry.

Workbook: sheet "单位进度" (one row per unit) and sheet "全部作品" (one row per entry, withdrawn
ones included and marked); frozen header row, column widths, autofilter, links clickable,
times as Excel datetimes in the contest's timezone. CSV: the entries sheet, UTF-8 with a BOM
so that Excel opens it as UTF-8.

What users typed (authors, titles of fetched pages) must never run as a formula when an
organizer opens the file: in the workbook such a cell is stored as text (and shown with
Excel's quote prefix), in the CSV it gets a leading apostrophe.

Files are written under `<data dir>/exports/` with the contest-local time in the name. What
the folder guarantees, however many exports run at once (dashboard downloads and /导出 share
this code):
- each export first claims its name (`submissions-<time>[-n]`) by creating a marker file
  exclusively, so two exports started in the same second never pick the same name;
- each file is written to a temporary file of its own (a unique name in the same folder) and
  then linked into place, which fails rather than replace anything: a file once offered is never
  changed while someone downloads it, and a half-written file is never offered;
- every export removes files older than `KEEP_EXPORTS` (by their modification time; a reply
  from /导出 points to its files for at least that long), and leftovers of a crashed export;
- `Exporter` runs one export job at a time per process, and requests for data unchanged since
  the last job share its files (single flight keyed by the content).
The workbook is written in openpyxl's streaming mode: 100,000 entries stay cheap in memory.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from bot.submissions.states import Flag, VerifyStatus, verify_label

PROGRESS_SHEET = "单位进度"
# How long export files stay on disk; older ones are removed by the next export.
KEEP_EXPORTS = timedelta(days=7)
# An export of unchanged data is handed out again for this long.
REUSE_FOR = timedelta(hours=1)
# A claim or temporary file this old belongs to an export that crashed.
_LEFTOVER_AGE = timedelta(hours=1)
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
    # Added later, so at the end: the link exactly as the secretary sent it.
    ("提交的原链接", 50),
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


Names = Callable[[int | None], str]
"""How a submitter is shown (`张三（10003）`); without it, the QQ number."""


def entry_values(entry: EntryView, contest: Contest, names: Names | None = None) -> list[Any]:
    """One entry as the export's cell values, in ENTRY_COLUMNS order (None = empty)."""
    return [
        entry.receipt,
        entry.unit_name,
        entry.author,
        entry.url,
        entry.platform_name or entry.platform,
        entry.title,
        entry.text_length,
        verify_label(entry.verify_status, verifying=contest.submission.verify),
        flags_text(entry.flags) or None,
        names(entry.submitted_by) if names is not None else entry.submitted_by,
        contest.local(entry.submitted_at).replace(tzinfo=None),
        status_text(entry),
        entry.given_url,
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
    keep: timedelta = KEEP_EXPORTS,
    names: Names | None = None,
) -> ExportFiles:
    """Write the workbook and the CSV under `directory/exports`; their paths.

    Blocking file I/O (a second or two for 100,000 entries): call it in a worker thread. Safe to
    run in several threads or processes at once (see the module's docstring).
    """
    require_aware(now)
    folder = directory / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    remove_old_exports(folder, keep)
    claim = _claim_stem(folder, f"submissions-{contest.local(now):%Y%m%d-%H%M%S}")
    try:
        stem = claim.name.removeprefix(".").removesuffix(".claim")
        xlsx = folder / f"{stem}.xlsx"
        csv_path = folder / f"{stem}.csv"
        rows = [entry_values(e, contest, names) for e in entries]
        _publish(xlsx, lambda tmp: _write_workbook(tmp, progress, rows, contest))
        _publish(csv_path, lambda tmp: _write_csv(tmp, rows))
    finally:
        claim.unlink(missing_ok=True)
    return ExportFiles(xlsx=xlsx, csv=csv_path)


Loader = Callable[[], Awaitable[tuple[Sequence[Progress], Sequence[EntryView]]]]


def content_key(
    progress: Sequence[Progress],
    entries: Sequence[EntryView],
    contest: Contest,
    names: Names | None = None,
) -> str:
    """A digest of everything an export would contain: equal keys, equal files."""
    digest = hashlib.sha256()
    for values in (
        *(progress_values(p, contest) for p in progress),
        (None,),  # between the two sheets
        *(entry_values(e, contest, names) for e in entries),
    ):
        digest.update(repr(values).encode())
    return digest.hexdigest()


class Exporter:
    """Export jobs of one process: one at a time, and requests for unchanged data share one.

    Twelve people pressing "download" at once make one workbook, not twelve: each request
    waits for the job in progress, then reads the data again; if nothing changed since (same
    `content_key`) and the files are still there, it gets the same files.
    """

    def __init__(self, directory: Path, keep: timedelta = KEEP_EXPORTS) -> None:
        self.directory = directory
        self.keep = keep
        self.jobs = 0  # files actually written (for tests and the log)
        self._lock = asyncio.Lock()
        self._last: tuple[str, ExportFiles] | None = None

    async def export(
        self, load: Loader, contest: Contest, now: datetime, names: Names | None = None
    ) -> ExportFiles:
        async with self._lock:
            progress, entries = await load()
            key = await asyncio.to_thread(content_key, progress, entries, contest, names)
            last = self._last
            if last is not None and last[0] == key and _fresh(last[1]):
                return last[1]
            files = await asyncio.to_thread(
                write_exports, self.directory, progress, entries, contest, now, self.keep, names
            )
            self.jobs += 1
            self._last = (key, files)
            return files


def _fresh(files: ExportFiles) -> bool:
    """Both files still there and made within the hour (far from being cleaned up)."""
    try:
        ages = [time.time() - path.stat().st_mtime for path in (files.xlsx, files.csv)]
    except FileNotFoundError:
        return False
    return max(ages) < REUSE_FOR.total_seconds()


def remove_old_exports(folder: Path, keep: timedelta = KEEP_EXPORTS) -> list[Path]:
    """Delete export files older than `keep` and leftovers of crashed exports; what went.

    Ages come from the files' modification times and the machine's clock (the file system's
    own), never from the contest's clock, which tests move freely.
    """
    removed: list[Path] = []
    wall = time.time()
    for path in folder.iterdir():
        if not path.name.startswith(("submissions-", ".submissions-")) or not path.is_file():
            continue
        limit = _LEFTOVER_AGE if path.name.startswith(".") else keep
        try:
            if wall - path.stat().st_mtime > limit.total_seconds():
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue  # another export removed it first
    return removed


def _claim_stem(folder: Path, stem: str) -> Path:
    """Create `.<stem>[-n].claim` exclusively for the first free name; the claim file."""
    n = 1
    while True:
        candidate = stem if n == 1 else f"{stem}-{n}"
        n += 1
        if (folder / f"{candidate}.xlsx").exists() or (folder / f"{candidate}.csv").exists():
            continue
        claim = folder / f".{candidate}.claim"
        try:
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        # The files may have appeared between the check and the claim (an export finishing).
        if (folder / f"{candidate}.xlsx").exists() or (folder / f"{candidate}.csv").exists():
            claim.unlink(missing_ok=True)
            continue
        return claim


def _publish(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file of our own, then link it to `path` (never over a file)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        try:
            os.link(tmp, path)  # unlike os.replace, fails if `path` exists
        except FileExistsError:
            raise
        except OSError:
            # A file system without hard links: the claim already makes the name ours alone.
            os.rename(tmp, path)
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
        sheet.append(sheet_cells(sheet, progress_values(p, contest), percent_column=6))
    sheet = book.create_sheet(ENTRIES_SHEET)
    _start(sheet, ENTRY_COLUMNS, len(rows))
    for row in rows:
        sheet.append(sheet_cells(sheet, row, link_column=3, datetime_column=10))
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


def sheet_cells(
    sheet: Any,
    values: Sequence[Any],
    *,
    link_column: int | None = None,
    datetime_column: int | None = None,
    percent_column: int | None = None,
) -> list[Any]:
    """One row's cells, safe to open: illegal characters dropped, text that starts like a
    formula stored as text (not shown with a quote mark), links and dates formatted."""
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
