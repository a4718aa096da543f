"""What an entry can be: its kind, status, verification status and flags, and their labels.

Each is a `StrEnum` whose values are what the database stores (the `entry` table's columns are
typed with these enums, see `bot.storage.types.EnumText`), and each member's Chinese `label`
is written here once: chat replies, exports and the dashboard all show the same words.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class EntryKind(StrEnum):
    """Which rules apply: `min_chars` is checked for blog posts only (microblogs are short by
    nature; an "article" is a portal page that is not a blog post)."""

    BLOG = "blog"
    MICROBLOG = "microblog"
    ARTICLE = "article"


class EntryStatus(StrEnum):
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {EntryStatus.ACCEPTED: "有效", EntryStatus.WITHDRAWN: "已撤回"}[self]


class VerifyStatus(StrEnum):
    """What fetching the entry's page found (see bot.submissions.verify)."""

    PENDING = "pending"
    OK = "ok"
    UNREACHABLE = "unreachable"
    # A login wall or not a web page: not the author's failure.
    NOT_VERIFIABLE = "not_verifiable"
    # We refused to fetch it (a private address, an IP literal, localhost).
    BLOCKED = "blocked"
    # Verification was off when the entry came in.
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return _VERIFY_LABELS[self]


def verify_label(status: VerifyStatus | str, *, verifying: bool) -> str:
    """The status as shown: an entry waiting for a check that is switched off is "未核验",
    not "待核验" forever."""
    status = VerifyStatus(status)
    if status is VerifyStatus.PENDING and not verifying:
        return VerifyStatus.SKIPPED.label
    return status.label


_VERIFY_LABELS = {
    VerifyStatus.PENDING: "待核验",
    VerifyStatus.OK: "已核验",
    VerifyStatus.UNREACHABLE: "无法访问",
    VerifyStatus.NOT_VERIFIABLE: "需登录，无法核验",
    VerifyStatus.BLOCKED: "未核验（地址不允许访问）",
    VerifyStatus.SKIPPED: "未核验",
}


class Flag(StrEnum):
    """Why an accepted entry deserves a second look; in this order wherever flags are listed."""

    SHORT = "short"
    OUTSIDE_WINDOW = "outside_window"
    UNREACHABLE = "unreachable"
    # From the link's shape alone (bot.submissions.shapes), not from verification.
    NOT_A_POST = "not_a_post"
    UNUSUAL_LINK = "unusual_link"

    @property
    def label(self) -> str:
        return _FLAG_LABELS[self]


_FLAG_LABELS = {
    Flag.SHORT: "字数不足",
    Flag.OUTSIDE_WINDOW: "发布时间不在大赛期间",
    Flag.UNREACHABLE: "无法访问",
    Flag.NOT_A_POST: "不是单篇作品",
    Flag.UNUSUAL_LINK: "链接形式少见",
}
# Flags that come from the link's shape: kept when verification records its own.
LINK_FLAGS = frozenset({Flag.NOT_A_POST, Flag.UNUSUAL_LINK})


def flag_reason(
    flag: Flag, *, text_length: int | None, min_chars: int, published_on: date | None
) -> str:
    """The flag explained with the entry's own figures, for the submitter (one line)."""
    if flag is Flag.SHORT:
        return f"正文约 {text_length} 字，少于 {min_chars} 字"
    if flag is Flag.OUTSIDE_WINDOW:
        return f"发布日期 {published_on} 不在读书周内"
    if flag is Flag.NOT_A_POST:
        return "链接是个人主页、列表或搜索页面，不是某一篇作品"
    if flag is Flag.UNUSUAL_LINK:
        return "链接形式与该平台的作品链接不同，请组织者确认"
    return "链接暂时打不开，请确认链接正确且文章公开"
