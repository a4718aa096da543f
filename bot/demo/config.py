"""The demo's contest.toml and its cast: who the visitor can be, and everyone else in the group.

`demo_contest` turns a contest file (the shipped `bot/demo/contest.toml`, or the district's own
with `--config`) into the one the demo's bot reads: the group becomes the demo's group, the
window is moved around today (a reading week in progress: opened three days ago, closing in
four), the five roles the page offers are made organizer, judge and secretary as their role
needs, quiet hours are dropped (a reminder must be seen at any hour) and verification is off (the
demo never leaves the machine). Units, categories and quotas are the file's own.

`to_toml` writes it back (tomllib only reads); the e2e tests write their contest files with it too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PACKAGE = Path(__file__).resolve().parent
DEMO_CONTEST = PACKAGE / "contest.toml"
# The shipped FAQ (config/ next to the package in a clone of the repository).
SHIPPED_CONFIG_DIR = PACKAGE.parents[1] / "config"

GROUP_ID = 800_000_001
GROUP_NAME = "学习博客技术问题指导群（演示）"
BOT_QQ = 2_000_000_001

OPENED_DAYS_AGO = 3
CLOSES_IN_DAYS = 4
CLOSING_TIME = dt.time(18, 0)

# Surnames and given names for the secretaries the page does not play (group cards "单位-姓名").
_NAMES = (
    "张伟", "王芳", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周丽", "吴军", "徐婷",
    "孙强", "马兰", "朱晓东", "胡玉梅", "郭建平", "何海燕", "高志强", "林晓红",
)  # fmt: skip


@dataclass(frozen=True)
class Persona:
    """Someone the visitor can be. `key` is what the page sends; `card` is the group card QQ
    shows (and the bot learns the name from); `tries` are five things worth trying."""

    key: str
    qq: int
    card: str
    title: str
    role: str  # the QQ group role: member, admin or owner
    tries: tuple[str, ...]
    joined: bool = True  # False: the newcomer, who joins when the page first speaks as them

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "qq": self.qq,
            "name": self.card,
            "title": self.title,
            "tries": list(self.tries),
        }


@dataclass(frozen=True)
class Cast:
    personas: tuple[Persona, ...]
    # Everyone else in the group: QQ -> group card (the other units' secretaries, judges).
    others: Mapping[int, str]
    unit: str  # the unit whose secretary the visitor can be

    def persona(self, key: str) -> Persona | None:
        return next((p for p in self.personas if p.key == key), None)

    def cards(self) -> dict[int, str]:
        """Every group card by QQ, the personas' included."""
        return {**self.others, **{p.qq: p.card for p in self.personas}}


def read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _units(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    units = data.get("units")
    return [u for u in units if isinstance(u, dict)] if isinstance(units, list) else []


def _first_qq(values: object, default: int) -> int:
    if isinstance(values, list):
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, dict) and isinstance(value.get("qq"), int):
                return value["qq"]
    return default


def cast_for(data: Mapping[str, Any]) -> Cast:
    """The personas for a contest file: its first organizer and judge, and a secretary of
    南湖街道 (or of its first unit); numbers are made up where the file has none."""
    contest = data.get("contest") or {}
    organizer = _first_qq(contest.get("organizers"), 10_000)
    judge = _first_qq(data.get("judges") or contest.get("judges"), 20_001)
    units = _units(data)
    chosen = next((u for u in units if u.get("name") == "南湖街道"), units[0] if units else {})
    unit = str(chosen.get("name") or "南湖街道")
    secretary = _first_qq(chosen.get("secretaries"), 10_005)
    personas = (
        Persona(
            "member",
            30_001,
            "王建国",
            "普通成员",
            "member",
            (
                "/帮助",
                "博客密码忘了怎么办",
                "/问 文章写好了怎么把链接交给联络员",
                "/进度",
                "公众号文章算不算",
            ),
        ),
        Persona(
            "secretary",
            secretary,
            f"{unit}-李秀英",
            f"{unit}联络员",
            "member",
            (
                "/提交 张三 {blog}",
                "/进度",
                "/我的提交",
                "/撤回 {last}",
                "/帮助 提交",
            ),
        ),
        Persona(
            "organizer",
            organizer,
            "区委组织部-陈老师",
            "组织者",
            "admin",
            ("/进度", "/单位 列表", "/提醒 立即", "/后台", "/导出"),
        ),
        Persona(
            "judge",
            judge,
            "评委-周教授",
            "评委",
            "member",
            ("/后台", "/排行", "/进度", "/帮助", "博客字数有要求吗"),
        ),
        Persona(
            "newcomer",
            30_099,
            "刘晓梅",
            "刚进群的新成员",
            "member",
            ("/帮助", "怎么注册新浪博客", "博客文章写多少字合适", "/问 怎么参加比赛", "/进度"),
            joined=False,
        ),
    )
    taken = {p.qq for p in personas}
    others: dict[int, str] = {}
    names = iter(_NAMES * (1 + len(units) // len(_NAMES)))
    for item in units:
        for qq in item.get("secretaries") or []:
            if isinstance(qq, int) and qq not in taken and qq not in others:
                others[qq] = f"{item.get('name')}-{next(names)}"
    for qq in contest.get("judges") or []:
        if isinstance(qq, int) and qq not in taken:
            others.setdefault(qq, f"评委-{next(names)}")
    return Cast(personas, others, unit)


def demo_window(now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """A reading week in progress: opened three days ago at midnight, closing in four at 18:00
    (contest-local, naive, as contest.toml holds them)."""
    today = now.astimezone(zone).date()
    start = dt.datetime.combine(today - dt.timedelta(days=OPENED_DAYS_AGO), dt.time(0, 0))
    deadline = dt.datetime.combine(today + dt.timedelta(days=CLOSES_IN_DAYS), CLOSING_TIME)
    return start, deadline


def demo_contest(
    source: Path,
    *,
    now: dt.datetime,
    deadline: dt.datetime | None = None,
    start: dt.datetime | None = None,
) -> tuple[dict[str, Any], Cast]:
    """The contest the demo's bot reads, built from `source`; `deadline`/`start` (naive,
    contest-local) replace the reading week around `now`."""
    data = read_toml(source)
    contest = dict(data.get("contest") or {})
    zone = ZoneInfo(str(contest.get("timezone") or "Asia/Shanghai"))
    default_start, default_deadline = demo_window(now, zone)
    cast = cast_for(data)
    contest["start"] = start or default_start
    contest["deadline"] = deadline or default_deadline
    contest["groups"] = [GROUP_ID]
    roles = {p.key: p.qq for p in cast.personas}
    contest["organizers"] = _with(contest.get("organizers"), roles["organizer"])
    if isinstance(data.get("judges"), list):  # [[judges]] tables
        if not any(j.get("qq") == roles["judge"] for j in data["judges"] if isinstance(j, dict)):
            data["judges"] = [*data["judges"], {"qq": roles["judge"], "name": "周教授"}]
    else:
        contest["judges"] = _with(contest.get("judges"), roles["judge"])
    data["contest"] = contest
    units = _units(data)
    for item in units:
        if item.get("name") == cast.unit:
            item["secretaries"] = _with(item.get("secretaries"), roles["secretary"])
    data["units"] = units
    faq = dict(data.get("faq") or {})
    base = source.parent if source != DEMO_CONTEST else SHIPPED_CONFIG_DIR
    for key, default in (("file", "faq.yaml"), ("synonyms", "synonyms.txt")):
        faq[key] = str((base / str(faq.get(key) or default)).resolve())
    data["faq"] = faq
    data["reminders"] = {**(data.get("reminders") or {}), "quiet_hours": []}
    data["submission"] = {**(data.get("submission") or {}), "verify": False}
    return data, cast


def _with(values: object, qq: int) -> list[Any]:
    listed = list(values) if isinstance(values, list) else []
    return listed if qq in listed else [*listed, qq]


# --- writing TOML -----------------------------------------------------------------------------


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` applied: tables merge key by key, anything else is replaced."""
    result = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def to_toml(data: Mapping[str, Any], _prefix: str = "") -> str:
    """Enough of a TOML writer for contest.toml."""
    lines: list[str] = []
    nested: list[str] = []
    for key, value in data.items():
        name = f"{_prefix}{_toml_key(key)}"
        if isinstance(value, Mapping):
            nested.append(f"\n[{name}]\n" + to_toml(value, f"{name}."))
        elif _is_table_array(value):
            nested.extend(f"\n[[{name}]]\n" + to_toml(item, f"{name}.") for item in value)
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join(lines) + ("\n" if lines else "") + "".join(nested)
