"""Re-verification before judging (复核): is every accepted post still there, public, unchanged?

Between submission and judging a post may be deleted, made private or rewritten. One run reads
every accepted entry's page again and compares it with what verification kept (the fingerprint
of its body text and a snapshot: title, first characters, image links). Each entry gets one
outcome:

- 正常 (`ok`): readable and the same; an entry verified before fingerprints were kept gets its
  fingerprint now, so the next run can compare;
- 已删除 (`gone`): HTTP 404/410, or the platform's "deleted / does not exist" notice;
- 不再公开 (`private`): it was readable at submission and now asks for a login (HTTP 401/403,
  or a login wall) — perhaps set to "仅自己可见";
- 内容有变 (`changed`): readable, but the text is not what it was;
- 无法检查 (`cannot_check`): the platform needs a login to read anything (as Weibo does), the
  site did not answer, or the address is not fetched. Never "已删除": not knowing is not gone.

Nothing is withdrawn automatically: for every flagged entry an organizer decides 保留 (keep) or
撤回 (withdraw), in chat (`/复核`) or on the dashboard, and the decision is recorded with who and
when. Runs and their outcomes stay (tables `recheck_run`, `entry_recheck`, revision 0012).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from loguru import logger
from sqlmodel import Field, SQLModel, col, select

from bot.clock import require_aware
from bot.refusal import NotFound, Refusal
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction
from bot.storage.types import INT_MAX, UTCDateTime
from bot.submissions.book import AlreadyWithdrawn, EntryBook, EntryView
from bot.submissions.states import EntryStatus, VerifyStatus
from bot.submissions.verify.assess import PageFacts
from bot.submissions.verify.fetch import Verifier
from bot.submissions.verify.run import snapshot_of

BATCH = 50
DETAIL_MAX = 200
# A run that has not finished after this long was cut short (the bot stopped): another may start.
STALE_RUN = timedelta(hours=1)


class Outcome(StrEnum):
    OK = "ok"
    GONE = "gone"
    PRIVATE = "private"
    CHANGED = "changed"
    CANNOT_CHECK = "cannot_check"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    Outcome.OK: "正常",
    Outcome.GONE: "已删除",
    Outcome.PRIVATE: "不再公开",
    Outcome.CHANGED: "内容有变",
    Outcome.CANNOT_CHECK: "无法检查",
}
# What an organizer must decide about; "无法检查" is listed but needs no decision.
FLAGGED = (Outcome.GONE, Outcome.PRIVATE, Outcome.CHANGED)


class Decision(StrEnum):
    KEEP = "keep"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        return "保留" if self is Decision.KEEP else "撤回"


class RecheckRun(SQLModel, table=True):
    __tablename__: ClassVar[Any] = "recheck_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    started_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    total: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    counts: dict[str, int] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False)
    )


class EntryRecheck(SQLModel, table=True):
    __tablename__: ClassVar[Any] = "entry_recheck"
    __table_args__: ClassVar[Any] = (
        sa.UniqueConstraint("run", "receipt"),
        sa.CheckConstraint(
            "outcome IN ('ok', 'gone', 'private', 'changed', 'cannot_check')", name="outcome"
        ),
        sa.CheckConstraint("decision IS NULL OR decision IN ('keep', 'withdraw')", name="decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("recheck_run.id"), nullable=False)
    )
    receipt: int = Field(
        sa_column=sa.Column(
            sa.Integer(), sa.ForeignKey("entry.receipt"), nullable=False, index=True
        )
    )
    outcome: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    detail: str = Field(sa_column=sa.Column(sa.String(DETAIL_MAX), nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    after: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    checked_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    decision: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    decided_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    decided_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


@dataclass(frozen=True)
class RunView:
    id: int
    started_at: datetime
    started_by: int | None
    finished_at: datetime | None
    total: int
    counts: Mapping[str, int]

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def summary(self) -> str:
        """ "复核完成：共 120 篇；已删除 2、不再公开 1、内容有变 3、无法检查 40、正常 74。"."""
        parts = [
            f"{outcome.label} {self.counts.get(outcome, 0)}"
            for outcome in (*FLAGGED, Outcome.CANNOT_CHECK, Outcome.OK)
        ]
        head = "复核完成" if self.finished else "复核进行中"
        return f"{head}：共 {self.total} 篇；" + "、".join(parts) + "。"


@dataclass(frozen=True)
class RecheckView:
    run: int
    receipt: int
    outcome: Outcome
    detail: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    checked_at: datetime
    decision: Decision | None
    decided_by: int | None
    decided_at: datetime | None

    @property
    def line(self) -> str:
        """ "#17 已删除：页面不存在（404）【已撤回】"."""
        mark = f"【已{self.decision.label}】" if self.decision else ""
        return f"#{self.receipt} {self.outcome.label}：{self.detail}{mark}"


class RecheckBusy(Refusal):
    def __init__(self, run: RunView) -> None:
        super().__init__(f"复核正在进行（已开始于 {run.started_at:%H:%M} UTC），完成后会告诉您。")


class NothingToDecide(NotFound):
    def __init__(self, receipt: int) -> None:
        super().__init__(f"#{receipt} 在最近一次复核里没有问题，不需要决定。")


# --- deciding what a re-read page means (pure) -----------------------------------------------


def classify(entry: EntryView, facts: PageFacts) -> tuple[Outcome, str]:
    """The outcome of reading `entry`'s page again, and a short Chinese detail."""
    was_public = entry.verify_status is VerifyStatus.OK or entry.fingerprint is not None
    if facts.gone:
        return Outcome.GONE, facts.detail
    if facts.status == VerifyStatus.NOT_VERIFIABLE or facts.http_status == 403:
        if was_public and facts.detail.startswith("需要登录"):
            return Outcome.PRIVATE, "提交时可以公开查看，现在需要登录，可能已设为不公开"
        if was_public and facts.http_status == 403:
            return Outcome.PRIVATE, "提交时可以公开查看，现在拒绝访问（403），可能已设为不公开"
        return Outcome.CANNOT_CHECK, facts.detail
    if facts.status != VerifyStatus.OK:
        return Outcome.CANNOT_CHECK, facts.detail
    if entry.fingerprint is None or facts.fingerprint is None:
        return Outcome.OK, "可以打开（首次记录内容，下次复核可比较）"
    if facts.fingerprint == entry.fingerprint:
        return Outcome.OK, "可以打开，内容未变"
    return Outcome.CHANGED, _what_changed(entry, facts)


def _what_changed(entry: EntryView, facts: PageFacts) -> str:
    before = entry.snapshot or {}
    changes: list[str] = []
    if (before.get("title") or None) != (facts.title or None):
        changes.append(f"标题「{_short(before.get('title'))}」→「{_short(facts.title)}」")
    lengths = (entry.text_length, facts.text_length)
    if None not in lengths and lengths[0] != lengths[1]:
        changes.append(f"正文 {entry.text_length} 字 → {facts.text_length} 字")
    if list(before.get("images") or []) != list(facts.images):
        changes.append("图片有变")
    return "；".join(changes) or "正文有改动"


def _short(text: object, limit: int = 20) -> str:
    value = str(text or "无标题")
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- the store --------------------------------------------------------------------------------


def _run_view(row: RecheckRun) -> RunView:
    assert row.id is not None
    return RunView(row.id, row.started_at, row.started_by, row.finished_at, row.total, row.counts)


def _view(row: EntryRecheck) -> RecheckView:
    return RecheckView(
        row.run,
        row.receipt,
        Outcome(row.outcome),
        row.detail,
        row.before,
        row.after,
        row.checked_at,
        Decision(row.decision) if row.decision else None,
        row.decided_by,
        row.decided_at,
    )


class RecheckBook:
    """Re-check runs and their outcomes, in the database."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def latest_run(self) -> RunView | None:
        query = select(RecheckRun).order_by(col(RecheckRun.id).desc()).limit(1)
        async with self._sessions() as session:
            row = (await session.exec(query)).first()
        return _run_view(row) if row is not None else None

    async def start_run(self, total: int, actor: int | None, now: datetime) -> RunView:
        """A new run; `RecheckBusy` while another started less than an hour ago is running."""
        require_aware(now)
        async with write_transaction(self._sessions) as session:
            last = (
                await session.exec(select(RecheckRun).order_by(col(RecheckRun.id).desc()).limit(1))
            ).first()
            if last is not None and last.finished_at is None and now - last.started_at < STALE_RUN:
                raise RecheckBusy(_run_view(last))
            row = RecheckRun(started_at=now, started_by=actor, total=total, counts={})
            session.add(row)
            await session.flush()
            session.add(
                ChangeLog(at=now, actor=actor, action="recheck.start", detail={"run": row.id})
            )
        return _run_view(row)

    async def record(
        self,
        run: int,
        entry: EntryView,
        outcome: Outcome,
        detail: str,
        after: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        row = EntryRecheck(
            run=run,
            receipt=entry.receipt,
            outcome=outcome.value,
            detail=detail[:DETAIL_MAX],
            before=dict(entry.snapshot) if entry.snapshot else None,
            after=dict(after) if after else None,
            checked_at=now,
        )
        async with write_transaction(self._sessions) as session:
            session.add(row)

    async def finish_run(self, run: int, counts: Mapping[str, int], now: datetime) -> RunView:
        async with write_transaction(self._sessions) as session:
            row = await session.get(RecheckRun, run)
            assert row is not None
            row.finished_at, row.counts = now, dict(counts)
            session.add(row)
        return _run_view(row)

    async def outcomes(
        self, run: int | None = None, *, flagged_only: bool = True
    ) -> list[RecheckView]:
        """The outcomes of a run (the latest when None), flagged ones first by receipt."""
        if run is None:
            latest = await self.latest_run()
            if latest is None:
                return []
            run = latest.id
        query = select(EntryRecheck).where(col(EntryRecheck.run) == run)
        if flagged_only:
            query = query.where(col(EntryRecheck.outcome).in_([o.value for o in FLAGGED]))
        async with self._sessions() as session:
            rows = (await session.exec(query.order_by(col(EntryRecheck.receipt)))).all()
        return [_view(row) for row in rows]

    async def decide(
        self,
        receipt: int,
        decision: Decision,
        *,
        entries: EntryBook,
        actor: int | None,
        now: datetime,
    ) -> RecheckView:
        """Keep or withdraw an entry the latest run flagged; withdrawing goes through the book
        (logged like any withdrawal). Deciding again replaces the decision."""
        require_aware(now)
        if not 0 < receipt <= INT_MAX:  # the column is 32-bit: no such entry
            raise NothingToDecide(receipt)
        latest = await self.latest_run()
        if latest is None:
            raise NotFound("还没有复核过；请先发送 /复核 开始。")
        query = select(EntryRecheck).where(
            col(EntryRecheck.run) == latest.id, col(EntryRecheck.receipt) == receipt
        )
        async with self._sessions() as session:
            row = (await session.exec(query)).first()
        if row is None or Outcome(row.outcome) not in FLAGGED:
            raise NothingToDecide(receipt)
        entry = await entries.get(receipt)
        if decision is Decision.KEEP and entry is not None and entry.withdrawn:
            raise Refusal(f"#{receipt} 已撤回；如需恢复，请在后台“作品”页点“恢复”。")
        if decision is Decision.WITHDRAW:
            with contextlib.suppress(AlreadyWithdrawn):
                await entries.withdraw(receipt, actor=actor, unit_id=None, now=now)
        async with write_transaction(self._sessions) as session:
            stored = await session.get(EntryRecheck, row.id)
            assert stored is not None
            stored.decision, stored.decided_by, stored.decided_at = decision.value, actor, now
            session.add(stored)
            detail = {"receipt": receipt, "run": latest.id, "decision": decision.value}
            session.add(ChangeLog(at=now, actor=actor, action="recheck.decide", detail=detail))
        logger.info("复核 #{}：{}（{}）", receipt, decision.label, actor)
        return _view(stored)


# --- a run ------------------------------------------------------------------------------------


async def recheck_all(
    entries: EntryBook,
    verifier: Verifier,
    store: RecheckBook,
    clock: Callable[[], datetime],
    *,
    actor: int | None,
    batch: int = BATCH,
) -> RunView:
    """Read every accepted entry's page again and record each outcome; the finished run."""
    accepted = [e for e in await entries.all_entries() if e.status is EntryStatus.ACCEPTED]
    run = await store.start_run(len(accepted), actor, clock())
    counts: Counter[str] = Counter()
    for start in range(0, len(accepted), batch):
        chunk: Sequence[EntryView] = accepted[start : start + batch]
        facts = await verifier.fetch_many(entry.url for entry in chunk)
        for entry in chunk:
            found = facts[entry.url]
            outcome, detail = classify(entry, found)
            after = snapshot_of(found) if found.fingerprint else None
            if outcome is Outcome.OK and entry.fingerprint is None and found.fingerprint:
                await entries.set_fingerprint(
                    entry.receipt, found.fingerprint, after or {}, clock()
                )
            await store.record(run.id, entry, outcome, detail, after, clock())
            counts[outcome.value] += 1
    finished = await store.finish_run(run.id, counts, clock())
    logger.info("复核 #{} 完成：{}", run.id, finished.summary())
    return finished
