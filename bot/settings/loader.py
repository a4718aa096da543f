"""Read config/contest.toml into a `Contest`, collecting every problem instead of stopping at one.

Each section is one small parser registered in `SECTIONS` together with its allowed keys. A later
issue adds a section ([submission], [reminders], [faq]) by writing a parser that returns the
`Contest` keyword arguments it sets and appending a `TableSection` / `ArraySection` entry.

Keys in problems look like `contest.deadline` or `units[3].category`. Array indexes count from 1,
as an organiser counts the [[units]] blocks in the file; the message also names the unit.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.settings.contest import (
    BotPolicy,
    Category,
    Contest,
    FaqPolicy,
    MessagePolicy,
    Problem,
    ReminderPolicy,
    SubmissionPolicy,
    UnitSpec,
    unit_name_problem,
)

# QQ ids end up in BIGINT columns.
MAX_QQ_ID = 2**63 - 1

FILE_KEY = "(整个文件)"


class ContestConfigError(Exception):
    """The contest config has problems; `problems` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------------------------
# Reading values: every getter records a Problem and returns None instead of raising.


@dataclass
class _Context:
    """State shared by the section parsers of one file."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    timezone: ZoneInfo | None = None
    category_ids: tuple[str, ...] | None = None

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))


def _kind(value: object) -> str:
    """The TOML type of `value`, in words an organiser knows."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "整数"
    if isinstance(value, float):
        return "小数"
    if isinstance(value, str):
        return "文字"
    if isinstance(value, datetime):
        return "日期时间"
    if isinstance(value, date):
        return "日期"
    if isinstance(value, time):
        return "时刻"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "表"
    return type(value).__name__


def _close(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _label(text: str) -> str:
    """How the bot compares unit names: full/half width, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass
class _Table:
    """One TOML table (a section or one [[array]] entry) and the key prefix used in problems."""

    ctx: _Context
    data: dict[str, Any]
    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def problem(self, name: str, message: str) -> None:
        self.ctx.problem(self.key(name), message)

    def check_keys(self, allowed: Sequence[str]) -> None:
        for name in self.data:
            if name in allowed:
                continue
            hint = _close(name, allowed)
            if hint:
                self.problem(name, f"未知的键“{name}”，是否想写“{hint}”？")
            else:
                self.problem(name, f"未知的键“{name}”；这里可用的键：{'、'.join(allowed)}")

    def _missing(self, name: str, example: str | None) -> None:
        if example is not None:
            self.problem(name, f"缺少此项；请写 {example}")

    def string(self, name: str, *, example: str | None = None) -> str | None:
        """A non-empty string; `example` given means the key is required."""
        if name not in self.data:
            self._missing(name, example)
            return None
        value = self.data[name]
        if not isinstance(value, str):
            self.problem(name, f"应为文字（加英文双引号），现在是{_kind(value)}")
            return None
        if not value.strip():
            self.problem(name, "不能为空；请填写内容")
            return None
        return value.strip()

    def integer(
        self,
        name: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        example: str | None = None,
    ) -> int | None:
        if name not in self.data:
            self._missing(name, example)
            return None
        value = self.data[name]
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            self.problem(name, f"应为整数；请去掉引号：{name} = {value.strip()}")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"应为整数，现在是{_kind(value)}")
            return None
        return self._in_range(name, value, minimum, maximum)

    def number(self, name: str, *, above: float, maximum: float | None = None) -> float | None:
        if name not in self.data:
            return None
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(name, f"应为数字（如 1.5），现在是{_kind(value)}")
            return None
        if value <= above or (maximum is not None and value > maximum):
            limit = f"，且不超过 {maximum}" if maximum is not None else ""
            self.problem(name, f"应大于 {above}{limit}，现在是 {value}")
            return None
        return float(value)

    def _in_range(
        self, name: str, value: int, minimum: int | None, maximum: int | None
    ) -> int | None:
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            self.problem(name, f"应在 {minimum} 到 {maximum} 之间，现在是 {value}")
            return None
        if minimum is not None and value < minimum:
            self.problem(name, f"不能小于 {minimum}，现在是 {value}")
            return None
        if maximum is not None and value > maximum:
            self.problem(name, f"不能大于 {maximum}，现在是 {value}")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        if name not in self.data:
            return None
        value = self.data[name]
        if not isinstance(value, bool):
            self.problem(name, f"应为 true 或 false（不加引号），现在是{_kind(value)}")
            return None
        return value

    def _list(self, name: str) -> list[Any] | None:
        value = self.data[name]
        if not isinstance(value, list):
            self.problem(name, f"应为列表（如 [1, 2]），现在是{_kind(value)}")
            return None
        return value

    def qq_ids(self, name: str, *, example: str | None = None) -> tuple[int, ...] | None:
        """A list of QQ (user or group) numbers; duplicates are dropped, order kept."""
        if name not in self.data:
            self._missing(name, example)
            return None
        items = self._list(name)
        if items is None:
            return None
        ids: list[int] = []
        ok = True
        for item in items:
            if isinstance(item, str) and item.strip().isdigit():
                self.problem(name, f"QQ 号应为整数；请去掉引号：{item.strip()}")
                ok = False
            elif isinstance(item, bool) or not isinstance(item, int):
                self.problem(name, f"QQ 号应为正整数，列表里有{_kind(item)} {item!r}")
                ok = False
            elif not 0 < item <= MAX_QQ_ID:
                self.problem(name, f"QQ 号应为正整数，现在是 {item}")
                ok = False
            elif item not in ids:
                ids.append(item)
        if not ok:
            return None
        if example is not None and not ids:
            self.problem(name, f"不能为空；请写 {example}")
            return None
        return tuple(ids)

    def strings(self, name: str) -> tuple[str, ...] | None:
        """A list of non-empty strings; duplicates are dropped, order kept."""
        if name not in self.data:
            return None
        items = self._list(name)
        if items is None:
            return None
        result: list[str] = []
        ok = True
        for item in items:
            if not isinstance(item, str):
                self.problem(name, f"列表里应全是文字（加引号），有{_kind(item)} {item!r}")
                ok = False
            elif not item.strip():
                self.problem(name, "列表里有空文字；请删去")
                ok = False
            elif item.strip() not in result:
                result.append(item.strip())
        return tuple(result) if ok else None

    def moment(self, name: str, *, example: str) -> datetime | None:
        """A TOML datetime; a local one is read in the contest's timezone."""
        if name not in self.data:
            self._missing(name, example)
            return None
        value = self.data[name]
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                return value
            if self.ctx.timezone is None:
                return None  # the timezone problem is already reported
            return value.replace(tzinfo=self.ctx.timezone)
        if isinstance(value, date):
            self.problem(name, f"只写了日期，还要写时刻；例如 {example}")
        elif isinstance(value, str):
            self.problem(name, f"日期时间不加引号；例如 {example}")
        else:
            self.problem(name, f"应为日期时间，现在是{_kind(value)}；例如 {example}")
        return None


# --------------------------------------------------------------------------------------------
# Sections. A parser returns the `Contest` keyword arguments it sets.


TableParser = Callable[[_Context, _Table], dict[str, Any]]
ArrayParser = Callable[[_Context, list[_Table]], dict[str, Any]]


@dataclass(frozen=True)
class TableSection:
    """A `[name]` section."""

    name: str
    keys: tuple[str, ...]
    parse: TableParser
    required_hint: str | None = None  # set: the section must be present


@dataclass(frozen=True)
class ArraySection:
    """A `[[name]]` section: a list of tables."""

    name: str
    keys: tuple[str, ...]
    parse: ArrayParser
    required_hint: str | None = None  # set: at least one entry is needed


CONTEST_KEYS = (
    "name",
    "timezone",
    "start",
    "deadline",
    "groups",
    "organizers",
    "judges",
    "group_admins_are_organizers",
)


def _parse_timezone(ctx: _Context, t: _Table) -> ZoneInfo | None:
    name = t.string("timezone", example='timezone = "Asia/Shanghai"')
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = _close(name, available_timezones())
        suggestion = f"，是否想写“{hint}”？" if hint else ""
        t.problem("timezone", f"无效的时区“{name}”{suggestion}（中国大陆请写 Asia/Shanghai）")
        return None


def _parse_contest(ctx: _Context, t: _Table) -> dict[str, Any]:
    name = t.string("name", example='name = "2027年……学习博客大赛"')
    ctx.timezone = _parse_timezone(ctx, t)
    start = t.moment("start", example="start = 2027-06-24T00:00:00")
    deadline = t.moment("deadline", example="deadline = 2027-07-01T18:00:00")
    if start is not None and deadline is not None and start >= deadline:
        t.problem("deadline", "截止时间应晚于开始时间（start）；请检查两个日期")
    groups = t.qq_ids("groups", example="groups = [123456789]（服务的 QQ 群号）")
    organizers = t.qq_ids("organizers") or ()
    judges = t.qq_ids("judges") or ()
    admins = t.boolean("group_admins_are_organizers")
    return {
        "name": name,
        "timezone": ctx.timezone,
        "start": start,
        "deadline": deadline,
        "groups": frozenset(groups or ()),
        "organizers": frozenset(organizers),
        "judges": frozenset(judges),
        "group_admins_are_organizers": True if admins is None else admins,
    }


def _parse_categories(ctx: _Context, tables: list[_Table]) -> dict[str, Any]:
    categories: list[Category] = []
    ids: list[str] = []
    names: dict[str, str] = {}
    for t in tables:
        cid = t.string("id", example='id = "town"')
        name = t.string("name", example='name = "镇、街道"')
        quota = t.integer("quota", minimum=0, example="quota = 50")
        if cid is not None:
            if cid in ids:
                t.problem("id", f"类别 id“{cid}”重复；每个类别的 id 应不同")
                cid = None
            else:
                ids.append(cid)
        if name is not None:
            if _label(name) in names:
                t.problem("name", f"类别名称“{name}”与类别“{names[_label(name)]}”重复")
            names[_label(name)] = name
        if cid is not None and name is not None and quota is not None:
            categories.append(Category(id=cid, name=name, quota=quota))
    ctx.category_ids = tuple(ids)
    return {"categories": tuple(categories)}


def _parse_units(ctx: _Context, tables: list[_Table]) -> dict[str, Any]:
    units: list[UnitSpec] = []
    labels: dict[str, str] = {}  # normalised name or alias -> unit name owning it
    secretary_of: dict[int, str] = {}
    for t in tables:
        name = t.string("name", example='name = "南湖街道"')
        shown = f"单位“{name}”" if name else "此单位"
        category = t.string("category", example='category = "town"')
        known = ctx.category_ids
        if category is not None and known is not None and category not in known:
            valid = "、".join(known) or "（尚无类别）"
            t.problem("category", f"{shown}的类别“{category}”不存在；可用的类别 id：{valid}")
            category = None
        secretaries = t.qq_ids("secretaries") or ()
        aliases = t.strings("aliases") or ()
        quota = t.integer("quota", minimum=0)
        if name is not None and (why := unit_name_problem(name)) is not None:
            t.problem("name", f"单位名称“{name[:20]}”不可用：{why}")
            name = None
        if name is not None:
            owner = labels.get(_label(name))
            if owner is not None:
                t.problem("name", f"单位名称“{name}”与单位“{owner}”的名称或别名重复；名称应唯一")
            else:
                labels[_label(name)] = name
        kept_aliases: list[str] = []
        for alias in aliases:
            if (why := unit_name_problem(alias)) is not None:
                t.problem("aliases", f"{shown}的别名“{alias[:20]}”不可用：{why}")
                continue
            owner = labels.get(_label(alias))
            if owner == name:
                continue  # an alias equal to its own name is harmless
            if owner is not None:
                t.problem(
                    "aliases",
                    f"{shown}的别名“{alias}”与单位“{owner}”的名称或别名相同，"
                    "机器人无法判断指哪个单位；请改用其他别名或删去",
                )
                continue
            labels[_label(alias)] = name or alias
            kept_aliases.append(alias)
        for qq in secretaries:
            if qq in secretary_of:
                t.problem(
                    "secretaries",
                    f"QQ {qq} 已是单位“{secretary_of[qq]}”的联络员；一个 QQ 号只能对应一个单位",
                )
            else:
                secretary_of[qq] = name or ""
        if name is not None and category is not None:
            units.append(
                UnitSpec(
                    name=name,
                    category=category,
                    secretaries=secretaries,
                    aliases=tuple(kept_aliases),
                    quota=quota,
                )
            )
    return {"units": tuple(units)}


def _parse_bot(ctx: _Context, t: _Table) -> dict[str, Any]:
    default = BotPolicy()
    nickname = t.string("nickname")
    welcome = t.boolean("welcome")
    rules_hint = t.string("rules_hint")
    ignore_users = t.qq_ids("ignore_users")
    return {
        "bot": BotPolicy(
            nickname=default.nickname if nickname is None else nickname,
            welcome=default.welcome if welcome is None else welcome,
            rules_hint=default.rules_hint if rules_hint is None else rules_hint,
            ignore_users=default.ignore_users if ignore_users is None else frozenset(ignore_users),
        )
    }


def _parse_messages(ctx: _Context, t: _Table) -> dict[str, Any]:
    default = MessagePolicy()
    burst = t.integer("burst", minimum=1)
    interval = t.number("interval", above=0)
    max_length = t.integer("max_length", minimum=200, maximum=4500)
    max_mentions = t.integer("max_mentions", minimum=1, maximum=50)
    return {
        "messages": MessagePolicy(
            burst=default.burst if burst is None else burst,
            interval=default.interval if interval is None else interval,
            max_length=default.max_length if max_length is None else max_length,
            max_mentions=default.max_mentions if max_mentions is None else max_mentions,
        )
    }


_HOST_SUFFIX = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def _parse_submission(ctx: _Context, t: _Table) -> dict[str, Any]:
    default = SubmissionPolicy()
    platforms = t.strings("platforms")
    if platforms is not None:
        cleaned: list[str] = []
        for host in platforms:
            suffix = host.strip().lower().removeprefix(".")
            if _HOST_SUFFIX.match(suffix):
                cleaned.append(suffix)
            else:
                t.problem(
                    "platforms",
                    f'“{host}”不是网站域名；请只写域名后缀，例如 "weibo.com"'
                    "（不要写 https:// 或路径）",
                )
        if not cleaned:
            t.problem("platforms", '至少写一个允许的平台域名，例如 ["weibo.com"]')
        platforms = tuple(cleaned)
    verify = t.boolean("verify")
    min_chars = t.integer("min_chars", minimum=0, maximum=100_000)
    allow_private = t.boolean("verify_allow_private")
    timeout = t.number("verify_timeout", above=0, maximum=120)
    max_links = t.integer("max_links", minimum=1, maximum=200)
    resolve = _resolve_table(t)
    if resolve and not allow_private:
        t.problem("verify_resolve", "只能与 verify_allow_private = true 一起使用（仅供测试）")
    return {
        "submission": SubmissionPolicy(
            platforms=default.platforms if platforms is None else platforms,
            verify=default.verify if verify is None else verify,
            min_chars=default.min_chars if min_chars is None else min_chars,
            verify_allow_private=(
                default.verify_allow_private if allow_private is None else allow_private
            ),
            verify_timeout=default.verify_timeout if timeout is None else timeout,
            max_links=default.max_links if max_links is None else max_links,
            verify_resolve=resolve,
        )
    }


def _resolve_table(t: _Table) -> tuple[tuple[str, str], ...]:
    value = t.data.get("verify_resolve")
    if value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for host, address in value.items():
            try:
                ip_address(str(address))
            except ValueError:
                t.problem("verify_resolve", f"“{address}”不是 IP 地址")
                continue
            pairs.append((str(host).lower(), str(address)))
    else:
        t.problem("verify_resolve", '应写成 { "域名" = "IP 地址" }')
    return tuple(pairs)


def _parse_faq(ctx: _Context, t: _Table) -> dict[str, Any]:
    default = FaqPolicy()
    values: dict[str, Any] = {}
    for name in ("file", "synonyms", "contacts"):
        value = t.string(name)
        if value is not None:
            values[name] = value
    for name in ("answer_threshold", "suggest_threshold", "passive_threshold"):
        value = t.number(name, above=0, maximum=1)
        if value is not None:
            values[name] = float(value)
    passive = t.boolean("passive")
    if passive is not None:
        values["passive"] = passive
    off = t.qq_ids("passive_off_groups")
    if off is not None:
        values["passive_off_groups"] = frozenset(off)
    for name, top in (("repeat_minutes", 1440), ("followup_minutes", 60), ("flood_per_minute", 60)):
        value = t.integer(name, minimum=0 if name != "followup_minutes" else 1, maximum=top)
        if value is not None:
            values[name] = value
    policy = replace(default, **values)
    if not policy.suggest_threshold < policy.answer_threshold <= policy.passive_threshold:
        t.problem(
            "answer_threshold",
            "阈值应满足 suggest_threshold < answer_threshold ≤ passive_threshold"
            f"（现在是 {policy.suggest_threshold} / {policy.answer_threshold} / "
            f"{policy.passive_threshold}）",
        )
    return {"faq": policy}


_DURATION = re.compile(r"^(\d+)\s*([dhms])$")
_DURATION_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def _duration(t: _Table, name: str, text: object, *, example: str) -> timedelta | None:
    """A positive span written like "3d", "12h", "30m", "45s"; None (and a problem) if not."""
    if not isinstance(text, str):
        t.problem(name, f"应为带引号的时长，如 {example}，现在是{_kind(text)} {text!r}")
        return None
    found = _DURATION.match(text.strip().lower())
    if found is None:
        t.problem(
            name,
            f"时长“{text}”写法不对；请写数字加单位：d 天、h 小时、m 分钟、s 秒，例如 {example}",
        )
        return None
    span = timedelta(seconds=int(found[1]) * _DURATION_SECONDS[found[2]])
    if span <= timedelta(0):
        t.problem(name, f"时长“{text}”应大于 0")
        return None
    if span > timedelta(days=3650):
        t.problem(name, f"时长“{text}”太长了；请检查单位")
        return None
    return span


def _clock(t: _Table, name: str, value: object, *, example: str) -> time | None:
    """A time of day written "HH:MM" (a TOML time like 09:00:00 is accepted too)."""
    if isinstance(value, time):
        if value.second or value.microsecond:
            t.problem(name, f"时刻只写到分钟，例如 {example}")
            return None
        return value.replace(tzinfo=None)
    found = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        t.problem(name, f"时刻“{value}”写法不对；请写 24 小时制的时:分，例如 {example}")
        return None
    return time(int(found[1]), int(found[2]))


def _parse_reminders(ctx: _Context, t: _Table) -> dict[str, Any]:
    default = ReminderPolicy()
    values: dict[str, Any] = {}
    if "offsets" in t.data and (items := t._list("offsets")) is not None:
        offsets: list[timedelta] = []
        ok = True
        for item in items:
            span = _duration(t, "offsets", item, example='"3d" 或 "12h"')
            if span is None:
                ok = False
            elif span in offsets:
                t.problem("offsets", f"“{item}”与前面的提醒时间重复；每个提醒时间只写一次")
                ok = False
            else:
                offsets.append(span)
        if ok:
            values["offsets"] = tuple(sorted(offsets, reverse=True))
    if "daily_at" in t.data:
        raw = t.data["daily_at"]
        if isinstance(raw, str) and not raw.strip():
            values["daily_at"] = None
        elif (
            at := _clock(t, "daily_at", raw, example='"09:00"（不要每日进度请写 ""）')
        ) is not None:
            values["daily_at"] = at
    if "quiet_hours" in t.data and (items := t._list("quiet_hours")) is not None:
        example = '["22:00", "08:00"]（不要免打扰请写 []）'
        if not items:
            values["quiet_hours"] = None
        elif len(items) != 2:
            t.problem("quiet_hours", f"应写开始和结束两个时刻，例如 {example}")
        else:
            start, end = (_clock(t, "quiet_hours", item, example=example) for item in items)
            if start is not None and end is not None:
                if start == end:
                    t.problem("quiet_hours", f"开始和结束时刻相同，无法判断；例如 {example}")
                else:
                    values["quiet_hours"] = (start, end)
    private = t.boolean("private")
    if private is not None:
        values["private"] = private
    if "catch_up_grace" in t.data:
        grace = _duration(t, "catch_up_grace", t.data["catch_up_grace"], example='"2h"')
        if grace is not None:
            values["catch_up_grace"] = grace
    return {"reminders": replace(default, **values)}


REMINDER_KEYS = ("offsets", "daily_at", "quiet_hours", "private", "catch_up_grace")
SUBMISSION_KEYS = (
    "platforms",
    "verify",
    "min_chars",
    "verify_allow_private",
    "verify_timeout",
    "max_links",
    "verify_resolve",
)
FAQ_KEYS = (
    "file",
    "synonyms",
    "answer_threshold",
    "suggest_threshold",
    "passive",
    "passive_threshold",
    "passive_off_groups",
    "contacts",
    "repeat_minutes",
    "followup_minutes",
    "flood_per_minute",
)

# Parsed in this order: [contest] sets the timezone, [[categories]] the ids [[units]] refer to.
SECTIONS: tuple[TableSection | ArraySection, ...] = (
    TableSection(
        "contest", CONTEST_KEYS, _parse_contest, required_hint="大赛名称、时区、起止时间和群号"
    ),
    ArraySection(
        "categories",
        ("id", "name", "quota"),
        _parse_categories,
        required_hint='至少一个类别，例如 [[categories]] id = "town" name = "镇、街道" quota = 50',
    ),
    ArraySection("units", ("name", "category", "secretaries", "aliases", "quota"), _parse_units),
    TableSection("bot", ("nickname", "welcome", "rules_hint", "ignore_users"), _parse_bot),
    TableSection("messages", ("burst", "interval", "max_length", "max_mentions"), _parse_messages),
    TableSection("submission", SUBMISSION_KEYS, _parse_submission),
    TableSection("faq", FAQ_KEYS, _parse_faq),
    TableSection("reminders", REMINDER_KEYS, _parse_reminders),
)


# --------------------------------------------------------------------------------------------
# The file.


def _read(path: Path, ctx: _Context) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        ctx.problem(FILE_KEY, "找不到该文件；请检查路径，或用环境变量 BOT_CONFIG 指定配置文件")
        return None
    except OSError as error:
        ctx.problem(FILE_KEY, f"无法读取该文件（{error.strerror or error}）；请检查路径和权限")
        return None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        ctx.problem(FILE_KEY, "文件不是 UTF-8 编码；请用 UTF-8 另存后重试")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        found = re.search(r"\(at line (\d+), column (\d+)\)", detail)
        where = f"第 {found[1]} 行" if found else FILE_KEY
        column = f"第 {found[2]} 列，" if found else ""
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", detail)
        ctx.problem(
            where,
            f"TOML 格式错误（{column}{reason}）；常见原因：文字没加英文双引号、"
            "括号或引号不配对、同一个键写了两次",
        )
        return None


def _section_of(key: str) -> str | None:
    return next((s.name for s in SECTIONS if key in s.keys), None)


def _check_sections(ctx: _Context, data: dict[str, Any]) -> None:
    names = [s.name for s in SECTIONS]
    for key, value in data.items():
        if key in names:
            continue
        is_array_of_tables = (
            isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
        )
        if isinstance(value, dict) or is_array_of_tables:
            hint = _close(key, names)
            tip = f"是否想写 [{hint}]？" if hint else f"可用的段：{'、'.join(names)}"
            ctx.problem(key, f"未知的段“{key}”；{tip}")
        else:
            home = _section_of(key)
            tip = f"应写在 [{home}] 段下面" if home else "请删去或放到正确的段下"
            ctx.problem(key, f"未知的键“{key}”；{tip}")


def _tables(ctx: _Context, section: ArraySection, value: object) -> list[_Table]:
    if isinstance(value, dict):
        ctx.problem(
            section.name,
            f"应写成 [[{section.name}]]（两层方括号），每项一段；现在是 [{section.name}]",
        )
        return []
    if not isinstance(value, list):
        ctx.problem(section.name, f"应写成 [[{section.name}]] 段，现在是{_kind(value)}")
        return []
    tables: list[_Table] = []
    for index, item in enumerate(value, start=1):
        prefix = f"{section.name}[{index}]"
        if not isinstance(item, dict):
            ctx.problem(prefix, f"应为一段 [[{section.name}]]，现在是{_kind(item)}")
            continue
        table = _Table(ctx, item, prefix)
        table.check_keys(section.keys)
        tables.append(table)
    return tables


def _parse(ctx: _Context, data: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for section in SECTIONS:
        value = data.get(section.name)
        if isinstance(section, TableSection):
            if value is None:
                if section.required_hint:
                    ctx.problem(
                        section.name, f"缺少 [{section.name}] 段（{section.required_hint}）"
                    )
                    continue
                value = {}
            if not isinstance(value, dict):
                ctx.problem(section.name, f"应写成 [{section.name}] 段（一层方括号）")
                continue
            table = _Table(ctx, value, section.name)
            table.check_keys(section.keys)
            kwargs.update(section.parse(ctx, table))
        else:
            tables = _tables(ctx, section, [] if value is None else value)
            if not tables and section.required_hint and value is None:
                ctx.problem(section.name, f"缺少 [[{section.name}]]：{section.required_hint}")
            elif not tables and section.required_hint and isinstance(value, list):
                ctx.problem(section.name, f"不能为空：{section.required_hint}")
            kwargs.update(section.parse(ctx, tables))
    return kwargs


def load_contest(path: Path) -> tuple[Contest | None, list[Problem]]:
    """Load and validate the contest config; the Contest is None whenever there is a problem."""
    ctx = _Context(file=str(path))
    data = _read(path, ctx)
    if data is None:
        return None, ctx.problems
    _check_sections(ctx, data)
    kwargs = _parse(ctx, data)
    if ctx.problems:
        return None, ctx.problems
    return Contest(**kwargs, config_dir=path.parent), []


def load_contest_or_raise(path: Path) -> Contest:
    contest, problems = load_contest(path)
    if contest is None:
        raise ContestConfigError(problems)
    return contest
