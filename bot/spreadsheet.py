"""Reading the spreadsheets organizers already have: .csv (UTF-8, UTF-8 with BOM, UTF-16 or GBK,
comma or tab separated) and .xlsx (first sheet). Both imports (units, submissions) read here."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.names import name_key
from bot.settings.values import Problem

Cell = object
Row = Sequence[Cell]


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel stores 50 and QQ ids as floats
    return str(cell).strip()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # GB18030 is a superset of GBK/GB2312, what Excel on Chinese Windows writes.
        return data.decode("gb18030")


def _csv_rows(path: Path) -> list[list[Cell]]:
    text = _decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_rows(path: Path) -> list[list[Cell]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_rows(path: Path, file: str) -> tuple[list[list[Cell]] | None, list[Problem]]:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        hint = "请在 Excel 中“另存为” .xlsx 或 .csv。" if suffix == ".xls" else ""
        return None, [Problem(file, "文件", f"只能导入 .csv 或 .xlsx 文件。{hint}")]
    try:
        return (_csv_rows(path) if suffix == ".csv" else _xlsx_rows(path)), []
    except FileNotFoundError:
        return None, [Problem(file, "文件", "文件不存在。")]
    except (OSError, ValueError, KeyError, UnicodeDecodeError, csv.Error) as e:
        return None, [Problem(file, "文件", f"无法读取文件：{e}")]


# A title row (e.g. "南湖区各单位联络员名单") may stand above the header row.
HEADER_SEARCH_ROWS = 10
_NOTE = re.compile(r"[（(].*?[）)]")


@dataclass(frozen=True)
class Header:
    """The header row: where it is, which column holds what, and header texts not understood."""

    index: int
    columns: dict[int, str]
    unknown: list[str]


def find_header(
    rows: list[list[Cell]], spellings: Mapping[str, tuple[str, ...]], required: set[str]
) -> Header | None:
    """The first row (of the first ten) naming every `required` column.

    `spellings` maps a column to the header texts meaning it, compared after `name_key` folding
    and without a bracketed note ("作者（选填）" is "作者").
    """

    def column_of(text: str) -> str | None:
        key = name_key(_NOTE.sub("", text))
        return next((column for column, names in spellings.items() if key in names), None)

    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = {j: column_of(cell_text(cell)) for j, cell in enumerate(row)}
        if required <= set(columns.values()):
            known = {j: c for j, c in columns.items() if c is not None}
            unknown = [cell_text(row[j]) for j, c in columns.items() if c is None]
            return Header(index, known, [text for text in unknown if text])
    return None
