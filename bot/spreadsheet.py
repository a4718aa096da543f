"""Reading the spreadsheets organisers already have: .csv (UTF-8, UTF-8 with BOM, UTF-16 or GBK,
comma or tab separated) and .xlsx (first sheet). Both imports (units, submissions) read here."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from bot.settings.contest import Problem

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
