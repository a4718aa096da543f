"""Read config/contest.toml into a `Contest`, collecting every problem instead of stopping at one.

Each section is declared once, in `bot/settings/contest.py`. This module reads the file, checks
its shape (`[contest]` is one table, `[[units]]` a list of them), validates each section through
its declaration with pydantic (`bot/settings/wording.py` words pydantic's errors as the
organizer's problems) and checks the rules across entries: unique category ids and names; unit
names, aliases and secretaries that belong to one unit only. A new section is declared in
contest.py and listed in `SECTIONS`. `[judging]` and `[[judges]]` are declared and read by
`bot/judging/config.py`; their problems are reported here like the others'.

Keys in problems look like `contest.deadline` or `units[3].category`. Array indexes count from 1,
as an organizer counts the [[units]] blocks in the file; the message also names the unit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from bot.judging.config import JudgingPolicy, read_judges, read_judging
from bot.names import name_key
from bot.settings.contest import (
    CATEGORY_IDS,
    CATEGORY_NAMES,
    BotPolicy,
    Category,
    Contest,
    ContestSection,
    FaqPolicy,
    MessagePolicy,
    ReminderPolicy,
    SubmissionPolicy,
    UnitSpec,
    unit_name_problem,
)
from bot.settings.toml_errors import explain as explain_toml_error
from bot.settings.values import Problem, close_match, kind, qq_ids, text, texts
from bot.settings.wording import validate

FILE_KEY = "(整个文件)"
T = TypeVar("T")


class ContestConfigError(Exception):
    """The contest config has problems; `problems` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class _Report:
    """The problems found in one file."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))


def _validate(
    report: _Report, model: type[T], data: dict[str, Any], prefix: str, context: dict[str, Any]
) -> T | None:
    """`data` read through `model`; None, and its problems reported, if it has any."""
    value, found = validate(model, data, context)
    for key, message in found:
        report.problem(f"{prefix}.{key}" if key else prefix, message)
    return value


# --------------------------------------------------------------------------------------------
# The rules across [[categories]] and [[units]] entries.

Say = Callable[[str, str], None]


def _written(entry: dict[str, Any], key: str, read: Callable[[object], T]) -> T | None:
    """`entry[key]` as `read` reads it; None if missing or unreadable (that is reported)."""
    if key not in entry:
        return None
    try:
        return read(entry[key])
    except ValueError:  # pydantic's errors are ValueErrors
        return None


@dataclass
class _Roll:
    """What the entries read so far claimed: category ids and names, unit names and aliases
    (folded), secretaries. An entry's keys take part as soon as they are readable themselves."""

    category_ids: list[str] = field(default_factory=list)
    category_names: dict[str, str] = field(default_factory=dict)
    # folded category name -> its id, so a unit may name its category either way
    category_by_name: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # folded name or alias -> its unit
    secretary_of: dict[int, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        return {CATEGORY_IDS: tuple(self.category_ids), CATEGORY_NAMES: self.category_by_name}

    def category(self, entry: dict[str, Any], say: Say) -> None:
        category_id = _written(entry, "id", text)
        name = _written(entry, "name", text)
        if category_id is not None:
            if category_id in self.category_ids:
                say("id", f"类别 id“{category_id}”重复；每个类别的 id 应不同")
            else:
                self.category_ids.append(category_id)
        if name is not None:
            if name_key(name) in self.category_names:
                say("name", f"类别名称“{name}”与类别“{self.category_names[name_key(name)]}”重复")
            self.category_names[name_key(name)] = name
            if category_id is not None:
                self.category_by_name[name_key(name)] = category_id

    def unit(self, entry: dict[str, Any], say: Say) -> None:
        name = _written(entry, "name", text)
        shown = f"单位“{name}”" if name else "此单位"
        if name is not None and (why := unit_name_problem(name)) is not None:
            say("name", f"单位名称“{name[:20]}”不可用：{why}")
            name = None
        if name is not None:
            owner = self.labels.get(name_key(name))
            if owner is not None:
                say("name", f"单位名称“{name}”与单位“{owner}”的名称或别名重复；名称应唯一")
            else:
                self.labels[name_key(name)] = name
        self._aliases(_written(entry, "aliases", texts) or (), name, shown, say)
        for qq in _written(entry, "secretaries", qq_ids) or ():
            if qq in self.secretary_of:
                owner = self.secretary_of[qq]
                say("secretaries", f"QQ {qq} 已是单位“{owner}”的联络员；一个 QQ 号只能对应一个单位")
            else:
                self.secretary_of[qq] = name or ""

    def _aliases(self, aliases: Iterable[str], name: str | None, shown: str, say: Say) -> None:
        for alias in aliases:
            if (why := unit_name_problem(alias)) is not None:
                say("aliases", f"{shown}的别名“{alias[:20]}”不可用：{why}")
                continue
            owner = self.labels.get(name_key(alias))
            if owner == name:
                continue  # an alias equal to its own name is harmless
            if owner is not None:
                say(
                    "aliases",
                    f"{shown}的别名“{alias}”与单位“{owner}”的名称或别名相同，"
                    "机器人无法判断指哪个单位；请改用其他别名或删去",
                )
                continue
            self.labels[name_key(alias)] = name or alias


# --------------------------------------------------------------------------------------------
# Sections.


@dataclass(frozen=True)
class Section:
    """A `[name]` table, or with `across` a `[[name]]` list of tables, declared by `model`."""

    name: str
    model: type[Any]
    required_hint: str | None = None  # set: the section must be present (and not empty)
    across: Callable[[_Roll, dict[str, Any], Say], None] | None = None  # rules across entries

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self.model))


# Read in this order: [[categories]] gives the ids [[units]] refer to. The keys of [contest] are
# the Contest's own; every other section is the Contest attribute of its name.
SECTIONS: tuple[Section, ...] = (
    Section("contest", ContestSection, required_hint="大赛名称、时区、起止时间和群号"),
    Section(
        "categories",
        Category,
        required_hint='至少一个类别，例如 [[categories]] id = "town" name = "镇、街道" quota = 50',
        across=_Roll.category,
    ),
    Section("units", UnitSpec, across=_Roll.unit),
    Section("bot", BotPolicy),
    Section("messages", MessagePolicy),
    Section("submission", SubmissionPolicy),
    Section("faq", FaqPolicy),
    Section("reminders", ReminderPolicy),
)
# Read by bot/judging/config.py's own readers (`read_judging`, `read_judges`).
JUDGING = "judging"
JUDGES = "judges"


def _table(report: _Report, section: Section, value: object) -> dict[str, Any] | None:
    if value is None:
        if section.required_hint:
            report.problem(section.name, f"缺少 [{section.name}] 段（{section.required_hint}）")
            return None
        return {}
    if not isinstance(value, dict):
        report.problem(section.name, f"应写成 [{section.name}] 段（一层方括号）")
        return None
    return value


def _entries(report: _Report, section: Section, value: object) -> list[tuple[str, dict[str, Any]]]:
    """The `[[name]]` tables of `value`, each with the key prefix its problems get."""
    name = section.name
    if isinstance(value, dict):
        report.problem(name, f"应写成 [[{name}]]（两层方括号），每项一段；现在是 [{name}]")
        return []
    if value is not None and not isinstance(value, list):
        report.problem(name, f"应写成 [[{name}]] 段，现在是{kind(value)}")
        return []
    entries: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(value or [], start=1):
        if isinstance(item, dict):
            entries.append((f"{name}[{index}]", item))
        else:
            report.problem(f"{name}[{index}]", f"应为一段 [[{name}]]，现在是{kind(item)}")
    if not entries and section.required_hint:
        if value is None:
            report.problem(name, f"缺少 [[{name}]]：{section.required_hint}")
        else:
            report.problem(name, f"不能为空：{section.required_hint}")
    return entries


def _read_sections(report: _Report, data: dict[str, Any]) -> dict[str, Any]:
    """The `Contest` keyword arguments the sections give."""
    roll = _Roll()
    values: dict[str, Any] = {}
    for section in SECTIONS:
        value = data.get(section.name)
        if section.across is not None:
            read: list[Any] = []
            for prefix, entry in _entries(report, section, value):
                item = _validate(report, section.model, entry, prefix, roll.context())
                section.across(roll, entry, lambda k, m, p=prefix: report.problem(f"{p}.{k}", m))
                if item is not None:
                    read.append(item)
            values[section.name] = tuple(read)
            continue
        table = _table(report, section, value)
        item = None if table is None else _validate(report, section.model, table, section.name, {})
        if item is None:
            continue
        if section.model is ContestSection:
            values.update({f.name: getattr(item, f.name) for f in fields(ContestSection)})
        else:
            values[section.name] = item
    return values


def _judge_tables(value: object) -> bool:
    """`[[judges]]` (or a `[judges]` table, a problem its reader words); a plain `judges = [...]`
    outside any section is the old [contest] key misplaced, reported as such."""
    tables = isinstance(value, list) and all(isinstance(item, dict) for item in value)
    return tables or isinstance(value, dict)


def _read_judging(report: _Report, data: dict[str, Any]) -> dict[str, Any]:
    """The `Contest` keyword arguments `[judging]` and `[[judges]]` give. A judge's units are
    not looked up here: a unit may be one added in the group or imported into the database, so
    `check` warns about a unit [[units]] does not list instead of refusing to start."""
    policy, found = read_judging(data.get(JUDGING), key=JUDGING)
    written = data.get(JUDGES)
    judges, judge_found = read_judges(written if _judge_tables(written) else None, key=JUDGES)
    report.problems += [p.in_file(report.file) for p in (*found, *judge_found)]
    values: dict[str, Any] = {}
    if policy is not None:
        values["judging"] = policy
    if judges is not None:
        values["named_judges"] = judges
    return values


def _check_sections(report: _Report, data: dict[str, Any]) -> None:
    names = [s.name for s in SECTIONS] + [JUDGING, JUDGES]
    for key, value in data.items():
        if key in names and (key != JUDGES or _judge_tables(value)):
            continue
        is_array_of_tables = (
            isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
        )
        if isinstance(value, dict) or is_array_of_tables:
            hint = close_match(key, names)
            tip = f"是否想写 [{hint}]？" if hint else f"可用的段：{'、'.join(names)}"
            report.problem(key, f"未知的段“{key}”；{tip}")
        else:
            home = next((s.name for s in SECTIONS if key in s.keys), None)
            if home is None and key in {f.name for f in fields(JudgingPolicy)}:
                home = JUDGING
            tip = f"应写在 [{home}] 段下面" if home else "请删去或放到正确的段下"
            report.problem(key, f"未知的键“{key}”；{tip}")


# --------------------------------------------------------------------------------------------
# The file.


def _read(path: Path, report: _Report) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        report.problem(FILE_KEY, "找不到该文件；请检查路径，或用环境变量 BOT_CONFIG 指定配置文件")
        return None
    except OSError as error:
        report.problem(FILE_KEY, f"无法读取该文件（{error.strerror or error}）；请检查路径和权限")
        return None
    try:
        content = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        report.problem(FILE_KEY, "文件不是 UTF-8 编码；请用 UTF-8 另存后重试")
        return None
    try:
        return tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        line, explained = explain_toml_error(content, str(error))
        report.problem(f"第 {line} 行" if line else FILE_KEY, explained)
        return None


def load_contest(path: Path) -> tuple[Contest | None, list[Problem]]:
    """Load and validate the contest config; the Contest is None whenever there is a problem."""
    report = _Report(file=str(path))
    data = _read(path, report)
    if data is None:
        return None, report.problems
    _check_sections(report, data)
    values = _read_sections(report, data)
    values |= _read_judging(report, data)
    if report.problems:
        return None, report.problems
    return Contest(**values, config_dir=path.parent), []


def load_contest_or_raise(path: Path) -> Contest:
    contest, problems = load_contest(path)
    if contest is None:
        raise ContestConfigError(problems)
    return contest
