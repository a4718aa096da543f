"""Reading contest.toml's values: the readers and types every section is declared with.

A reader takes what tomllib produced and returns the value, or raises its problems in the
organizer's words; pydantic's own errors (wrong type, out of bounds, missing or unknown key) are
worded by `bot/settings/wording.py`. `bot/settings/contest.py` declares the contest's sections
with these, and so does `bot/judging/config.py` for `[judging]`; this module imports neither, so
the contest can hold the judging policy.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, ConfigDict, Strict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticKnownError

# QQ ids end up in BIGINT columns.
MAX_QQ_ID = 2**63 - 1
PROBLEM = "problem"
# A value that cannot be read because of another key's problem, which already says why.
ALREADY_REPORTED = "already_reported"

# Every section: an unknown key is a problem; a field's docstring is its pydantic description.
SECTION = ConfigDict(extra="forbid", use_attribute_docstrings=True)
T = TypeVar("T")


def kind(value: object) -> str:
    """The TOML type of `value`, in words an organizer knows."""
    words = (
        (bool, "true/false"),
        (int, "整数"),
        (float, "小数"),
        (str, "文字"),
        (datetime, "日期时间"),
        (date, "日期"),
        (time, "时刻"),
        (list, "列表"),
        (dict, "表"),
    )
    return next((word for t, word in words if isinstance(value, t)), type(value).__name__)


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def problem(message: str) -> PydanticCustomError:
    """What is wrong with the value being read: `raise problem("…")` in a validator."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message})


def problems(value: object, messages: Iterable[str], *, key: str | None = None) -> ValidationError:
    """Several problems with one value at once; `key`: report them on that key of the section."""
    loc: tuple[str, ...] = () if key is None else (key,)
    details = [InitErrorDetails(type=problem(m), loc=loc, input=value) for m in messages]
    return ValidationError.from_exception_data("contest.toml", details)


@dataclass(frozen=True)
class Example:
    """Marks a key that must be written; `text` shows how, when it is missing or empty."""

    text: str


def text(value: object) -> str:
    """Non-empty text, trimmed."""
    if not isinstance(value, str):
        raise PydanticKnownError("string_type")
    if not value.strip():
        raise problem("不能为空；请填写内容")
    return value.strip()


def items_of(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise PydanticKnownError("list_type")
    return value


def each(value: object, read: Callable[[Any], T]) -> list[T]:
    """`read` applied to every item of the list `value`; every bad item's problem is reported."""
    found: list[T] = []
    wrong: list[str] = []
    for item in items_of(value):
        try:
            found.append(read(item))
        except PydanticCustomError as error:
            wrong.append(error.message())
    if wrong:
        raise problems(value, wrong)
    return found


def _list_text(item: object) -> str:
    if not isinstance(item, str):
        raise problem(f"列表里应全是文字（加引号），有{kind(item)} {item!r}")
    if not item.strip():
        raise problem("列表里有空文字；请删去")
    return item.strip()


def texts(value: object) -> tuple[str, ...]:
    """A list of non-empty texts, trimmed; repeats are dropped, order kept."""
    return tuple(dict.fromkeys(each(value, _list_text)))


def qq_id(item: object, *, found: str = "列表里有") -> int:
    """One QQ number; `found` words where the wrong value is ("现在是" for a single key)."""
    if isinstance(item, str) and item.strip().isdigit():
        raise problem(f"QQ 号应为整数；请去掉引号：{item.strip()}")
    if isinstance(item, bool) or not isinstance(item, int):
        raise problem(f"QQ 号应为正整数，{found}{kind(item)} {item!r}")
    if not 0 < item <= MAX_QQ_ID:
        raise problem(f"QQ 号应为正整数，现在是 {item}")
    return item


def qq_ids(value: object) -> tuple[int, ...]:
    """A list of QQ (user or group) numbers; repeats are dropped, order kept."""
    return tuple(dict.fromkeys(each(value, qq_id)))


def zone(value: object) -> ZoneInfo:
    """An IANA timezone name ("Asia/Shanghai"); a near miss gets a suggestion."""
    name = text(value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):  # "Asia" is a directory
        hint = close_match(name, available_timezones())
        suggestion = f"，是否想写“{hint}”？" if hint else ""
        raise problem(f"无效的时区“{name}”{suggestion}（中国大陆请写 Asia/Shanghai）") from None


_DURATION_UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_DURATION = re.compile(r"^(\d+)\s*([dhms])$")


def duration(value: object, *, example: str) -> timedelta:
    """A positive span written like "3d", "12h", "30m", "45s"."""
    if not isinstance(value, str):
        raise problem(f"应为带引号的时长，如 {example}，现在是{kind(value)} {value!r}")
    found = _DURATION.match(value.strip().lower())
    if found is None:
        raise problem(
            f"时长“{value}”写法不对；请写数字加单位：d 天、h 小时、m 分钟、s 秒，例如 {example}"
        )
    span = timedelta(seconds=int(found[1]) * dict(_DURATION_UNITS)[found[2]])
    if span <= timedelta(0):
        raise problem(f"时长“{value}”应大于 0")
    if span > timedelta(days=3650):
        raise problem(f"时长“{value}”太长了；请检查单位")
    return span


def duration_label(span: timedelta) -> str:
    """A positive whole-second span in the largest unit that divides it exactly: 72h -> "3d".

    Reminder keys are built from this label, so "72h" and "3d" are one reminder: rewriting an
    offset in another unit does not make it new (and does not send it again).
    """
    seconds = int(span.total_seconds())
    if seconds <= 0 or span != timedelta(seconds=seconds):
        raise ValueError(f"a duration label needs a positive whole number of seconds: {span}")
    for unit, size in _DURATION_UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def clock(value: object, *, example: str) -> time:
    """A time of day written "HH:MM" (a TOML time like 09:00:00 is accepted too)."""
    if isinstance(value, time):
        if value.second or value.microsecond:
            raise problem(f"时刻只写到分钟，例如 {example}")
        return value.replace(tzinfo=None)
    found = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise problem(f"时刻“{value}”写法不对；请写 24 小时制的时:分，例如 {example}")
    return time(int(found[1]), int(found[2]))


# TOML's own types: "5" in quotes is text, not a number.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Text = Annotated[str, BeforeValidator(text)]
Texts = Annotated[tuple[str, ...], BeforeValidator(texts)]
QQIds = Annotated[tuple[int, ...], BeforeValidator(qq_ids)]
QQIdSet = Annotated[frozenset[int], BeforeValidator(qq_ids)]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an operator's file: which file, which key, what is wrong (Chinese)."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"
