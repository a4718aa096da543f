"""The contest window: may a submission be made now, and is it late? Pure, no I/O.

Before `contest.start` nobody submits (organizers included: the window is the same for
everyone, and the reply says when it opens). From `start` up to and including `deadline`
everyone may submit. After the deadline only organizers may, and what they add is marked late.
Times are shown in the contest's timezone, whatever the server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import require_aware
from bot.settings.contest import Contest


@dataclass(frozen=True)
class WindowDecision:
    open: bool
    late: bool = False
    # Why not (Chinese, for the user); None when open.
    reason: str | None = None


def local_time_text(contest: Contest, moment: datetime) -> str:
    """`moment` as the contest's local month, day and time: "6月24日 00:00"."""
    local = contest.local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def is_late(contest: Contest, at: datetime) -> bool:
    """Whether an entry submitted at `at` is late: after the deadline (the deadline is on time)."""
    return require_aware(at, "at") > contest.deadline


def submission_window(contest: Contest, now: datetime, *, organizer: bool) -> WindowDecision:
    late = is_late(contest, now)
    if now < contest.start:
        return WindowDecision(
            open=False,
            reason=f"大赛于 {local_time_text(contest, contest.start)} 开始接受提交，请届时再提交。",
        )
    if not late:
        return WindowDecision(open=True)
    if organizer:
        return WindowDecision(open=True, late=True)
    return WindowDecision(
        open=False,
        reason=(
            f"已过截止时间（{local_time_text(contest, contest.deadline)}），如需补交请联系组织者。"
        ),
    )
