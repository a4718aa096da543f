"""The `[judging]` section and the `[[judges]]` of contest.toml, as plain immutable values.

Declared like every other section (`bot/settings/contest.py`): frozen dataclasses whose fields
carry their default, bounds and doc. `read_judging` reads a `[judging]` table (as tomllib gives
it) into a `JudgingPolicy`, and `read_judges` the judges in either form — the old
`[contest] judges = [20001, …]` list or `[[judges]]` tables with a name and the units each judge
belongs to. Both collect every problem, each with its key, what is wrong and what to write
instead, in the organizer's Chinese; neither raises on bad input. A value built in code is taken
as given (tests build tiny policies); one read from the file is validated.

`bot/judging/example.toml` is the shipped Nanhu example; a test reads it through these readers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, with_config
from pydantic_core import PydanticCustomError

from bot.names import name_key
from bot.settings.values import (
    SECTION,
    Bool,
    Example,
    Float,
    Int,
    Problem,
    Texts,
    close_match,
    kind,
    problem,
    qq_id,
    text,
)
from bot.settings.wording import validate

EXAMPLE_FILE = "bot/judging/example.toml"
# Names show on the dashboard, the results page and certificates; a judge's name is shown like
# a person's (bot/units/people.py, NAME_MAX).
NAME_MAX = 30
# A criterion's id is stored with every score (judge_score.criterion).
CRITERION_ID_MAX = 32
_CRITERION_ID = re.compile(rf"^[a-z][a-z0-9_]{{0,{CRITERION_ID_MAX - 1}}}$")


def label(value: object) -> str:
    """A name people read (a judge, a criterion, an award): text, no control characters, short."""
    name = text(value)
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise problem("含有看不见的控制字符（如换行、制表符）；请重新输入这个名称")
    if len(name) > NAME_MAX:
        raise problem(f"名称不能超过 {NAME_MAX} 个字，现在是 {len(name)} 个；请写简短的名称")
    return name


def criterion_id(value: object) -> str:
    """A criterion's id: a short English word, compared without case."""
    written = text(value).lower()
    if not _CRITERION_ID.match(written):
        raise problem(
            f"id“{written[:40]}”不可用；请写英文小写字母开头、只含字母数字和下划线的短词"
            f'（最多 {CRITERION_ID_MAX} 个字符），例如 "quality"'
        )
    return written


Label = Annotated[str, BeforeValidator(label)]


class Choice(StrEnum):
    """A setting written as one of a few words; `label` is what organizers read."""

    @property
    def label(self) -> str:
        raise NotImplementedError

    @classmethod
    def reader(cls) -> BeforeValidator:
        def read(value: object) -> Self:
            words = "、".join(f'"{member.value}"（{member.label}）' for member in cls)
            if not isinstance(value, str):
                raise problem(f"应为带引号的文字，可写 {words}；现在是{kind(value)} {value!r}")
            try:
                return cls(value.strip().lower())
            except ValueError:
                hint = close_match(value.strip().lower(), [m.value for m in cls])
                guess = f"是否想写“{hint}”？" if hint else ""
                raise problem(f"不认识“{value}”；{guess}可写 {words}") from None

        return BeforeValidator(read)


class Source(Choice):
    """Where a criterion's score comes from: the judges, or a figure the post's platform shows."""

    JUDGES = "judges"
    VIEWS = "views"
    REPOSTS = "reposts"
    COMMENTS = "comments"
    LIKES = "likes"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]

    @property
    def is_reach(self) -> bool:
        return self is not Source.JUDGES


_SOURCE_LABELS = {
    Source.JUDGES: "评委打分",
    Source.VIEWS: "阅读量",
    Source.REPOSTS: "转发量",
    Source.COMMENTS: "评论数",
    Source.LIKES: "点赞数",
}


class Scale(Choice):
    """How a reach figure becomes a 1–10 score within this contest (`bot/judging/scoring.py`)."""

    LOG = "log"
    """log(1 + figure), placed between the contest's smallest and largest: 10× the views is a
    fixed step, not ten times the score."""
    RANK = "rank"
    """The share of the contest's entries with a smaller figure (ties count half): only the
    order matters, so one viral post moves nobody else's score."""

    @property
    def label(self) -> str:
        return "对数刻度" if self is Scale.LOG else "名次百分位"


class Normalization(Choice):
    """How judges' 1–10 scores for one entry become its score on a criterion."""

    NONE = "none"
    ZSCORE = "zscore"
    TRIM = "trim"

    @property
    def label(self) -> str:
        return _NORMALIZATION_LABELS[self]


_NORMALIZATION_LABELS = {
    Normalization.NONE: "直接取平均",
    Normalization.ZSCORE: "按评委标准化后取平均",
    Normalization.TRIM: "去掉最高分和最低分后取平均",
}


class Aggregate(Choice):
    """How a person's entries become the person's score for individual awards."""

    BEST = "best"
    MEAN = "mean"
    COUNT = "count"

    @property
    def label(self) -> str:
        return {"best": "最好一篇的得分", "mean": "各篇得分的平均", "count": "作品篇数"}[self]


class TieRule(Choice):
    """What happens to people tied across an award's last place (`bot/judging/awards.py`)."""

    SHARE = "share"
    CAP = "cap"

    @property
    def label(self) -> str:
        if self is TieRule.SHARE:
            return "并列者同得较高的奖，该奖名额可能多出"
        return "名额不超出：放不下的并列者一起降到下一个奖，空出的名额不补"


@with_config(SECTION)
@dataclass(frozen=True)
class Criterion:
    """A `[[judging.criteria]]` entry: one thing an entry is scored on, each on a 1–10 scale."""

    id: Annotated[str, BeforeValidator(criterion_id), Example('id = "quality"')]
    """Short English word, unique: scores and exports refer to it."""
    name: Annotated[Label, Example('name = "质量"')]
    """What organizers, judges and the results page call it."""
    weight: Annotated[Float, Field(gt=0, le=100), Example("weight = 70")]
    """Relative weight; the total is the weighted mean, so weights need not add up to 100."""
    source: Annotated[Source, Source.reader()] = Source.JUDGES
    scale: Annotated[Scale, Scale.reader()] = Scale.LOG
    """Only for a reach figure (views, reposts, comments, likes)."""


@with_config(SECTION)
@dataclass(frozen=True)
class Tier:
    """A `[[judging.tiers]]` entry: an individual award and how many get it, best first."""

    name: Annotated[Label, Example('name = "一等奖"')]
    count: Annotated[Int, Field(ge=1, le=100_000)] | None = None
    """This many places."""
    share: Annotated[Float, Field(gt=0, le=1)] | None = None
    """This share of the people ranked (0.05: 5 %), rounded half up."""

    def places(self, ranked: int) -> int:
        """Places this tier offers when `ranked` people are ranked."""
        if self.count is not None:
            return self.count
        return math.floor((self.share or 0) * ranked + 0.5)


@with_config(SECTION)
@dataclass(frozen=True)
class UnitAward:
    """A `[[judging.unit_awards]]` entry, e.g. 优秀组织奖: for units that met both thresholds,
    best mean first; a unit gets the first of these awards it qualifies for."""

    name: Annotated[Label, Example('name = "优秀组织奖"')]
    min_completion: Annotated[Float, Field(ge=0, le=10)] = 1.0
    """Accepted entries over the unit's quota, at least (1.0: quota met)."""
    min_mean: Annotated[Float, Field(ge=0, le=100)] = 0.0
    """Mean total (10–100) of the unit's judged entries, at least."""
    count: Annotated[Int, Field(ge=1, le=100_000)] | None = None
    """At most this many units (ties as `ties` says); none: every unit that qualifies."""


@with_config(SECTION)
@dataclass(frozen=True)
class JudgingPolicy:
    """`[judging]`: criteria, how judges' scores are combined, and the award rules."""

    criteria: tuple[Criterion, ...] = (Criterion("quality", "质量", 100.0),)
    judges_per_entry: Annotated[Int, Field(ge=1, le=20)] = 3
    """Judges each entry is assigned to."""
    blind: Bool = True
    """Judges do not see an entry's unit and author on the dashboard."""
    normalization: Annotated[Normalization, Normalization.reader()] = Normalization.ZSCORE
    trim_from: Annotated[Int, Field(ge=3, le=50)] = 5
    """With normalization = "trim": an entry's highest and lowest scores are dropped once it has
    at least this many judges."""
    aggregate: Annotated[Aggregate, Aggregate.reader()] = Aggregate.BEST
    """A person's score for individual awards, from their judged entries."""
    ties: Annotated[TieRule, TieRule.reader()] = TieRule.SHARE
    tiers: tuple[Tier, ...] = ()
    """Individual awards, best first."""
    unit_awards: tuple[UnitAward, ...] = ()
    public_showcase: Bool = False
    """Serve the showcase of the published results at /showcase, to anyone, read-only (off:
    only `python -m bot showcase` writes it, for the district's own site)."""

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    @property
    def judged(self) -> tuple[Criterion, ...]:
        """The criteria judges score."""
        return tuple(c for c in self.criteria if not c.source.is_reach)


def _qq(value: object) -> int:
    """One QQ number, read like the lists of them in contest.toml (same words for problems)."""
    return qq_id(value, found="现在是")


@with_config(SECTION)
@dataclass(frozen=True)
class Judge:
    """A `[[judges]]` entry: who judges, and the units they belong to (never judged by them)."""

    qq: Annotated[int, BeforeValidator(lambda v: _qq(v)), Example("qq = 20001")]
    name: Annotated[Label, Example('name = "王老师"')]
    units: Texts = ()

    @property
    def label(self) -> str:
        return self.name or f"评委 {self.qq}"


# --------------------------------------------------------------------------------------------
# Reading.


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in the section: where (`judging.criteria[2].weight`), what, what to do."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}；{self.fix}"

    def in_file(self, file: str) -> Problem:
        """As the loader reports it: file, key, message with the fix."""
        return Problem(file, self.key, f"{self.message}；{self.fix}")


def _worded(key: str, message: str) -> ConfigProblem:
    """A problem worded as "what；what to do" (bot/settings/wording.py) split into its parts."""
    what, _, fix = message.partition("；")
    return ConfigProblem(key, what, fix or f"请对照 {EXAMPLE_FILE} 的写法修改")


@dataclass
class _Reading:
    problems: list[ConfigProblem] = field(default_factory=list)

    def say(self, key: str, message: str, fix: str) -> None:
        self.problems.append(ConfigProblem(key, message, fix))

    def read(self, model: type[Any], data: dict[str, Any], key: str) -> Any | None:
        value, found = validate(model, data)
        for where, message in found:
            self.problems.append(_worded(f"{key}.{where}" if where else key, message))
        return value

    def tables(self, value: object, key: str) -> list[tuple[str, dict[str, Any]]]:
        """The `[[key]]` tables of `value`, each with its key (counting from 1, as in the file)."""
        if isinstance(value, dict):
            self.say(key, f"写成了 [{key}]（一层方括号）", f"每项写一段 [[{key}]]（两层方括号）")
            return []
        if not isinstance(value, list):
            self.say(key, f"应为若干段 [[{key}]]，现在是{kind(value)}", f"每项写一段 [[{key}]]")
            return []
        found: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(value, start=1):
            if isinstance(item, dict):
                found.append((f"{key}[{index}]", item))
            else:
                self.say(f"{key}[{index}]", f"应为一段表，现在是{kind(item)}", f"写成 [[{key}]]")
        return found


_LISTS: dict[str, type[Any]] = {"criteria": Criterion, "tiers": Tier, "unit_awards": UnitAward}


def read_judging(
    table: object, *, key: str = "judging"
) -> tuple[JudgingPolicy | None, list[ConfigProblem]]:
    """The `[judging]` table as tomllib read it (None: not written, the defaults) as a policy;
    None and every problem if there is any."""
    if table is None:
        return JudgingPolicy(), []
    reading = _Reading()
    if not isinstance(table, dict):
        reading.say(key, f"应为 [{key}] 段，现在是{kind(table)}", f"写成 [{key}] 段（一层方括号）")
        return None, reading.problems
    data: dict[str, Any] = dict(table)
    for name, model in _LISTS.items():
        if name not in data:
            continue
        read = [
            reading.read(model, item, where)
            for where, item in reading.tables(data[name], f"{key}.{name}")
        ]
        data[name] = tuple(item for item in read if item is not None)
    _check_criteria(reading, table.get("criteria"), key)
    _check_tiers(reading, table.get("tiers"), key)
    _check_unit_awards(reading, table.get("unit_awards"), key)
    policy = reading.read(JudgingPolicy, data, key)
    if policy is not None:
        _check_trimming(reading, policy, key)
    return (policy if not reading.problems else None), reading.problems


def _entries(value: object) -> list[tuple[int, dict[str, Any]]]:
    """The tables of a `[[…]]` list, with their 1-based positions (what `tables` reports)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value, start=1) if isinstance(item, dict)]


def _unique(reading: _Reading, value: object, key: str, field_name: str, what: str) -> None:
    seen: dict[str, int] = {}
    for index, item in _entries(value):
        written = item.get(field_name)
        if not isinstance(written, str) or not written.strip():
            continue
        folded = name_key(written)
        if folded in seen:
            reading.say(
                f"{key}[{index}].{field_name}",
                f"{what}“{written.strip()}”与第 {seen[folded]} 项重复",
                f"每项的 {field_name} 应不同；请改名或删去一项",
            )
        else:
            seen[folded] = index


def _check_criteria(reading: _Reading, value: object, key: str) -> None:
    where = f"{key}.criteria"
    _unique(reading, value, where, "id", "评分标准 id")
    _unique(reading, value, where, "name", "评分标准名称")
    entries = _entries(value)
    for index, item in entries:
        source = str(item.get("source", Source.JUDGES.value)).strip().lower()
        if "scale" in item and source == Source.JUDGES.value:
            reading.say(
                f"{where}[{index}].scale",
                "由评委打分的标准不需要 scale（评委直接给 1–10 分）",
                'scale 只用于阅读、转发等数据（source = "views" 等）；请删去这一行',
            )
    if isinstance(value, list) and not any(
        str(item.get("source", Source.JUDGES.value)).strip().lower() == Source.JUDGES.value
        for _, item in entries
    ):
        reading.say(
            where,
            "没有由评委打分的评分标准",
            '至少写一项 source = "judges" 的 [[judging.criteria]]，'
            '例如 id = "quality"、name = "质量"',
        )


def _check_tiers(reading: _Reading, value: object, key: str) -> None:
    where = f"{key}.tiers"
    _unique(reading, value, where, "name", "奖项名称")
    for index, item in _entries(value):
        has_count, has_share = "count" in item, "share" in item
        if has_count == has_share:
            reading.say(
                f"{where}[{index}]",
                "count 和 share 都写了" if has_count else "没写这个奖给多少人",
                "只写其中一个：count = 10（10 人）或 share = 0.05（参评人数的 5%）",
            )


def _check_unit_awards(reading: _Reading, value: object, key: str) -> None:
    _unique(reading, value, f"{key}.unit_awards", "name", "单位奖项名称")


def _check_trimming(reading: _Reading, policy: JudgingPolicy, key: str) -> None:
    if policy.normalization is Normalization.TRIM and policy.judges_per_entry < policy.trim_from:
        reading.say(
            f"{key}.normalization",
            f"每篇作品只有 {policy.judges_per_entry} 位评委（judges_per_entry），"
            f"不到 {policy.trim_from} 位（trim_from），去掉最高分和最低分不会生效",
            f'把 judges_per_entry 改为至少 {policy.trim_from}，或改用 normalization = "zscore"',
        )


# --------------------------------------------------------------------------------------------
# Judges.


def read_judges(
    value: object, *, key: str = "judges", units: Iterable[str] | None = None
) -> tuple[tuple[Judge, ...] | None, list[ConfigProblem]]:
    """The judges, from `[[judges]]` tables or the old list of QQ numbers (each item may be
    either); with `units` (the contest's unit names and aliases), every unit a judge lists must
    be one of them. None and every problem if there is any."""
    reading = _Reading()
    if value is None:
        return (), []
    if not isinstance(value, list):
        reading.say(
            key,
            f"应为评委列表，现在是{kind(value)}",
            '每位评委写一段 [[judges]]：qq = 20001、name = "王老师"、units = ["所在单位"]',
        )
        return None, reading.problems
    known = {name_key(u): u for u in units} if units is not None else None
    judges: list[Judge] = []
    seen: dict[int, str] = {}
    for index, item in enumerate(value, start=1):
        where = f"{key}[{index}]"
        judge = _one_judge(reading, item, where)
        if judge is None:
            continue
        if judge.qq in seen:
            reading.say(
                where, f"QQ {judge.qq} 与 {seen[judge.qq]} 重复", "每位评委只写一次；请删去一项"
            )
            continue
        seen[judge.qq] = where
        if known is not None:
            _check_units(reading, judge, known, f"{where}.units")
        judges.append(judge)
    return (tuple(judges) if not reading.problems else None), reading.problems


def _one_judge(reading: _Reading, item: object, where: str) -> Judge | None:
    if isinstance(item, dict):
        return reading.read(Judge, item, where)
    try:
        return Judge(qq=qq_id(item), name="")
    except PydanticCustomError as error:
        what, _, fix = error.message().partition("；")
        reading.say(
            where, what, fix or '写成整数 QQ 号，或一段 [[judges]]：qq = 20001、name = "王老师"'
        )
    return None


def _check_units(reading: _Reading, judge: Judge, known: dict[str, str], where: str) -> None:
    for unit in judge.units:
        if name_key(unit) in known:
            continue
        hint = close_match(unit, known.values())
        reading.say(
            where,
            f"评委 {judge.label} 所在的单位“{unit}”不在单位名单里",
            f"是否想写“{hint}”？" if hint else "请写 [[units]] 里的单位名称或别名",
        )
