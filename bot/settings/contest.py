"""The contest as configured in config/contest.toml: plain immutable values, sections declared once.

Every section is a frozen dataclass whose fields carry their default, bounds (`Field(ge=, le=)`),
doc and validators. `bot/settings/loader.py` reads contest.toml through these declarations with
pydantic and words its errors for the organizer; the readers (`bot/settings/values.py`) word
their own problems. A value built in code is taken as given (tests build tiny policies); one read
from the file is validated. Times are timezone-aware; `Contest.timezone` is used only for display.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import (
    BeforeValidator,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
    with_config,
)
from pydantic_core import PydanticCustomError

from bot.judging.config import Judge, JudgingPolicy
from bot.names import name_key
from bot.settings.values import (
    ALREADY_REPORTED,
    SECTION,
    Bool,
    Example,
    Float,
    Int,
    QQIds,
    QQIdSet,
    Text,
    Texts,
    clock,
    duration,
    duration_label,
    each,
    items_of,
    problem,
    problems,
    texts,
    zone,
)

# Validation context key: the ids of the [[categories]] read so far, which [[units]] refer to.
CATEGORY_IDS = "category_ids"
# ... and their names (folded) -> ids: a unit may name its category by either.
CATEGORY_NAMES = "category_names"


# --------------------------------------------------------------------------------------------
# The sections.


@with_config(SECTION)
@dataclass(frozen=True)
class Category:
    """A `[[categories]]` entry: a kind of unit, which sets its quota (镇街道 50, 部门 5)."""

    id: Annotated[Text, Example('id = "town"')]
    name: Annotated[Text, Example('name = "镇、街道"')]
    quota: Annotated[Int, Field(ge=0), Example("quota = 50")]


@with_config(SECTION)
@dataclass(frozen=True)
class UnitSpec:
    """A unit as written in config/contest.toml (the database may hold more units).

    Names and aliases are unique across units, and so are secretaries: `loader.py` checks the
    [[units]] against each other.
    """

    name: Annotated[Text, Example('name = "南湖街道"')]
    category: Annotated[Text, Example('category = "town"')]
    """The id of one of the [[categories]]."""
    secretaries: QQIds = ()
    aliases: Texts = ()
    quota: Annotated[Int, Field(ge=0)] | None = None
    """Overrides the category's quota."""

    @field_validator("category")
    @classmethod
    def _known_category(cls, category: str, info: ValidationInfo) -> str:
        known: tuple[str, ...] | None = (info.context or {}).get(CATEGORY_IDS)
        by_name: dict[str, str] = (info.context or {}).get(CATEGORY_NAMES) or {}
        if known is not None and category not in known and name_key(category) in by_name:
            return by_name[name_key(category)]  # category = "镇、街道": the category's name
        if known is not None and category not in known:
            name = info.data.get("name")
            shown = f"单位“{name}”" if name else "此单位"
            valid = "、".join(known) or "（尚无类别）"
            raise problem(f"{shown}的类别“{category}”不存在；可用的类别 id：{valid}")
        return category

    @field_validator("aliases")
    @classmethod
    def _saying_something_new(
        cls, aliases: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        """An alias that folds to the unit's name or to an earlier alias is harmless: dropped."""
        seen = {name_key(info.data["name"])} if "name" in info.data else set()
        kept: list[str] = []
        for alias in aliases:
            if name_key(alias) not in seen:
                seen.add(name_key(alias))
                kept.append(alias)
        return tuple(kept)


@with_config(SECTION)
@dataclass(frozen=True)
class MessagePolicy:
    """How the bot talks in a group: pacing and length limits (`[messages]`)."""

    burst: Annotated[Int, Field(ge=1)] = 3
    """Messages sent back to back before pacing starts."""
    interval: Annotated[Float, Field(gt=0)] = 1.5
    """Seconds between paced messages."""
    max_length: Annotated[Int, Field(ge=200, le=4500)] = 1500
    """Longer replies are split into several messages."""
    max_mentions: Annotated[Int, Field(ge=1, le=50)] = 20
    """@-mentions per message."""
    forward_over: Annotated[Int, Field(ge=0, le=100_000)] = 800
    """Organizer-facing lists longer than this go as one merged-forward message (0: never)."""


@with_config(SECTION)
@dataclass(frozen=True)
class BotPolicy:
    """The bot's own manners (`[bot]`)."""

    nickname: Text = "大赛助手"
    """What the bot calls itself in replies."""
    welcome: Bool = True
    """Greet people who join a served group."""
    rules_hint: Text = "大赛规则请看群公告，或发送 /帮助。"
    """Where to read the rules, said in the welcome and in help."""
    ignore_users: QQIdSet = frozenset()
    """QQ numbers the bot never answers (other bots)."""


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
_HOST_SUFFIX = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


@with_config(SECTION)
@dataclass(frozen=True)
class SubmissionPolicy:
    """How submitted links are checked (`[submission]`)."""

    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    """Host suffixes a submitted link must end with."""
    verify: Bool = True
    """Fetch each link to check that the post exists and is long enough."""
    min_chars: Annotated[Int, Field(ge=0, le=100_000)] = 600
    """Characters a blog post needs (microblogs are short by nature: not checked)."""
    verify_allow_private: Bool = False
    """Tests verify against their own local server; users' links never reach private addresses."""
    verify_timeout: Annotated[Float, Field(gt=0, le=120)] = 10.0
    """Seconds to wait for a submitted page."""
    max_links: Annotated[Int, Field(ge=1, le=200)] = 20
    """Links one message may submit."""
    verify_resolve: tuple[tuple[str, str], ...] = ()
    """Host name -> IP address, like curl's --resolve: lets tests point a platform's name at their
    own local server. Honoured only together with verify_allow_private."""

    @field_validator("platforms", mode="before")
    @classmethod
    def _host_suffixes(cls, value: object) -> tuple[str, ...]:
        hosts: list[str] = []
        wrong: list[str] = []
        for host in texts(value):
            suffix = host.lower().removeprefix(".")
            if _HOST_SUFFIX.match(suffix):
                hosts.append(suffix)
            else:
                wrong.append(
                    f'“{host}”不是网站域名；请只写域名后缀，例如 "weibo.com"'
                    "（不要写 https:// 或路径）"
                )
        if not hosts:
            wrong.append('至少写一个允许的平台域名，例如 ["weibo.com"]')
        if wrong:
            raise problems(value, wrong)
        return tuple(hosts)

    @field_validator("verify_resolve", mode="before")
    @classmethod
    def _resolve_table(cls, value: object, info: ValidationInfo) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            raise problem('应写成 { "域名" = "IP 地址" }')
        pairs: list[tuple[str, str]] = []
        wrong: list[str] = []
        for host, address in value.items():
            try:
                ip_address(str(address))
            except ValueError:
                wrong.append(f"“{address}”不是 IP 地址")
                continue
            pairs.append((str(host).lower(), str(address)))
        if pairs and not info.data.get("verify_allow_private"):
            wrong.append("只能与 verify_allow_private = true 一起使用（仅供测试）")
        if wrong:
            raise problems(value, wrong)
        return tuple(pairs)


Threshold = Annotated[Float, Field(gt=0, le=1)]


@with_config(SECTION)
@dataclass(frozen=True)
class FaqPolicy:
    """How the FAQ answers (`[faq]`); scores are calibrated to [0, 1]."""

    file: Text = "faq.yaml"
    """The knowledge base, next to contest.toml."""
    synonyms: Text = "synonyms.txt"
    answer_threshold: Threshold = 0.6
    """Answer a question scoring at least this."""
    suggest_threshold: Threshold = 0.35
    """Below the answer threshold but above this: suggest the closest entries."""
    passive: Bool = True
    """Also answer plain group messages (not addressed to the bot) when sure."""
    passive_threshold: Threshold = 0.7
    passive_off_groups: QQIdSet = frozenset()
    """Groups where the bot answers only /问 and @-mentions."""
    contacts: Text = "请在群里 @ 组织者，或联系区委组织部。"
    """Whom to ask when the bot has no answer."""
    repeat_minutes: Annotated[Int, Field(ge=0, le=1440)] = 5
    """A question repeated within this many minutes points to the answer just given."""
    followup_minutes: Annotated[Int, Field(ge=1, le=60)] = 3
    """How long the asker may pick one of the suggested questions by its number."""
    flood_per_minute: Annotated[Int, Field(ge=0, le=60)] = 6
    """Automatic answers per group per minute, at most."""

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> FaqPolicy:
        if not self.suggest_threshold < self.answer_threshold <= self.passive_threshold:
            message = (
                "阈值应满足 suggest_threshold < answer_threshold ≤ passive_threshold"
                f"（现在是 {self.suggest_threshold} / {self.answer_threshold} / "
                f"{self.passive_threshold}）"
            )
            raise problems(self, [message], key="answer_threshold")
        return self


@with_config(SECTION)
@dataclass(frozen=True)
class ReminderPolicy:
    """Automatic reminders (`[reminders]`); times of day are in the contest's timezone."""

    offsets: tuple[timedelta, ...] = (
        timedelta(days=7),
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=3),
    )
    """Reminders this long before the deadline, longest first."""
    daily_at: time | None = time(9, 0)
    """A progress digest each day of the contest at this local time (None: off)."""
    quiet_hours: tuple[time, time] | None = (time(22, 0), time(8, 0))
    """(start, end) local times, may wrap midnight; automatic messages due inside are moved to
    `end` (None: no quiet hours)."""
    private: Bool = False
    """Also message each behind unit's secretaries privately."""
    catch_up_grace: timedelta = timedelta(hours=2)
    """How long after the deadline a bot that was down may still send the closing message."""

    @property
    def offset_labels(self) -> tuple[str, ...]:
        """Canonical labels of `offsets`, in the same order ("3d", "3h")."""
        return tuple(duration_label(offset) for offset in self.offsets)

    @field_validator("offsets", mode="before")
    @classmethod
    def _spans(cls, value: object) -> tuple[timedelta, ...]:
        spans: list[timedelta] = []
        wrong: list[str] = []
        for item in items_of(value):
            try:
                span = duration(item, example='"3d" 或 "12h"')
            except PydanticCustomError as error:
                wrong.append(error.message())
                continue
            if span in spans:
                wrong.append(f"“{item}”与前面的提醒时间重复；每个提醒时间只写一次")
            else:
                spans.append(span)
        if wrong:
            raise problems(value, wrong)
        return tuple(sorted(spans, reverse=True))

    @field_validator("daily_at", mode="before")
    @classmethod
    def _digest_time(cls, value: object) -> time | None:
        if isinstance(value, str) and not value.strip():
            return None
        return clock(value, example='"09:00"（不要每日进度请写 ""）')

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_span(cls, value: object) -> tuple[time, time] | None:
        example = '["22:00", "08:00"]（不要免打扰请写 []）'
        listed = items_of(value)
        if not listed:
            return None
        if len(listed) != 2:
            raise problem(f"应写开始和结束两个时刻，例如 {example}")
        start, end = each(value, lambda item: clock(item, example=example))
        if start == end:
            raise problem(f"开始和结束时刻相同，无法判断；例如 {example}")
        return start, end

    @field_validator("catch_up_grace", mode="before")
    @classmethod
    def _grace(cls, value: object) -> timedelta:
        return duration(value, example='"2h"')


@with_config(SECTION)
@dataclass(frozen=True)
class ContestSection:
    """`[contest]`: the contest's name, its window and whom the bot serves."""

    name: Annotated[Text, Example('name = "2027年……学习博客大赛"')]
    timezone: Annotated[ZoneInfo, BeforeValidator(zone), Example('timezone = "Asia/Shanghai"')]
    """Where a `start` or `deadline` written without an offset is read, and times are shown."""
    start: Annotated[datetime, Strict(), Example("start = 2027-06-24T00:00:00")]
    deadline: Annotated[datetime, Strict(), Example("deadline = 2027-07-01T18:00:00")]
    groups: Annotated[
        QQIdSet, Field(min_length=1), Example("groups = [123456789]（服务的 QQ 群号）")
    ]
    """The QQ groups the bot serves; it says nothing anywhere else."""
    organizers: QQIdSet = frozenset()
    judges: QQIdSet = frozenset()
    """The old way to name judges, by QQ number alone; `[[judges]]` adds names and units."""
    group_admins_are_organizers: Bool = True

    @field_validator("start", "deadline")
    @classmethod
    def _in_the_contest_timezone(cls, moment: datetime, info: ValidationInfo) -> datetime:
        if moment.tzinfo is not None:
            return moment
        contest_zone = info.data.get("timezone")
        if contest_zone is None:
            raise PydanticCustomError(ALREADY_REPORTED, "the timezone has a problem")
        return moment.replace(tzinfo=contest_zone)

    @field_validator("deadline")
    @classmethod
    def _after_the_start(cls, deadline: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and start >= deadline:
            raise problem("截止时间应晚于开始时间（start）；请检查两个日期")
        return deadline


@dataclass(frozen=True)
class Contest(ContestSection):
    """The contest: its `[contest]` section and the others."""

    categories: tuple[Category, ...] = ()
    units: tuple[UnitSpec, ...] = ()
    messages: MessagePolicy = field(default_factory=MessagePolicy)
    bot: BotPolicy = field(default_factory=BotPolicy)
    submission: SubmissionPolicy = field(default_factory=SubmissionPolicy)
    faq: FaqPolicy = field(default_factory=FaqPolicy)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    judging: JudgingPolicy = field(default_factory=JudgingPolicy)
    named_judges: tuple[Judge, ...] = ()
    """The `[[judges]]`, with their names and the units they belong to."""
    # Where contest.toml was read from: the FAQ files are found relative to it.
    config_dir: Path = Path("config")

    def __post_init__(self) -> None:
        # Whoever is written as a [[judges]] is a judge, for every role check that reads `judges`.
        named = frozenset(judge.qq for judge in self.named_judges)
        if not named <= self.judges:
            object.__setattr__(self, "judges", self.judges | named)

    @property
    def panel(self) -> tuple[Judge, ...]:
        """Every judge: the `[[judges]]` as written, then those only in `[contest] judges`
        (no name, no units), by QQ number."""
        named = {judge.qq for judge in self.named_judges}
        listed = (Judge(qq=qq, name="") for qq in sorted(self.judges) if qq not in named)
        return (*self.named_judges, *listed)

    def judge(self, user_id: int) -> Judge | None:
        """The judge with this QQ number, if they are one."""
        return next((judge for judge in self.panel if judge.qq == user_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def local(self, moment: datetime) -> datetime:
        """`moment` in the contest's timezone, for display."""
        return moment.astimezone(self.timezone)


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
