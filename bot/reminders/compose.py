"""The words of the automatic reminders: group reminders, digests, closing notes, previews.

Pure: progress and times in, parts (`bot.messages.outbox.Text` / `Mention`) or plain text out. Every
time is shown in the contest's timezone. The tone is a district office's: official, polite,
short.

A group reminder names only the units behind their quota, worst first (lowest completion, then
most entries missing), each followed by @ its secretaries; the units on track are counted in
one line. It is split so that no message holds more than `max_mentions` mentions or more than
`contest.messages.max_length` characters of text, and a unit's line never leaves its @s behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from bot.messages.parts import Mention, Part, Text
from bot.reminders.plan import Slot
from bot.settings.contest import Contest
from bot.submissions.book import Progress

LATE_NOTE = "（本提醒因机器人离线延后发送）"
SUMMARY_TOP = 10
_UNIT_NAMES = {"d": "天", "h": "小时", "m": "分钟", "s": "秒"}


# ------------------------------------------------------------------------ times


def moment_text(contest: Contest, moment: datetime) -> str:
    """`moment` in the contest's timezone, as "7月1日 18:00"."""
    local = contest.local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def time_left_text(now: datetime, deadline: datetime) -> str:
    """How long until `deadline`, rounded down: "3 天 5 小时", "2 小时 10 分钟", "不到 1 分钟".

    Rounding down never promises more time than there is; at or past the deadline: "已截止".
    """
    left = deadline - now
    if left <= timedelta(0):
        return "已截止"
    minutes = int(left.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    if minutes:
        return f"{minutes} 分钟"
    return "不到 1 分钟"


def offset_text(label: str) -> str:
    """A canonical offset label in words: "3d" -> "3 天", "90m" -> "90 分钟"."""
    return f"{label[:-1]} {_UNIT_NAMES[label[-1]]}"


def _deadline_line(contest: Contest, now: datetime) -> str:
    if now >= contest.deadline:
        return f"作品推荐已于 {moment_text(contest, contest.deadline)} 截止。"
    left = time_left_text(now, contest.deadline)
    return f"距截止还有 {left}（{moment_text(contest, contest.deadline)} 截止）。"


# ------------------------------------------------------------------------ counting


def _worst_first(progress: Iterable[Progress]) -> list[Progress]:
    behind = [p for p in progress if p.behind]
    return sorted(behind, key=lambda p: (p.completion, -_missing(p), p.unit, p.unit_id))


def _missing(p: Progress) -> int:
    return max(0, (p.quota or 0) - p.accepted)


def _count(p: Progress) -> str:
    return f"{p.accepted}/{p.quota}" if p.quota is not None else f"{p.accepted}"


def _totals(progress: Sequence[Progress]) -> tuple[int, int, int, int]:
    """(entries accepted, sum of quotas, units on track, units behind)."""
    accepted = sum(p.accepted for p in progress)
    quota = sum(p.quota or 0 for p in progress)
    behind = sum(1 for p in progress if p.behind)
    return accepted, quota, len(progress) - behind, behind


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 // whole}%" if whole else "—"


# ------------------------------------------------------------------------ the group reminder


class _Messages:
    """Packs lines (text plus the mentions that follow it) into messages under both caps."""

    def __init__(self, max_length: int, max_mentions: int) -> None:
        self.max_length = max(1, max_length)
        self.max_mentions = max(1, max_mentions)
        self.done: list[list[Part]] = []
        self.parts: list[Part] = []
        self.length = 0
        self.mentions = 0

    def flush(self) -> None:
        if self.parts and self.parts[-1] == Text("\n"):
            self.parts.pop()  # no empty last line in the chat
        if self.parts:
            self.done.append(self.parts)
        self.parts, self.length, self.mentions = [], 0, 0

    def add(self, text: str, mentions: Sequence[int] = ()) -> None:
        """One line: `text`, then @ each of `mentions`, then a line break."""
        chunks = [
            list(mentions[i : i + self.max_mentions])
            for i in range(0, len(mentions), self.max_mentions)
        ]
        first = True
        for chunk in chunks or [[]]:
            line = text if first else f"{text}（续）"
            size = len(line) + 1 + len(chunk)  # a space before each @
            if self.parts and (
                self.length + size > self.max_length
                or self.mentions + len(chunk) > self.max_mentions
            ):
                self.flush()
            self.parts.append(Text(line))
            for user_id in chunk:
                self.parts.append(Text(" "))
                self.parts.append(Mention(user_id))
            self.parts.append(Text("\n"))
            self.length += size
            self.mentions += len(chunk)
            first = False


def reminder_messages(
    contest: Contest,
    progress: Sequence[Progress],
    secretaries: Mapping[int, Sequence[int]],
    now: datetime,
    *,
    late: bool,
    max_mentions: int,
) -> list[list[Part]]:
    """The group reminder as messages to send in order; [] when there are no units at all.

    `secretaries` maps unit_id to the QQ ids to @ (a QQ id is mentioned once per reminder).
    When every unit is on track: one short encouraging line, no @ and no late note.
    """
    if not progress:
        return []
    behind = _worst_first(progress)
    if not behind:
        return [
            [
                Text(
                    f"【{contest.name}】各单位均已完成推荐任务，谢谢大家的支持！"
                    "欢迎继续推荐优秀作品。"
                )
            ]
        ]
    packer = _Messages(contest.messages.max_length, max_mentions)
    packer.add(f"【{contest.name}】作品推荐进度提醒")
    if late:
        packer.add(LATE_NOTE)
    packer.add(_deadline_line(contest, now))
    packer.add(
        f"以下 {len(behind)} 个单位尚未完成推荐任务（已推荐/任务数），请联络员抓紧组织报送："
    )
    mentioned: set[int] = set()
    for number, p in enumerate(behind, start=1):
        ids = [qq for qq in dict.fromkeys(secretaries.get(p.unit_id, ())) if qq not in mentioned]
        mentioned.update(ids)
        packer.add(f"{number}. {p.unit} {_count(p)}", ids)
    on_track = len(progress) - len(behind)
    if on_track:
        packer.add(f"另有 {on_track} 个单位已完成推荐任务，谢谢支持。")
    packer.flush()
    return packer.done


def parts_text(parts: Sequence[Part]) -> str:
    """A message as plain text, @ shown as "@QQ号" (for previews and logs)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Text):
            out.append(part.text)
        elif isinstance(part, Mention):
            out.append(f"@{part.user_id}")
    return "".join(out).rstrip("\n")


# ------------------------------------------------------------------------ other messages


def digest_message(
    contest: Contest, progress: Sequence[Progress], now: datetime, *, late: bool = False
) -> str:
    """The daily digest: overall progress, units completed and behind, time left; no @."""
    accepted, quota, on_track, behind = _totals(progress)
    local = contest.local(now)
    lines = [f"【{contest.name}】每日进度（{local.month}月{local.day}日）"]
    if late:
        lines.append(LATE_NOTE)
    lines += [
        f"各单位共推荐作品 {accepted} 篇，任务总数 {quota} 篇，完成 {_percent(accepted, quota)}。",
        f"已完成任务的单位 {on_track} 个，尚未完成的单位 {behind} 个。",
        _deadline_line(contest, now),
    ]
    if behind:
        lines.append("发送 /进度 可查看各单位明细。")
    return "\n".join(lines)


def closing_message(contest: Contest, progress: Sequence[Progress]) -> str:
    """The message to the group once the deadline has passed: final counts and thanks."""
    accepted, _quota, on_track, behind = _totals(progress)
    units = len(progress)
    return "\n".join(
        [
            f"【{contest.name}】作品推荐已于 {moment_text(contest, contest.deadline)} 截止，"
            "感谢各单位的积极参与！",
            f"最终统计：共推荐作品 {accepted} 篇；{units} 个单位中，"
            f"{on_track} 个完成推荐任务，{behind} 个未完成。",
            "后续评审安排请留意群公告。",
        ]
    )


def organizer_summary(contest: Contest, progress: Sequence[Progress]) -> str:
    """The private summary for organizers after the deadline: totals and the units behind."""
    accepted, quota, on_track, behind_count = _totals(progress)
    late = sum(p.late for p in progress)
    flagged = sum(p.flagged for p in progress)
    lines = [
        f"【{contest.name}】截止汇总（{moment_text(contest, contest.deadline)} 截止）",
        f"共推荐作品 {accepted} 篇（任务总数 {quota} 篇，完成 {_percent(accepted, quota)}），"
        f"其中逾期 {late} 篇、待核实 {flagged} 篇。",
        f"完成推荐任务的单位 {on_track} 个，未完成的单位 {behind_count} 个。",
    ]
    behind = _worst_first(progress)
    if behind:
        shown = behind[:SUMMARY_TOP]
        lines.append(f"未完成的单位（完成率从低到高，列出前 {len(shown)} 个）：")
        lines.extend(
            f"{n}. {p.unit} {_count(p)}，还差 {_missing(p)} 篇" for n, p in enumerate(shown, 1)
        )
        if len(behind) > len(shown):
            lines.append(
                f"另有 {len(behind) - len(shown)} 个未完成的单位，完整名单请发送 /导出 获取表格。"
            )
    return "\n".join(lines)


def unit_status(contest: Contest, progress: Progress, now: datetime) -> str:
    """One unit's status, for its secretary ("/提醒 我" and private reminders)."""
    head = f"{progress.unit}：已推荐作品 {progress.accepted} 篇"
    notes = []
    if progress.late:
        notes.append(f"逾期 {progress.late} 篇")
    if progress.flagged:
        notes.append(f"待核实 {progress.flagged} 篇")
    if notes:
        head += f"（其中{'、'.join(notes)}）"
    if progress.quota is None:
        body = "。"
    elif progress.behind:
        body = f"，任务 {progress.quota} 篇，还差 {_missing(progress)} 篇。"
    else:
        body = f"，已完成任务（{progress.quota} 篇），谢谢支持！"
    tail = _deadline_line(contest, now)
    if progress.behind and now < contest.deadline:
        tail += "请抓紧组织报送。"
    return f"{head}{body}\n{tail}"


def _slot_reason(slot: Slot) -> str:
    if slot.kind == "offset":
        label = slot.key.removeprefix("offset:").partition("@")[0]
        return f"截止前 {offset_text(label)}"
    if slot.kind == "daily":
        return "每日进度"
    return "截止通知"


def preview_text(
    slot: Slot,
    contest: Contest,
    progress: Sequence[Progress],
    now: datetime,
    *,
    secretaries: Mapping[int, Sequence[int]] | None = None,
) -> str:
    """What the next automatic message would say and when, without sending it.

    The content uses the numbers of `progress` (as of `now`) and the time left at the slot's due
    time (or `now`, if that is later); the real message is built afresh when it goes out. With
    `secretaries` the @s are shown as "@QQ号" and the split matches the real one.
    """
    lines = [f"下一次提醒：{moment_text(contest, slot.due)}（{_slot_reason(slot)}）"]
    if slot.due != slot.nominal:
        lines.append(f"原定 {moment_text(contest, slot.nominal)}，因免打扰时段顺延。")
    at = max(slot.due, now)
    lines.append("内容预览（按当前进度生成）：")
    if slot.kind == "offset":
        messages = reminder_messages(
            contest,
            progress,
            secretaries or {},
            at,
            late=False,
            max_mentions=contest.messages.max_mentions,
        )
        if not messages:
            lines.append("（目前没有参赛单位，不会发送内容）")
        else:
            lines.append(parts_text(messages[0]))
            if len(messages) > 1:
                lines.append(f"……（共 {len(messages)} 条消息，这里只显示第 1 条）")
    elif slot.kind == "daily":
        lines.append(digest_message(contest, progress, at))
    else:
        lines.append(closing_message(contest, progress))
    return "\n".join(lines)
