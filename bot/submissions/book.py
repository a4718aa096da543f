"""Submitted entries (作品): accept, withdraw, correct, count against quotas, list and rank.

Plain values in, plain values out: links arrive already checked and normalised (`NewLink`,
see bot.submissions.links), the unit as a `UnitView`, the time as an aware datetime.

What the database guarantees, not this code:
- one entry per link: `entry.url` is unique, so two secretaries submitting the same link at
  the same moment end with one entry; the loser's insert fails and is answered as a duplicate
  of the winner;
- receipts without gaps: the number comes from the one-row `receipt_counter`, bumped in the
  inserting transaction; a refused or rolled-back insert takes its number back with it;
- nothing accepted is lost: each link is committed in its own transaction before `submit`
  returns, so a crash before the reply loses no receipt already handed out, and one refused
  link never takes the others of the same message down with it.

Decisions:
- a withdrawn link submitted again by its own unit is restored under its old receipt
  (`Accepted(restored=True)`), keeping its original submission time and late mark;
- a withdrawn link submitted by *another* unit is a `Duplicate(withdrawn=True)`: the receipt
  stays in the first unit's history. An organizer can hand it over with `move` (which
  restores it), so nobody is stuck;
- withdrawn entries stay in the table with who withdrew them and when; they leave the count.
Every change to an existing entry (withdraw, restore, author, move, verification) writes a
ChangeLog row in the same transaction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from loguru import logger
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import require_aware
from bot.names import clean_name
from bot.refusal import NotFound, Refusal
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction
from bot.submissions.models import (
    AUTHOR_MAX,
    TITLE_MAX,
    URL_MAX,
    Entry,
    ReceiptCounter,
)
from bot.submissions.shapes import link_flags
from bot.submissions.states import LINK_FLAGS, EntryKind, EntryStatus, Flag, VerifyStatus
from bot.units.directory import UnitDirectory, UnitView

_FORBIDDEN_IN_AUTHORS = set("[]&<>@#/\\")


# ------------------------------------------------------------------------ values


@dataclass(frozen=True)
class NewLink:
    """A link that passed bot.submissions.links: `url` normalised, `given` as the user wrote it."""

    url: str
    given: str
    platform: str
    kind: EntryKind
    author: str | None = None
    # The platform's display name ("新浪微博"); the host suffix is shown when empty.
    platform_name: str = ""


@dataclass(frozen=True)
class Accepted:
    receipt: int
    url: str
    # True when a withdrawn entry of the same unit came back under its old receipt.
    restored: bool = False


@dataclass(frozen=True)
class Duplicate:
    """The link is already an entry: `receipt` of `unit_name` (maybe the submitter's own)."""

    url: str
    receipt: int
    unit_name: str
    same_unit: bool = False
    # The earlier entry was withdrawn by another unit: only an organizer can move it over.
    withdrawn: bool = False


@dataclass(frozen=True)
class Refused:
    url: str
    reason: str


Outcome = Accepted | Duplicate | Refused


@dataclass(frozen=True)
class EntryView:
    """Everything replies and exports show about an entry."""

    receipt: int
    unit_id: int
    unit_name: str
    author: str | None
    url: str
    given_url: str
    platform: str
    platform_name: str
    kind: EntryKind
    status: EntryStatus
    late: bool
    submitted_by: int | None
    submitted_at: datetime
    withdrawn_by: int | None
    withdrawn_at: datetime | None
    source_group: int | None
    source_message_id: int | None
    verify_status: VerifyStatus
    title: str | None
    text_length: int | None
    published_on: date | None
    verified_at: datetime | None
    flags: tuple[Flag, ...]
    fingerprint: str | None = None
    snapshot: Mapping[str, Any] | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def withdrawn(self) -> bool:
        return self.status is EntryStatus.WITHDRAWN


@dataclass(frozen=True)
class Progress:
    """A unit's count against its quota. `accepted` includes late and flagged entries."""

    unit_id: int
    unit: str
    category: str
    quota: int | None
    accepted: int = 0
    late: int = 0
    flagged: int = 0

    @property
    def completion(self) -> float:
        """accepted / quota (may exceed 1); 1.0 for a unit without a positive quota."""
        if not self.quota:
            return 1.0
        return self.accepted / self.quota

    @property
    def behind(self) -> bool:
        return self.quota is not None and self.accepted < self.quota


@dataclass(frozen=True)
class AuthorRank:
    author: str
    unit: str
    count: int


@dataclass(frozen=True)
class Ranking:
    units: list[Progress]
    authors: list[AuthorRank]


@dataclass(frozen=True)
class WithdrawResult:
    entry: EntryView
    progress: Progress


# ------------------------------------------------------------------------ errors


class EntryError(Refusal):
    """An entry command that cannot be done; the message is for the user (Chinese)."""


RECEIPT_NOT_FOUND = "没有找到回执 #{ref}，请核对编号。"


class EntryNotFound(EntryError, NotFound):
    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        if isinstance(ref, int):
            message = RECEIPT_NOT_FOUND.format(ref=ref)
        else:
            message = "没有找到这个链接的提交记录，请核对链接，或改用回执编号。"
        super().__init__(message)


class NotYourEntry(EntryError):
    """The receipt belongs to another unit; which one is not said."""

    def __init__(self, receipt: int, action: str) -> None:
        self.receipt = receipt
        super().__init__(f"#{receipt} 是其他单位的作品，不能{action}。请核对回执编号。")


class AlreadyWithdrawn(EntryError):
    def __init__(self, receipt: int) -> None:
        self.receipt = receipt
        super().__init__(f"#{receipt} 已经撤回，无需重复操作。")


class InvalidAuthor(EntryError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(reason)


def clean_author(name: str) -> str:
    """An author's name as stored (NFKC, spaces collapsed); `InvalidAuthor` if unusable.

    Names appear in replies and exports: 1–20 characters, no control characters and none of
    the characters CQ codes, mentions and markup are made of.
    """
    cleaned = clean_name(name)
    if not cleaned:
        raise InvalidAuthor(name, "作者姓名不能为空。")
    if len(cleaned) > AUTHOR_MAX:
        raise InvalidAuthor(name, f"作者姓名不能超过 {AUTHOR_MAX} 个字。")
    if any(ch in _FORBIDDEN_IN_AUTHORS or unicodedata.category(ch)[0] == "C" for ch in cleaned):
        raise InvalidAuthor(name, "作者姓名只能包含文字和常用标点，不能含 [ ] & < > @ # / 等符号。")
    return cleaned


def _link_problem(link: NewLink) -> str | None:
    if not link.url or len(link.url.encode()) > URL_MAX:
        return f"链接过长（超过 {URL_MAX} 个字符），请提交作品页面的短一些的地址。"
    if link.kind not in set(EntryKind):
        raise ValueError(f"unknown entry kind {link.kind!r}")
    return None


_ACCEPTED = col(Entry.status) == EntryStatus.ACCEPTED
_ENTRY_TABLE = SQLModel.metadata.tables[Entry.__tablename__]


# ------------------------------------------------------------------------ the book


class EntryBook:
    """The entries of one contest, in the database; unit names come from the directory."""

    def __init__(self, sessions: Sessions, units: UnitDirectory) -> None:
        self._sessions = sessions
        self._units = units

    # ------------------------------------------------------------------ submit

    async def submit(
        self,
        unit: UnitView,
        links: Sequence[NewLink],
        *,
        submitted_by: int | None,
        now: datetime,
        late: bool,
        source_group: int | None = None,
        source_message_id: int | None = None,
    ) -> list[Outcome]:
        """One outcome per link, in order; each link is committed on its own."""
        require_aware(now)
        outcomes: list[Outcome] = []
        for link in links:
            outcome = await self._submit_one(
                unit,
                link,
                submitted_by=submitted_by,
                now=now,
                late=late,
                source_group=source_group,
                source_message_id=source_message_id,
            )
            outcomes.append(outcome)
        accepted = [o.receipt for o in outcomes if isinstance(o, Accepted)]
        if accepted:
            logger.info(
                "单位「{}」提交 {} 条，受理 {}（提交人 {}）",
                unit.name,
                len(links),
                ", ".join(f"#{r}" for r in accepted),
                submitted_by,
            )
        return outcomes

    async def _submit_one(
        self,
        unit: UnitView,
        link: NewLink,
        *,
        submitted_by: int | None,
        now: datetime,
        late: bool,
        source_group: int | None,
        source_message_id: int | None,
    ) -> Outcome:
        problem = _link_problem(link)
        if problem is not None:
            return Refused(link.url, problem)
        try:
            author = clean_author(link.author) if link.author is not None else None
        except InvalidAuthor as error:
            return Refused(link.url, str(error))
        try:
            async with write_transaction(self._sessions) as session:
                existing = await _by_url(session, link.url)
                if existing is not None:
                    return await self._resubmitted(
                        session, existing, unit, author, submitted_by, now
                    )
                receipt = await _next_receipt(session)
                session.add(
                    Entry(
                        receipt=receipt,
                        url=link.url,
                        given_url=link.given,
                        platform=link.platform,
                        platform_name=link.platform_name or link.platform,
                        kind=link.kind,
                        unit_id=unit.id,
                        author=author,
                        submitted_by=submitted_by,
                        submitted_at=now,
                        late=late,
                        status=EntryStatus.ACCEPTED,
                        source_group=source_group,
                        source_message_id=source_message_id,
                        verify_status=VerifyStatus.PENDING,
                        flags=[f.value for f in link_flags(link.url)],
                        flagged=bool(link_flags(link.url)),
                    )
                )
                await session.flush()
        except IntegrityError:
            # Someone committed the same link between our look-up and our insert; ours rolled
            # back (and its receipt number with it). Answer with theirs.
            async with self._sessions() as session:
                existing = await _by_url(session, link.url)
            if existing is None:
                raise
            return self._duplicate(existing, unit)
        return Accepted(receipt, link.url)

    async def _resubmitted(
        self,
        session: AsyncSession,
        existing: Entry,
        unit: UnitView,
        author: str | None,
        actor: int | None,
        now: datetime,
    ) -> Outcome:
        if existing.status is not EntryStatus.WITHDRAWN or existing.unit_id != unit.id:
            return self._duplicate(existing, unit)
        values: dict[str, Any] = {
            "status": EntryStatus.ACCEPTED,
            "withdrawn_by": None,
            "withdrawn_at": None,
        }
        if author is not None:
            values["author"] = author
        restored = await session.exec(
            sa.update(Entry)
            .where(
                col(Entry.receipt) == existing.receipt,
                col(Entry.status) == EntryStatus.WITHDRAWN,
            )
            .values(**values)
        )
        if restored.rowcount != 1:  # restored by a concurrent submission: it counts once
            return self._duplicate(existing, unit, withdrawn=False)
        detail = {
            "receipt": existing.receipt,
            "unit": unit.name,
            "withdrawn_by": existing.withdrawn_by,
            "withdrawn_at": existing.withdrawn_at.isoformat() if existing.withdrawn_at else None,
        }
        session.add(ChangeLog(at=now, actor=actor, action="entry.restore", detail=detail))
        logger.info("回执 #{} 已恢复（单位「{}」，操作人 {}）", existing.receipt, unit.name, actor)
        return Accepted(existing.receipt, existing.url, restored=True)

    def _duplicate(
        self, existing: Entry, unit: UnitView, *, withdrawn: bool | None = None
    ) -> Duplicate:
        return Duplicate(
            url=existing.url,
            receipt=existing.receipt,
            unit_name=self._unit_name(existing.unit_id),
            same_unit=existing.unit_id == unit.id,
            withdrawn=existing.status is EntryStatus.WITHDRAWN if withdrawn is None else withdrawn,
        )

    # ------------------------------------------------------------------ changes

    async def withdraw(
        self, ref: int | str, *, actor: int | None, unit_id: int | None, now: datetime
    ) -> WithdrawResult:
        """Withdraw the entry `ref` (receipt, or normalised link); `unit_id` None: organizer."""
        require_aware(now)
        async with write_transaction(self._sessions) as session:
            row = await _locked(session, ref)
            if unit_id is not None and row.unit_id != unit_id:
                raise NotYourEntry(row.receipt, "撤回")
            if row.status is EntryStatus.WITHDRAWN:
                raise AlreadyWithdrawn(row.receipt)
            row.status = EntryStatus.WITHDRAWN
            row.withdrawn_by = actor
            row.withdrawn_at = now
            session.add(row)
            detail = {"receipt": row.receipt, "unit": self._unit_name(row.unit_id), "url": row.url}
            session.add(ChangeLog(at=now, actor=actor, action="entry.withdraw", detail=detail))
        logger.info("回执 #{} 已撤回（操作人 {}）", row.receipt, actor)
        view = self._view(row)
        return WithdrawResult(view, await self.progress_of(row.unit_id))

    async def set_author(
        self, receipt: int, name: str, *, actor: int | None, unit_id: int | None, now: datetime
    ) -> EntryView:
        """Correct the author of `receipt`; `unit_id` None: organizer (any unit)."""
        require_aware(now)
        author = clean_author(name)
        async with write_transaction(self._sessions) as session:
            row = await _locked(session, receipt)
            if unit_id is not None and row.unit_id != unit_id:
                raise NotYourEntry(row.receipt, "修改")
            before = row.author
            row.author = author
            session.add(row)
            detail = {"receipt": row.receipt, "author": author, "previous": before}
            session.add(ChangeLog(at=now, actor=actor, action="entry.author", detail=detail))
        return self._view(row)

    async def move(
        self, receipt: int, unit: UnitView, *, actor: int | None, now: datetime
    ) -> EntryView:
        """Organizers: hand an entry to another unit; a withdrawn entry is restored with it."""
        require_aware(now)
        async with write_transaction(self._sessions) as session:
            row = await _locked(session, receipt)
            detail = {
                "receipt": row.receipt,
                "unit": unit.name,
                "previous": self._unit_name(row.unit_id),
                "was_withdrawn": row.status is EntryStatus.WITHDRAWN,
            }
            row.unit_id = unit.id
            row.status = EntryStatus.ACCEPTED
            row.withdrawn_by = None
            row.withdrawn_at = None
            session.add(row)
            session.add(ChangeLog(at=now, actor=actor, action="entry.move", detail=detail))
        logger.info("回执 #{} 已移交给「{}」（操作人 {}）", receipt, unit.name, actor)
        return self._view(row)

    async def record_verification(
        self,
        receipt: int,
        *,
        status: VerifyStatus | str,
        title: str | None,
        text_length: int | None,
        published_on: date | None,
        flags: Sequence[Flag | str],
        now: datetime,
        fingerprint: str | None = None,
        snapshot: Mapping[str, Any] | None = None,
    ) -> EntryView:
        """Store what verification found (bot.submissions.verify): status, facts and flags;
        the post's fingerprint and snapshot when the page was read (else the earlier ones stay)."""
        require_aware(now)
        if status not in set(VerifyStatus):
            raise ValueError(f"unknown verification status {status!r}")
        unknown = set(flags) - set(Flag)
        if unknown:
            raise ValueError(f"unknown flags {sorted(unknown)}")
        status = VerifyStatus(status)
        async with write_transaction(self._sessions) as session:
            row = await _locked(session, receipt)
            kept = {Flag(f) for f in row.flags if f in LINK_FLAGS}  # the link's shape: not ours
            ordered = [f for f in Flag if f in flags or f in kept]
            row.verify_status = status
            row.title = title[:TITLE_MAX] if title else None
            row.text_length = text_length
            row.published_on = published_on
            row.flags = [f.value for f in ordered]
            row.flagged = bool(ordered)
            row.verified_at = now
            if fingerprint is not None:
                row.fingerprint, row.snapshot = fingerprint, dict(snapshot or {})
            session.add(row)
            detail = {"receipt": receipt, "status": status, "flags": ordered}
            session.add(ChangeLog(at=now, actor=None, action="entry.verify", detail=detail))
        return self._view(row)

    async def set_fingerprint(
        self, receipt: int, fingerprint: str, snapshot: Mapping[str, Any], now: datetime
    ) -> None:
        """Keep what the post says now, for the next re-check (its first, for an old entry)."""
        require_aware(now)
        async with write_transaction(self._sessions) as session:
            row = await _locked(session, receipt)
            row.fingerprint, row.snapshot = fingerprint, dict(snapshot)
            session.add(row)

    async def recheck_link_shapes(self, now: datetime) -> int:
        """Give every stored entry the link-shape flags its URL earns today (shapes.link_flags):
        entries stored before a shape was known get flagged; nothing is ever withdrawn. Run at
        start-up; how many entries changed."""
        require_aware(now)
        async with self._sessions() as session:
            rows = (await session.exec(select(Entry.receipt, Entry.url, Entry.flags))).all()
        stale: dict[int, list[Flag]] = {}
        for receipt, url, flags in rows:
            wanted = set(link_flags(url))
            if {Flag(f) for f in flags if f in LINK_FLAGS} != wanted:
                stale[receipt] = list(wanted)
        for receipt, wanted in stale.items():
            async with write_transaction(self._sessions) as session:
                row = await _locked(session, receipt)
                kept = {Flag(f) for f in row.flags if f in set(Flag) and f not in LINK_FLAGS}
                ordered = [f for f in Flag if f in kept or f in wanted]
                row.flags = [f.value for f in ordered]
                row.flagged = bool(ordered)
                session.add(row)
                detail = {"receipt": receipt, "flags": ordered}
                session.add(ChangeLog(at=now, actor=None, action="entry.link_shape", detail=detail))
        return len(stale)

    async def log(
        self, action: str, detail: dict[str, Any], *, actor: int | None, now: datetime
    ) -> None:
        """A ChangeLog row for a change made of many (e.g. an import's summary)."""
        require_aware(now)
        async with write_transaction(self._sessions) as session:
            session.add(ChangeLog(at=now, actor=actor, action=action, detail=detail))

    # ------------------------------------------------------------------ reads

    async def get(self, receipt: int) -> EntryView | None:
        async with self._sessions() as session:
            row = await session.get(Entry, receipt)
        return self._view(row) if row is not None else None

    async def find(self, url: str) -> EntryView | None:
        """The entry of a normalised link, whatever its status."""
        async with self._sessions() as session:
            row = await _by_url(session, url)
        return self._view(row) if row is not None else None

    async def entries_of(
        self, unit_id: int, *, page: int = 1, per_page: int = 10
    ) -> tuple[list[EntryView], int]:
        """A page (from 1) of the unit's entries, withdrawn ones included, newest first."""
        page = max(page, 1)
        async with self._sessions() as session:
            total = (
                await session.exec(
                    select(func.count()).select_from(Entry).where(col(Entry.unit_id) == unit_id)
                )
            ).one()
            rows = (
                await session.exec(
                    select(Entry)
                    .where(col(Entry.unit_id) == unit_id)
                    .order_by(col(Entry.receipt).desc())
                    .offset((page - 1) * per_page)
                    .limit(per_page)
                )
            ).all()
        return [self._view(r) for r in rows], total

    async def all_entries(self, chunk: int = 5_000) -> list[EntryView]:
        """Every entry, withdrawn ones included, by receipt (for exports).

        Read as plain rows (no ORM objects) in chunks of `chunk`, one query each, so 100,000
        entries neither take seconds nor hold the event loop for the whole read.
        """
        table = _ENTRY_TABLE
        views: list[EntryView] = []
        last = 0
        while True:
            async with self._sessions() as session:
                query = (
                    sa.select(table)
                    .where(table.c.receipt > last)
                    .order_by(table.c.receipt)
                    .limit(chunk)
                )
                rows = (await (await session.connection()).execute(query)).all()
            views.extend(self._view(row) for row in rows)
            if len(rows) < chunk:
                return views
            last = views[-1].receipt

    async def pending_verification(self, limit: int = 100) -> list[EntryView]:
        """Accepted entries not verified yet, oldest first (re-verified at start and on demand)."""
        async with self._sessions() as session:
            rows = (
                await session.exec(
                    select(Entry)
                    .where(_ACCEPTED, col(Entry.verify_status) == VerifyStatus.PENDING)
                    .order_by(col(Entry.receipt))
                    .limit(limit)
                )
            ).all()
        return [self._view(r) for r in rows]

    async def progress(self, unit: UnitView) -> Progress:
        return (await self._counts([unit], unit_id=unit.id))[0]

    async def progress_of(self, unit_id: int) -> Progress:
        unit = self._units.get(unit_id)
        if unit is None:
            unit = UnitView(unit_id, self._unit_name(unit_id), "", (), None, "none", (), "")
        return await self.progress(unit)

    async def progress_all(self, *, ordered: bool = True) -> list[Progress]:
        """Every unit of the directory (those without entries too), behind first.

        Behind units (below quota) come first, lowest completion first; then the others; ties
        by name (`ordered=False`: in the directory's order). One query, whatever the number of
        units.
        """
        rows = await self._counts(self._units.list_units())
        if not ordered:
            return rows
        return sorted(rows, key=lambda p: (not p.behind, p.completion if p.behind else 0.0, p.unit))

    async def rank(self, top_authors: int = 10) -> Ranking:
        """Units by completion ratio (then count, then name); the top authors by entries.

        An author is a name within a unit (two 张三 in two units are two people).
        """
        units = sorted(
            await self._counts(self._units.list_units()),
            key=lambda p: (-p.completion, -p.accepted, p.unit),
        )
        count = func.count().label("n")
        query = (
            select(col(Entry.author), col(Entry.unit_id), count)
            .where(_ACCEPTED, col(Entry.author).is_not(None))
            .group_by(col(Entry.author), col(Entry.unit_id))
            # Ties: who got there first (independent of the database's collation).
            .order_by(count.desc(), func.min(col(Entry.receipt)))
            .limit(top_authors)
        )
        async with self._sessions() as session:
            rows = (await session.exec(query)).all()
        authors = [AuthorRank(a or "", self._unit_name(u), n) for a, u, n in rows]
        return Ranking(units, authors)

    async def _counts(
        self, units: Sequence[UnitView], unit_id: int | None = None
    ) -> list[Progress]:
        late = func.sum(sa.case((col(Entry.late), 1), else_=0))
        flagged = func.sum(sa.case((col(Entry.flagged), 1), else_=0))
        query = select(col(Entry.unit_id), func.count(), late, flagged).where(_ACCEPTED)
        if unit_id is not None:
            query = query.where(col(Entry.unit_id) == unit_id)
        query = query.group_by(col(Entry.unit_id))
        async with self._sessions() as session:
            counts = {
                u: (n, lt or 0, fl or 0) for u, n, lt, fl in (await session.exec(query)).all()
            }
        result: list[Progress] = []
        for unit in units:
            n, lt, fl = counts.get(unit.id, (0, 0, 0))
            result.append(
                Progress(unit.id, unit.name, unit.category, unit.quota, int(n), int(lt), int(fl))
            )
        return result

    # ------------------------------------------------------------------ helpers

    def _unit_name(self, unit_id: int) -> str:
        unit = self._units.get(unit_id)
        return unit.name if unit is not None else f"单位 {unit_id}"

    def _view(self, row: Entry | sa.Row[Any]) -> EntryView:
        """An entry's view, from its ORM object or a plain row of the entry table."""
        return EntryView(
            receipt=row.receipt,
            unit_id=row.unit_id,
            unit_name=self._unit_name(row.unit_id),
            author=row.author,
            url=row.url,
            given_url=row.given_url,
            platform=row.platform,
            platform_name=row.platform_name,
            kind=row.kind,
            status=row.status,
            late=row.late,
            submitted_by=row.submitted_by,
            submitted_at=row.submitted_at,
            withdrawn_by=row.withdrawn_by,
            withdrawn_at=row.withdrawn_at,
            source_group=row.source_group,
            source_message_id=row.source_message_id,
            verify_status=row.verify_status,
            title=row.title,
            text_length=row.text_length,
            published_on=row.published_on,
            verified_at=row.verified_at,
            flags=tuple(Flag(f) for f in row.flags),
            fingerprint=row.fingerprint,
            snapshot=row.snapshot,
        )


# ------------------------------------------------------------------------ database helpers


async def _by_url(session: AsyncSession, url: str) -> Entry | None:
    return (await session.exec(select(Entry).where(col(Entry.url) == url))).first()


async def _locked(session: AsyncSession, ref: int | str) -> Entry:
    """The entry `ref` (receipt or link), locked for update (PostgreSQL; SQLite's write
    transaction already excludes other writers). `EntryNotFound` if there is none."""
    query = select(Entry).with_for_update()
    if isinstance(ref, int):
        query = query.where(col(Entry.receipt) == ref)
    else:
        query = query.where(col(Entry.url) == ref)
    row = (await session.exec(query)).first()
    if row is None:
        raise EntryNotFound(ref)
    return row


async def _next_receipt(session: AsyncSession) -> int:
    """The next receipt number, taken inside the caller's transaction (rolled back with it)."""
    bumped = await session.exec(
        sa.update(ReceiptCounter)
        .where(col(ReceiptCounter.id) == 1)
        .values(value=col(ReceiptCounter.value) + 1)
        .returning(col(ReceiptCounter.value))
    )
    value = bumped.scalar_one_or_none()
    if value is None:  # pragma: no cover - migration 0002 creates the row
        raise RuntimeError("receipt_counter has no row: was the database migrated?")
    return int(value)
