"""pydantic's errors in the organizer's words: one wording for every section of contest.toml.

`validate(model, data, context)` reads one table through its declaration and returns the value,
or None and every problem as (key, Chinese message); a message says what is wrong and, after
"；", what to write instead. The loader (`bot/settings/loader.py`) and the judging section's
reader (`bot/judging/config.py`) both word their problems here, so an organizer reads the same
sentence for the same mistake in any section.
"""

from __future__ import annotations

import types
from dataclasses import fields
from datetime import date
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from bot.settings.values import ALREADY_REPORTED, PROBLEM, Example, close_match, kind

T = TypeVar("T")

UNKNOWN_KEY = ("unexpected_keyword_argument", "extra_forbidden")
_OUT_OF_BOUNDS = ("greater_than", "greater_than_equal", "less_than_equal")  # gt, ge, le
_WRONG_TYPE = {
    "string_type": "应为文字（加英文双引号），现在是{kind}",
    "float_type": "应为数字（如 1.5），现在是{kind}",
    "bool_type": "应为 true 或 false（不加引号），现在是{kind}",
    "list_type": "应为列表（如 [1, 2]），现在是{kind}",
    "tuple_type": "应为列表（如 [1, 2]），现在是{kind}",
    "frozen_set_type": "应为列表（如 [1, 2]），现在是{kind}",
}


@cache
def _declared(model: type[Any], key: str) -> tuple[Any, ...]:
    """What the field `key` of `model` declares beside its type: bounds, `Example`, validators."""
    hint = get_type_hints(model, include_extras=True).get(key)
    if get_origin(hint) in (Union, types.UnionType):  # `X | None`: what X declares
        hint = next((arg for arg in get_args(hint) if get_origin(arg) is Annotated), None)
    if get_origin(hint) is not Annotated:
        return ()
    found: list[Any] = []
    for meta in get_args(hint)[1:]:
        found += meta.metadata if isinstance(meta, FieldInfo) else [meta]
    return tuple(found)


def _unknown_key(key: str, allowed: tuple[str, ...]) -> str:
    hint = close_match(key, allowed)
    if hint:
        return f"未知的键“{key}”，是否想写“{hint}”？"
    return f"未知的键“{key}”；这里可用的键：{'、'.join(allowed)}"


def _not_an_integer(key: str, value: object) -> str:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return f"应为整数；请去掉引号：{key} = {value.strip()}"
    return f"应为整数，现在是{kind(value)}"


def _not_a_moment(value: object, example: str) -> str:
    if isinstance(value, date):  # a TOML datetime would have been accepted
        return f"只写了日期，还要写时刻；例如 {example}"
    if isinstance(value, str):
        return f"日期时间不加引号；例如 {example}"
    return f"应为日期时间，现在是{kind(value)}；例如 {example}"


def _out_of_bounds(declared: tuple[Any, ...], value: object) -> str:
    bounds = {b: getattr(m, b) for m in declared for b in ("gt", "ge", "le") if hasattr(m, b)}
    low, high = bounds.get("ge"), bounds.get("le")
    if "gt" in bounds:
        limit = f"，且不超过 {high}" if high is not None else ""
        return f"应大于 {bounds['gt']}{limit}，现在是 {value}"
    if low is not None and high is not None:
        return f"应在 {low} 到 {high} 之间，现在是 {value}"
    if low is not None:
        return f"不能小于 {low}，现在是 {value}"
    return f"不能大于 {high}，现在是 {value}"


def word_error(error: ErrorDetails, model: type[Any]) -> str | None:
    """`error` (about a key of `model`) as the organizer's problem; None: another says it."""
    error_type, value = error["type"], error["input"]
    key = str(error["loc"][0]) if error["loc"] else ""
    declared = _declared(model, key)
    example = next((m.text for m in declared if isinstance(m, Example)), "")
    if error_type == ALREADY_REPORTED:
        return None
    if error_type == PROBLEM:
        return str(error.get("ctx", {})["message"])
    if error_type in UNKNOWN_KEY:
        return _unknown_key(key, tuple(f.name for f in fields(model)))
    if error_type in ("missing", "too_short"):  # too_short: an empty list, Field(min_length=1)
        return f"{'缺少此项' if error_type == 'missing' else '不能为空'}；请写 {example}"
    if error_type == "int_type":
        return _not_an_integer(key, value)
    if error_type == "datetime_type":
        return _not_a_moment(value, example)
    if error_type in _OUT_OF_BOUNDS:
        return _out_of_bounds(declared, value)
    if error_type in _WRONG_TYPE:
        return _WRONG_TYPE[error_type].format(kind=kind(value))
    return error["msg"]


@cache
def _adapter(model: type[Any]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def validate(
    model: type[T], data: dict[str, Any], context: dict[str, Any] | None = None
) -> tuple[T | None, list[tuple[str, str]]]:
    """`data` read through `model`, or None and its problems as (key of `model`, message).

    The key is "" for a problem with the table as a whole (a model validator's).
    """
    try:
        return _adapter(model).validate_python(data, context=context or {}), []
    except ValidationError as error:
        # Unknown keys first: a misspelt key is also why a required one is "missing".
        errors = sorted(error.errors(include_url=False), key=lambda e: e["type"] not in UNKNOWN_KEY)
        found: list[tuple[str, str]] = []
        for each in errors:
            message = word_error(each, model)
            if message is not None:
                found.append((str(each["loc"][0]) if each["loc"] else "", message))
        return None, found
