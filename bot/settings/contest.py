"""The contest as configured in config/contest.toml: plain, validated, immutable values.

Loading and validation live in `bot/contest_loader.py`; everything else takes a `Contest`.
Times are timezone-aware; `Contest.timezone` is used only for display.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    quota: int


@dataclass(frozen=True)
class UnitSpec:
    """A unit as written in config/contest.toml (the database may hold more units)."""

    name: str
    category: str
    secretaries: tuple[int, ...] = ()
    aliases: tuple[str, ...] = ()
    quota: int | None = None


@dataclass(frozen=True)
class MessagePolicy:
    """How the bot talks in a group: pacing and length limits (`[messages]`)."""

    burst: int = 3
    interval: float = 1.5
    max_length: int = 1500
    max_mentions: int = 20


@dataclass(frozen=True)
class BotPolicy:
    """The bot's own manners (`[bot]`)."""

    nickname: str = "大赛助手"
    welcome: bool = True
    rules_hint: str = "大赛规则请看群公告，或发送 /帮助。"
    ignore_users: frozenset[int] = frozenset()


# The seed's portals (Sina blog/Weibo, Tencent, Xinhua, People's Daily) by host suffix.
DEFAULT_PLATFORMS: tuple[str, ...] = (
    "blog.sina.com.cn",
    "weibo.com",
    "weibo.cn",
    "t.cn",
    "qq.com",
    "xinhuanet.com",
    "news.cn",
    "people.com.cn",
)


@dataclass(frozen=True)
class SubmissionPolicy:
    """How submitted links are checked (`[submission]`)."""

    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    verify: bool = True
    min_chars: int = 600
    # Tests verify against their own local server; users' links never reach private addresses.
    verify_allow_private: bool = False
    verify_timeout: float = 10.0
    max_links: int = 20
    # Host name -> IP address, like curl's --resolve: lets tests point a platform's name at
    # their own local server. Honoured only together with verify_allow_private.
    verify_resolve: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FaqPolicy:
    """How the FAQ answers (`[faq]`); scores are calibrated to [0, 1]."""

    file: str = "faq.yaml"
    synonyms: str = "synonyms.txt"
    answer_threshold: float = 0.6
    suggest_threshold: float = 0.35
    passive: bool = True
    passive_threshold: float = 0.75
    passive_off_groups: frozenset[int] = frozenset()
    contacts: str = "请在群里 @ 组织者，或联系区委组织部。"
    repeat_minutes: int = 5
    followup_minutes: int = 3
    flood_per_minute: int = 6


_DURATION_UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


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


@dataclass(frozen=True)
class ReminderPolicy:
    """Automatic reminders (`[reminders]`); times of day are in the contest's timezone.

    `offsets`: reminders this long before the deadline. `daily_at`: a progress digest each day
    of the contest at this local time (None: off). `quiet_hours`: (start, end) local times,
    may wrap midnight; automatic messages due inside are moved to `end` (None: no quiet hours).
    `private`: also message each behind unit's secretaries privately. `catch_up_grace`: how
    long after the deadline a bot that was down may still send the closing message.
    """

    offsets: tuple[timedelta, ...] = (
        timedelta(days=7),
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=3),
    )
    daily_at: time | None = time(9, 0)
    quiet_hours: tuple[time, time] | None = (time(22, 0), time(8, 0))
    private: bool = False
    catch_up_grace: timedelta = timedelta(hours=2)

    @property
    def offset_labels(self) -> tuple[str, ...]:
        """Canonical labels of `offsets`, in the same order ("3d", "3h")."""
        return tuple(duration_label(offset) for offset in self.offsets)


@dataclass(frozen=True)
class Contest:
    name: str
    timezone: ZoneInfo
    start: datetime
    deadline: datetime
    groups: frozenset[int]
    organizers: frozenset[int]
    judges: frozenset[int] = frozenset()
    group_admins_are_organizers: bool = True
    categories: tuple[Category, ...] = ()
    units: tuple[UnitSpec, ...] = ()
    messages: MessagePolicy = field(default_factory=MessagePolicy)
    bot: BotPolicy = field(default_factory=BotPolicy)
    submission: SubmissionPolicy = field(default_factory=SubmissionPolicy)
    faq: FaqPolicy = field(default_factory=FaqPolicy)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    # Where contest.toml was read from: the FAQ files are found relative to it.
    config_dir: Path = Path("config")

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def local(self, moment: datetime) -> datetime:
        """`moment` in the contest's timezone, for display."""
        return moment.astimezone(self.timezone)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an operator's file: which file, which key, what is wrong (Chinese)."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


UNIT_NAME_MAX = 40
_FORBIDDEN_IN_NAMES = set("[]&<>@#/\\")


def unit_name_problem(name: str) -> str | None:
    """Why `name` cannot be a unit's name or alias (Chinese, for the user), or None if it can.

    Names appear in replies, exports and @-lists, so they stay short and free of the
    characters that CQ codes, mentions and markup are made of.
    """
    if not name.strip():
        return "单位名称不能为空"
    if len(name) > UNIT_NAME_MAX:
        return f"单位名称不能超过 {UNIT_NAME_MAX} 个字"
    if any(ch in _FORBIDDEN_IN_NAMES or unicodedata.category(ch).startswith("C") for ch in name):
        return "单位名称只能包含文字、数字和常用标点，不能含 [ ] & < > @ # / 等符号"
    return None
