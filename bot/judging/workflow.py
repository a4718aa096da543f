"""Judging as organizers and judges live it: open judging after the deadline, entries assigned
to judges (balanced, conflicts kept out), a judge dropping out, scores per criterion, coverage.

- `open_judging`: only after the deadline. Records a `judging_round` (who, when, the
  `[judging]` policy as it was) and assigns every accepted entry to `judges_per_entry` judges
  with bot/judging/assign.py — never to a judge listed with the entry's unit (`[[judges]]
  units`) nor to the unit's secretary. Opening again assigns only entries that have no judge yet
  (e.g. a late entry restored), so nothing is doubled.
- `drop_judge`: a judge leaves; their entries not yet scored by them move to others
  (`reassign`); the rows stay, marked dropped, with when and why.
- `JudgingDesk`: a judge's queue (assigned, not yet fully scored by them, in receipt order), the
  next entry, saving one entry's scores on every judged criterion at once (1–10, a comment).
- `coverage`: per judge assigned / done / left; entries below quorum; the spread between
  judges' totals on one entry, to spot disagreements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from loguru import logger
from sqlmodel import col, select

from bot.clock import require_aware
from bot.judging.assign import Assignment, assign, conflicts_of, reassign
from bot.judging.models import (
    COMMENT_MAX,
    SCORE_MAX,
    SCORE_MIN,
    JudgeScore,
    JudgingAssignment,
    JudgingRound,
)
from bot.refusal import NotFound, Refusal
from bot.settings.contest import Contest
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction
from bot.storage.types import INT_MAX
from bot.submissions.book import EntryBook, EntryView
from bot.submissions.states import EntryStatus
from bot.units.directory import UnitDirectory


class JudgingError(Refusal):
    """A judging request that cannot be done; the message is the user's Chinese."""


@dataclass(frozen=True)
class Opened:
    round_id: int
    assigned: int  # entries given judges now
    short: Mapping[int, int]  # entry -> judges it lacks (too few eligible judges)
    already_open: bool


def _entries_with_units(entries: Sequence[EntryView]) -> list[tuple[int, str]]:
    return [(e.receipt, e.unit_name) for e in entries if e.status is EntryStatus.ACCEPTED]


def _conflicts(contest: Contest, units: UnitDirectory) -> dict[int, frozenset[str]]:
    secretaries = {u.name: u.secretaries for u in units.list_units()}
    return conflicts_of(contest.panel, secretaries)


async def _active(sessions: Sessions) -> list[JudgingAssignment]:
    query = select(JudgingAssignment).where(col(JudgingAssignment.dropped_at).is_(None))
    async with sessions() as session:
        return list((await session.exec(query)).all())


async def current_round(sessions: Sessions) -> JudgingRound | None:
    query = select(JudgingRound).order_by(col(JudgingRound.id).desc()).limit(1)
    async with sessions() as session:
        return (await session.exec(query)).first()


async def open_judging(
    sessions: Sessions,
    entries: EntryBook,
    units: UnitDirectory,
    contest: Contest,
    *,
    actor: int | None,
    now: datetime,
) -> Opened:
    """Open judging (or catch up an open round with new entries); see the module doc."""
    require_aware(now)
    if now < contest.deadline:
        when = f"{contest.local(contest.deadline):%m月%d日 %H:%M}"
        raise JudgingError(f"评审要在提交截止（{when}）之后才能开始。")
    judges = [j.qq for j in contest.panel]
    if not judges:
        raise JudgingError("还没有评委：请在 config/contest.toml 的 [[judges]] 里写上评委。")
    accepted = _entries_with_units(await entries.all_entries())
    if not accepted:
        raise JudgingError("没有已登记的作品，不需要评审。")
    existing = await current_round(sessions)
    assigned = {a.receipt for a in await _active(sessions)}
    todo = [(r, u) for r, u in accepted if r not in assigned]
    plan = assign(
        todo, judges, contest.judging.judges_per_entry, _conflicts(contest, units)
    ) if todo else Assignment({})  # fmt: skip
    async with write_transaction(sessions) as session:
        if existing is None or existing.closed_at is not None:
            policy = _policy_json(contest)
            existing = JudgingRound(opened_at=now, opened_by=actor, policy=policy)
            session.add(existing)
            await session.flush()
            already = False
        else:
            already = True
        for receipt, judges_of in plan.judges_of.items():
            for judge in judges_of:
                session.add(JudgingAssignment(receipt=receipt, judge_id=judge, assigned_at=now))
        detail = {"round": existing.id, "assigned": len(plan.judges_of), "short": len(plan.short)}
        session.add(ChangeLog(at=now, actor=actor, action="judging.open", detail=detail))
    assert existing.id is not None
    logger.info("评审：第 {} 轮，新分配 {} 篇", existing.id, len(plan.judges_of))
    return Opened(existing.id, len(plan.judges_of), dict(plan.short), already)


def _policy_json(contest: Contest) -> dict[str, Any]:
    policy = contest.judging
    return {
        "criteria": [
            {"id": c.id, "name": c.name, "weight": c.weight, "source": str(c.source)}
            for c in policy.criteria
        ],
        "judges_per_entry": policy.judges_per_entry,
        "normalization": str(policy.normalization),
        "blind": policy.blind,
        "tiers": [asdict(t) for t in policy.tiers],
    }


async def drop_judge(
    sessions: Sessions,
    entries: EntryBook,
    units: UnitDirectory,
    contest: Contest,
    judge: int,
    *,
    reason: str,
    actor: int | None,
    now: datetime,
) -> tuple[int, int]:
    """`judge` leaves: (entries moved to others, entries nobody else may take)."""
    require_aware(now)
    active = await _active(sessions)
    theirs = [a for a in active if a.judge_id == judge]
    if not theirs:
        raise NotFound("这位评委目前没有分到作品。")
    done = await _complete_sets(sessions, contest, judge)
    open_receipts = {a.receipt for a in theirs if (a.receipt, judge) not in done}
    judges_of: dict[int, tuple[int, ...]] = defaultdict(tuple)
    for a in active:
        judges_of[a.receipt] = (*judges_of[a.receipt], a.judge_id)
    units_of = {e.receipt: e.unit_name for e in await entries.all_entries()}
    board_entries = [(r, units_of.get(r, "")) for r in judges_of if r in open_receipts]
    before = Assignment({r: judges_of[r] for r in open_receipts})
    panel = [j.qq for j in contest.panel]
    _after, moves = reassign(
        before, judge, board_entries, panel, _conflicts(contest, units),
        contest.judging.judges_per_entry,
    )  # fmt: skip
    moved = [m for m in moves if m.to_judge is not None]
    async with write_transaction(sessions) as session:
        for row in theirs:
            if row.receipt in open_receipts:
                stored = await session.get(JudgingAssignment, row.id)
                assert stored is not None
                stored.dropped_at, stored.dropped_reason = now, reason[:200] or "评委退出"
                session.add(stored)
        for move in moved:
            assert move.to_judge is not None
            session.add(
                JudgingAssignment(receipt=move.entry, judge_id=move.to_judge, assigned_at=now)
            )
        detail = {"judge": judge, "moved": len(moved), "stranded": len(moves) - len(moved)}
        session.add(ChangeLog(at=now, actor=actor, action="judging.drop", detail=detail))
    return len(moved), len(moves) - len(moved)


async def _complete_sets(
    sessions: Sessions, contest: Contest, judge: int | None = None
) -> set[tuple[int, int]]:
    """(entry, judge) pairs where the judge scored every judged criterion (one judge's only,
    when `judge` is given: a judge's page does not read everyone's scores)."""
    wanted = {c.id for c in contest.judging.judged}
    query = select(col(JudgeScore.receipt), col(JudgeScore.judge_id), col(JudgeScore.criterion))
    if judge is not None:
        query = query.where(col(JudgeScore.judge_id) == judge)
    async with sessions() as session:
        rows = (await session.exec(query)).all()
    seen: dict[tuple[int, int], set[str]] = defaultdict(set)
    for receipt, judge, criterion in rows:
        if criterion in wanted:
            seen[(receipt, judge)].add(criterion)
    return {pair for pair, criteria in seen.items() if criteria >= wanted}


@dataclass(frozen=True)
class Queue:
    assigned: tuple[int, ...]  # receipts, in order
    done: frozenset[int]

    @property
    def left(self) -> tuple[int, ...]:
        return tuple(r for r in self.assigned if r not in self.done)


class JudgingDesk:
    """A judge's work: their queue, the scores they gave, saving the next."""

    def __init__(self, sessions: Sessions, contest: Contest) -> None:
        self._sessions = sessions
        self._contest = contest

    async def queue(self, judge: int) -> Queue:
        query = (
            select(col(JudgingAssignment.receipt))
            .where(
                col(JudgingAssignment.judge_id) == judge,
                col(JudgingAssignment.dropped_at).is_(None),
            )
            .order_by(col(JudgingAssignment.receipt))
        )
        async with self._sessions() as session:
            assigned = tuple((await session.exec(query)).all())
        complete = await _complete_sets(self._sessions, self._contest, judge)
        return Queue(assigned, frozenset(r for r in assigned if (r, judge) in complete))

    async def mine(self, judge: int, receipt: int) -> dict[str, tuple[int, str | None]]:
        """criterion -> (value, comment) this judge gave `receipt`."""
        query = select(JudgeScore).where(
            col(JudgeScore.judge_id) == judge, col(JudgeScore.receipt) == receipt
        )
        async with self._sessions() as session:
            rows = (await session.exec(query)).all()
        return {row.criterion: (row.value, row.comment) for row in rows}

    async def save(
        self,
        judge: int,
        receipt: int,
        values: Mapping[str, str],
        comment: str,
        *,
        now: datetime,
    ) -> None:
        """Store this judge's scores for `receipt`, one per judged criterion (all required)."""
        require_aware(now)
        if not 0 < receipt <= INT_MAX or receipt not in (await self.queue(judge)).assigned:
            raise NotFound(f"#{receipt} 没有分给您评审。")
        scores: dict[str, int] = {}
        for criterion in self._contest.judging.judged:
            text = (values.get(criterion.id) or "").strip()
            if not (text.isascii() and text.isdigit() and len(text) <= 2):
                raise JudgingError(f"请给“{criterion.name}”打 {SCORE_MIN}–{SCORE_MAX} 分。")
            value = int(text)
            if not SCORE_MIN <= value <= SCORE_MAX:
                raise JudgingError(f"请给“{criterion.name}”打 {SCORE_MIN}–{SCORE_MAX} 分。")
            scores[criterion.id] = value
        cleaned = " ".join(comment.split())
        if len(cleaned) > COMMENT_MAX:
            raise JudgingError(f"评语请控制在 {COMMENT_MAX} 字以内。")
        async with write_transaction(self._sessions) as session:
            for criterion, value in scores.items():
                row = (
                    await session.exec(
                        select(JudgeScore).where(
                            col(JudgeScore.receipt) == receipt,
                            col(JudgeScore.judge_id) == judge,
                            col(JudgeScore.criterion) == criterion,
                        )
                    )
                ).first()
                if row is None:
                    row = JudgeScore(
                        receipt=receipt, judge_id=judge, criterion=criterion, value=value,
                        updated_at=now,
                    )  # fmt: skip
                row.value, row.comment, row.updated_at = value, cleaned or None, now
                session.add(row)


@dataclass(frozen=True)
class JudgeLoad:
    judge: int
    assigned: int
    done: int

    @property
    def left(self) -> int:
        return self.assigned - self.done


@dataclass(frozen=True)
class Coverage:
    judges: tuple[JudgeLoad, ...]
    below_quorum: tuple[int, ...]  # entries with fewer complete score sets than judges_per_entry
    spread: tuple[
        tuple[int, float], ...
    ]  # (entry, max − min of its judges' mean scores), widest first


async def coverage(sessions: Sessions, contest: Contest) -> Coverage:
    active = await _active(sessions)
    complete = await _complete_sets(sessions, contest)
    loads: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_entry: dict[int, int] = defaultdict(int)
    for a in active:
        loads[a.judge_id][0] += 1
        if (a.receipt, a.judge_id) in complete:
            loads[a.judge_id][1] += 1
            per_entry[a.receipt] += 1
    for judge in contest.panel:
        loads.setdefault(judge.qq, [0, 0])
    quorum = contest.judging.judges_per_entry
    entries = sorted({a.receipt for a in active})
    below = tuple(r for r in entries if per_entry.get(r, 0) < quorum)
    judged = {c.id for c in contest.judging.judged}
    query = select(col(JudgeScore.receipt), col(JudgeScore.judge_id), col(JudgeScore.criterion),
                   col(JudgeScore.value))  # fmt: skip
    async with sessions() as session:
        rows = (await session.exec(query)).all()
    means: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for receipt, judge, criterion, value in rows:
        if criterion in judged:
            means[receipt][judge].append(value)
    spread = []
    for receipt, by_judge in means.items():
        averages = [sum(v) / len(v) for v in by_judge.values()]
        if len(averages) >= 2:
            spread.append((receipt, round(max(averages) - min(averages), 1)))
    spread.sort(key=lambda item: (-item[1], item[0]))
    return Coverage(
        tuple(JudgeLoad(j, a, d) for j, (a, d) in sorted(loads.items())),
        below,
        tuple(spread[:20]),
    )
