"""Read a roster of units from a spreadsheet (.csv or .xlsx) and import it.

The roster is what organizers already have: one row per unit, headers in Chinese or English
(名称/单位/name, 类别/category, 配额/quota, 联络员/secretaries, 别名/aliases), a title row above
the headers allowed. CSV files may be UTF-8 (with or without BOM) or GBK, as Excel in China
saves them. Every bad row is reported with its row number as the spreadsheet shows it, and
skipped; the good rows can still be imported. Importing the same file twice changes nothing
the second time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.names import clean_name, name_key
from bot.settings.contest import Contest, UnitSpec, unit_name_problem
from bot.settings.values import Problem
from bot.spreadsheet import cell_text, find_header, read_rows
from bot.units.directory import MAX_QUOTA, ImportResult, UnitDirectory, resolve_category

# Column → accepted header spellings (compared after name_key folding).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "单位", "单位名称", "name", "unit"),
    "category": ("类别", "类型", "分类", "单位类别", "category"),
    "quota": ("配额", "指标", "quota"),
    "secretaries": ("联络员", "联络员qq", "联络员qq号", "qq", "secretaries", "secretary"),
    "aliases": ("别名", "简称", "aliases", "alias"),
}
COLUMN_LABELS = {
    "name": "名称",
    "category": "类别",
    "quota": "配额",
    "secretaries": "联络员",
    "aliases": "别名",
}
LIST_SEPARATORS = re.compile(r"[,，;；、/\s]+")
QQ_ID = re.compile(r"[1-9][0-9]{4,11}")


def _split(text: str) -> list[str]:
    return [part for part in LIST_SEPARATORS.split(text) if part]


def read_roster(path: Path, contest: Contest | None = None) -> tuple[list[UnitSpec], list[Problem]]:
    """The units in a roster file, and a Problem for every row that could not be read.

    With `contest`, the category column may hold a category id or name and is checked here
    (so the problem carries the row number); without it the text is kept as written.
    """
    file = path.name
    rows, problems = read_rows(path, file)
    if rows is None:
        return [], problems
    header = find_header(rows, HEADERS, {"name"})
    if header is None:
        columns = "、".join(COLUMN_LABELS.values())
        message = f"找不到表头：第一行应写列名（{columns}），至少要有“名称”列。"
        return [], [Problem(file, "表头", message)]
    header_index, columns, unknown = header.index, header.columns, header.unknown
    for text in unknown:
        problems.append(
            Problem(
                file,
                f"表头「{text}」",
                "无法识别的列名，该列已忽略。可用的列名：名称、类别、配额、联络员、别名。",
            )
        )
    if "category" not in columns.values():
        problems.append(Problem(file, "表头", "缺少“类别”列。"))
        return [], problems

    specs: list[UnitSpec] = []
    seen: dict[str, tuple[int, UnitSpec]] = {}
    owner: dict[int, tuple[int, str]] = {}
    for i, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        cells = {column: cell_text(row[j]) if j < len(row) else "" for j, column in columns.items()}
        if not any(cells.values()):
            continue
        spec = _read_row(file, i, cells, contest, problems)
        if spec is None:
            continue
        key = name_key(spec.name)
        if key in seen:
            first_row, first = seen[key]
            if first != spec:
                problems.append(
                    Problem(
                        file,
                        f"第 {i} 行 名称",
                        f"单位「{spec.name}」与第 {first_row} 行重复且内容不同，本行未导入。",
                    )
                )
            continue
        taken = [qq for qq in spec.secretaries if qq in owner]
        if taken:
            r, n = owner[taken[0]]
            problems.append(
                Problem(
                    file,
                    f"第 {i} 行 联络员",
                    f"QQ {taken[0]} 已是第 {r} 行「{n}」的联络员，"
                    "一人只能联络一个单位，本行未导入。",
                )
            )
            continue
        for qq in spec.secretaries:
            owner[qq] = (i, spec.name)
        seen[key] = (i, spec)
        specs.append(spec)
    return specs, problems


def _read_row(
    file: str, row: int, cells: dict[str, str], contest: Contest | None, problems: list[Problem]
) -> UnitSpec | None:
    start = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(Problem(file, f"第 {row} 行 {COLUMN_LABELS[column]}", message))

    name = clean_name(cells.get("name", ""))
    name_problem = unit_name_problem(name)
    if name_problem is not None:
        problem("name", f"{name_problem}。")

    category_text = cells.get("category", "")
    category = category_text
    if not category_text:
        problem("category", "类别为空。")
    elif contest is not None:
        found = resolve_category(contest, category_text)
        if found is None:
            valid = "、".join(f"{c.id}（{c.name}）" for c in contest.categories)
            problem("category", f"没有类别「{category_text}」。可用的类别：{valid}")
        else:
            category = found.id

    quota: int | None = None
    quota_text = cells.get("quota", "")
    if quota_text:
        try:
            quota = int(quota_text)
        except ValueError:
            problem("quota", f"配额应为整数，而不是「{quota_text}」。")
        else:
            if not 0 <= quota <= MAX_QUOTA:
                problem("quota", f"配额应在 0 到 {MAX_QUOTA} 之间（收到 {quota}）。")

    secretaries: list[int] = []
    for part in _split(cells.get("secretaries", "")):
        if QQ_ID.fullmatch(part):
            secretaries.append(int(part))
        else:
            problem("secretaries", f"「{part}」不是 QQ 号（5 到 12 位数字）。")

    aliases = [clean_name(a) for a in re.split(r"[,，;；、/]+", cells.get("aliases", ""))]
    if len(problems) > start:
        return None
    return UnitSpec(
        name=name,
        category=category,
        secretaries=tuple(dict.fromkeys(secretaries)),
        aliases=tuple(dict.fromkeys(a for a in aliases if a and name_key(a) != name_key(name))),
        quota=quota,
    )


async def import_units(
    directory: UnitDirectory,
    specs: Iterable[UnitSpec],
    contest: Contest,
    actor: int | None,
    now: datetime,
    *,
    source: str = "名单",
) -> ImportResult:
    """Add or update the units in `specs` (origin "import"); a unit whose category is not in
    `contest` is reported and skipped. Re-importing the same specs changes nothing."""
    good: list[UnitSpec] = []
    problems: list[Problem] = []
    for spec in specs:
        category = resolve_category(contest, spec.category)
        if category is None:
            valid = "、".join(c.id for c in contest.categories)
            problems.append(
                Problem(
                    source,
                    f"单位「{spec.name}」 类别",
                    f"没有类别「{spec.category}」。可用的类别：{valid}",
                )
            )
            continue
        good.append(replace(spec, category=category.id))
    result = await directory.apply_roster(good, actor, now, source=source)
    return replace(result, problems=(*problems, *result.problems))
