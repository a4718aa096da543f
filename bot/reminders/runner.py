"""Sends the automatic reminders when they are due: once, and never lost across restarts.

The plan (`bot.reminders.plan`) says which slots exist and which one is due; this module does
the stateful half. Every send is claimed in the database first (`ReminderStore.claim`, a unique
row per target and slot), so a restart or a second bot process on the same database never
sends a slot again; the row then records the outcome.

- `start(now)` re-plans from the contest (changed offsets or deadline apply; keys already in
  the database stay done) and runs the first `tick`.
- `tick(now)` sends what is due — of several missed slots only the most recent, marked late,
  the rest recorded as skipped — retries failed sends whose time has come, and returns when it
  wants to be called next.
- A failed send (`Delivery.ok` False: OneBot refused it, or no bot is connected) is retried
  with backoff until it goes through, unless a newer slot of the same target is claimed first
  (that one supersedes it: at most one reminder is ever pending per target) or it stops making
  sense (a reminder after the deadline, a closing message after the grace).
- A retry resumes after the messages already delivered; only a message OneBot reported as
  failed that in fact arrived can be repeated.

Decisions:
- Rows are keyed by the plan's slot keys, which carry the deadline for offset reminders and
  the closing message: after the deadline is moved, "1 day before" is a new reminder;
  rewriting "72h" as "3d" is not.
- Paused (`/提醒 暂停`): every automatic slot that comes due is recorded as skipped with reason
  "paused" and never sent later, the closing message and the organizers' summary included;
  resuming applies to the slots after it; a failed send waiting for its retry is dropped
  too. A pause is an organizer's deliberate choice, so nothing piles up behind it.
- A process killed in the middle of a send leaves its row "sending"; after `LEASE` it becomes
  "abandoned" and is not retried — the message may well have arrived, and never twice comes
  first. (The window is the few milliseconds between the claim and OneBot's answer.)
- A send OneBot never answered (the call timed out) may have been shown. The group's history
  is searched for it (`confirm`, see bot.messages.history): found, it counts as sent; provably
  absent, it is retried like any failure; otherwise the row becomes "abandoned" (reason
  "unanswered"), nothing is resent, and the organizers are told privately that they can use
  `/提醒 立即`. The same notice follows a row abandoned after a crash.
- `send_now` (`/提醒 立即`) ignores quiet hours and the pause, goes through the same sender
  (pacing, @ cap), is recorded as a "manual" row, and neither consumes nor supersedes a slot.
- With `private` on, an offset reminder is also sent privately to each behind unit's
  secretaries (claimed once per slot, whatever the number of groups); the closing message
  brings a private summary to the organizers. A private message QQ refuses (not a friend) is
  logged and passed over; only "no connection" makes these wait for a retry.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loguru import logger

from bot.messages.history import FOUND, Verdict
from bot.messages.outbox import Delivery, SendFailed
from bot.messages.parts import Part, Target, Text
from bot.reminders.compose import (
    closing_message,
    digest_message,
    organizer_summary,
    preview_text,
    reminder_messages,
    unit_status,
)
from bot.reminders.plan import LATE_TOLERANCE, Slot, catch_up, next_due, plan
from bot.reminders.store import (
    ORGANIZERS_TARGET,
    SECRETARIES_TARGET,
    PauseState,
    ReminderStore,
    SendRecord,
    group_target,
)
from bot.settings.contest import Contest
from bot.storage.db import Sessions
from bot.submissions.book import EntryBook, Progress
from bot.units.directory import UnitDirectory

Sender = Callable[[Target, Sequence[Part]], Awaitable[Delivery]]
"""Sends one message through the outbox to a target; the plugin layer provides it."""

Confirm = Callable[[Target, SendFailed], Awaitable[Verdict | None]]
"""Whether a send that was never answered was shown after all (from the group's history)."""

# Waits between attempts of a failed send: 5 s, 10 s, 20 s, 40 s, then every minute.
BACKOFF: tuple[timedelta, ...] = tuple(timedelta(seconds=s) for s in (5, 10, 20, 40, 60))
# How long a send may stay "sending" before its process is taken for dead.
LEASE = timedelta(minutes=15)
NO_SENDER = "没有已连接的 OneBot 账号"
# `abandoned` rows: why the outcome is unknown.
UNANSWERED = "unanswered"
INTERRUPTED = "interrupted"
MAYBE_DELIVERED = (
    "提醒可能未送达：发往群 {group} 的提醒没有收到 QQ 端的回应，也无法从聊天记录确认。"
    "为避免重复 @ 各单位，机器人没有重发；如群里没有这条提醒，请发送 /提醒 立即 补发。"
)


def slot_label(slot: Slot) -> str:
    """A slot for the log, without repeating its date: "每日汇总", "截止前 3d 提醒"."""
    if slot.kind == "daily":
        return "每日汇总"
    if slot.kind == "closing":
        return "截止通知"
    return f"截止前 {slot.key.split('@')[0].removeprefix('offset:')} 提醒"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1-based)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class Piece:
    """One message of a reminder to one target."""

    target: Target
    parts: Sequence[Part]
    # A private message: QQ refusing it (not a friend) does not hold the rest back.
    private: bool = False


@dataclass(frozen=True)
class ManualResult:
    """What `/提醒 立即` did, per group."""

    delivered: tuple[int, ...]
    failed: tuple[tuple[int, str], ...]
    messages: int
    # Groups whose send went unanswered and could not be confirmed: maybe shown, not resent.
    unconfirmed: tuple[int, ...] = ()


async def _no_sender(target: Target, parts: Sequence[Part]) -> Delivery:
    return Delivery(target, ok=False, failed=SendFailed(None, NO_SENDER))


def _anyone(target: str) -> bool:
    return True


async def _no_history(target: Target, error: SendFailed) -> Verdict | None:
    return None


class ReminderRunner:
    """The automatic reminders of one contest, over one database."""

    def __init__(
        self,
        contest: Contest,
        sessions: Sessions,
        units: UnitDirectory,
        entries: EntryBook,
        *,
        notify: Sequence[int] = (),
        sender: Sender | None = None,
        confirm: Confirm | None = None,
        owner: str | None = None,
    ) -> None:
        self.contest = contest
        self.policy = contest.reminders
        self.store = ReminderStore(sessions)
        self.units = units
        self.entries = entries
        self.notify = tuple(notify)
        self.sender: Sender = sender or _no_sender
        self.confirm: Confirm = confirm or _no_history
        # Whether this process should take on a target (several processes, several accounts:
        # only one with an account in the group claims its reminders; see bot.accounts).
        self.deliverable: Callable[[str], bool] = _anyone
        # Identifies this process's claims in the database (for the logs and the lease).
        self.owner = owner or uuid.uuid4().hex[:12]
        self.slots: list[Slot] = plan(contest, self.policy)
        self.started = False
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ scheduling

    @property
    def deadline(self) -> datetime:
        return self.contest.deadline

    def _key(self, slot: Slot) -> str:
        return slot.key

    def _group_targets(self) -> list[str]:
        """The served groups' targets this process takes on."""
        targets = [group_target(g) for g in sorted(self.contest.groups)]
        return [t for t in targets if self.deliverable(t)]

    async def start(self, now: datetime) -> datetime | None:
        """Re-plan from the contest, then send what is due (catch-up); the next wake time."""
        self.slots = plan(self.contest, self.policy)
        self.started = True
        upcoming = [s for s in self.slots if s.due > now]
        logger.info(
            "自动提醒：共 {} 个，尚未到期 {} 个；下一个：{}",
            len(self.slots),
            len(upcoming),
            f"{slot_label(upcoming[0])} {self.contest.local(upcoming[0].due):%m-%d %H:%M}"
            if upcoming
            else "无",
        )
        return await self.tick(now)

    async def tick(self, now: datetime) -> datetime | None:
        """Send what is due and retry what failed; when to call `tick` next (None: never)."""
        async with self._lock:
            abandoned = await self.store.abandon_stale(now - LEASE, now)
            for row in abandoned:
                logger.warning(
                    "提醒 {} → {} 发送中断（进程退出？），结果未知，不再重发", row.key, row.target
                )
                await self._tell_organizers(row)
            paused = (await self.store.pause_state()).paused
            wake: list[datetime] = []
            for target in self._group_targets():
                at = await self._due_for(target, now, paused=paused)
                if at is not None:
                    wake.append(at)
            for row in await self.store.due_retries(now):
                if not self.deliverable(row.target):
                    continue  # a process with an account in that group retries it
                if paused:
                    await self.store.finish(row.id, now, "skipped", reason="paused")
                    logger.info("提醒 {} → {}：自动提醒已暂停，不再重试", row.key, row.target)
                else:
                    await self._retry(row, now)
            keys = await self.store.keys_by_target(self._group_targets())
            for target in self._group_targets():
                done = self._done(keys[target])
                upcoming = next_due(self.slots, now, done)
                if upcoming is not None:
                    wake.append(upcoming.due)
            retries = [
                r.next_try_at
                for r in await self.store.pending()
                if r.next_try_at is not None and self.deliverable(r.target)
            ]
            if retries:
                wake.append(max(min(retries), now))
            return min(wake, default=None)

    def _done(self, db_keys: set[str]) -> set[str]:
        return {s.key for s in self.slots if self._key(s) in db_keys}

    async def _due_for(self, target: str, now: datetime, *, paused: bool) -> datetime | None:
        """Handle the slots already due for one group; a later wake time if one must wait."""
        db_keys = (await self.store.keys_by_target([target]))[target]
        choice = catch_up(
            self.slots,
            now,
            self._done(db_keys),
            grace=self.policy.catch_up_grace,
            quiet=self.policy.quiet_hours,
            tz=self.contest.timezone,
        )
        reason = "paused" if paused else "missed"
        for slot in choice.skip:
            if await self.store.record(
                target,
                self._key(slot),
                kind=slot.kind,
                due=slot.due,
                now=now,
                status="skipped",
                reason=reason,
            ):
                logger.info("提醒 {} → {} 已错过，跳过", slot.key, target)
        slot = choice.send
        if slot is None:
            return None
        if paused:
            await self.store.record(
                target,
                self._key(slot),
                kind=slot.kind,
                due=slot.due,
                now=now,
                status="skipped",
                reason="paused",
            )
            logger.info("提醒 {} → {}：自动提醒已暂停，跳过", slot.key, target)
            return None
        if choice.at is not None and choice.at > now:
            return choice.at  # found during quiet hours: wait for their end
        await self.send_slot(slot, now, late=choice.late, target=target)
        return None

    async def send_slot(
        self,
        slot: Slot,
        now: datetime,
        *,
        late: bool,
        target: str,
        sender: Sender | None = None,
    ) -> SendRecord | None:
        """Claim `slot` for `target` and send it; None when it was claimed already.

        The companions follow a group's claim: the secretaries' private messages (offset
        reminders, with `private` on) and the organizers' summary (closing message).
        """
        record = await self.store.claim(
            target,
            self._key(slot),
            kind=slot.kind,
            due=slot.due,
            now=now,
            owner=self.owner,
            late=late,
        )
        if record is None:
            logger.debug("提醒 {} → {} 已由其他进程认领", slot.key, target)
            return None
        result = await self._attempt(record, now, sender)
        companions: list[str] = []
        if slot.kind == "offset" and self.policy.private:
            companions.append(SECRETARIES_TARGET)
        if slot.kind == "closing":
            companions.append(ORGANIZERS_TARGET)
        for companion in companions:
            extra = await self.store.claim(
                companion,
                self._key(slot),
                kind=slot.kind,
                due=slot.due,
                now=now,
                owner=self.owner,
                late=late,
            )
            if extra is not None:
                await self._attempt(extra, now, sender)
        return result

    # ------------------------------------------------------------------ sending

    async def _attempt(
        self,
        record: SendRecord,
        now: datetime,
        sender: Sender | None = None,
        confirm: Confirm | None = None,
    ) -> SendRecord:
        """One attempt at a claimed row: send the pieces not yet delivered, record the outcome."""
        send = sender or self.sender
        pieces = await self._pieces(record, now)
        done = record.pieces_sent
        failure: SendFailed | None = None
        unknown: SendFailed | None = None
        for piece in pieces[done:]:
            delivery = await send(piece.target, piece.parts)
            if not delivery.ok:
                error = delivery.failed or SendFailed(None, "unknown")
                verdict = await self._confirm(piece, error, confirm or self.confirm)
                if verdict == FOUND:
                    logger.info(
                        "提醒 {} → {} 未获回应，但已在聊天记录中找到", record.key, piece.target
                    )
                elif piece.private and (error.retcode is not None or error.unanswered):
                    logger.warning("提醒私聊 {} 未送达或未获回应（{}），跳过", piece.target, error)
                elif error.unanswered and verdict is None:
                    unknown = error
                    break
                else:
                    failure = error
                    break
            done += 1
        if unknown is not None:
            # Maybe shown: never sent again (a double @ of every secretary is worse than one
            # missing reminder); the organizers are told privately.
            await self.store.finish(
                record.id, now, "abandoned", reason=UNANSWERED, pieces_sent=done, error=str(unknown)
            )
            logger.warning(
                "提醒 {} → {} 未获回应，聊天记录中也无法确认；为免重复，不再重发",
                record.key,
                record.target,
            )
            reloaded = await self._reload(record)
            if record.kind != "manual":  # `/提醒 立即` answers its organizer itself
                await self._tell_organizers(reloaded, sender)
            return reloaded
        if failure is None:
            await self.store.finish(record.id, now, "sent", pieces_sent=done)
            logger.info(
                "提醒 {} → {} 已发送（{} 条{}）",
                record.key,
                record.target,
                len(pieces),
                "，延后" if record.late else "",
            )
            return await self._reload(record)
        if record.kind == "manual":
            await self.store.finish(
                record.id, now, "undelivered", pieces_sent=done, error=str(failure)
            )
            return await self._reload(record)
        retry_at = now + backoff(record.attempts)
        if await self.store.fail(
            record.id, now, next_try_at=retry_at, pieces_sent=done, error=str(failure)
        ):
            logger.warning(
                "提醒 {} → {} 发送失败（{}），{} 秒后重试（第 {} 次）",
                record.key,
                record.target,
                failure,
                int((retry_at - now).total_seconds()),
                record.attempts,
            )
        return await self._reload(record)

    async def _confirm(self, piece: Piece, error: SendFailed, confirm: Confirm) -> Verdict | None:
        """FOUND only when the unanswered message was the last of its piece and is in history."""
        if not error.unanswered or piece.target.kind != "group":
            return None
        try:
            verdict = await confirm(piece.target, error)
        except Exception:
            logger.exception("looking up {} in its history failed", piece.target)
            return None
        if verdict == FOUND and error.left:
            return None  # shown, but the rest of the piece was not sent: cannot resume safely
        return verdict

    async def _tell_organizers(self, row: SendRecord, sender: Sender | None = None) -> None:
        """A group reminder that may not have arrived: tell the organizers privately."""
        if not row.target.startswith("group:"):
            return
        send = sender or self.sender
        text = MAYBE_DELIVERED.format(group=row.target.removeprefix("group:"))
        for organizer in self.notify:
            delivery = await send(Target.private(organizer), [Text(text)])
            if not delivery.ok:
                logger.warning("未能私聊告知组织者 {}：{}", organizer, delivery.failed)

    async def _reload(self, record: SendRecord) -> SendRecord:
        return await self.store.get(record.target, record.key) or record

    async def _retry(self, row: SendRecord, now: datetime) -> None:
        why = self._expired(row, now)
        if why is not None:
            await self.store.finish(row.id, now, "expired", reason=why)
            logger.warning(
                "提醒 {} → {} 未能送达，已过时（{}），不再重试", row.key, row.target, why
            )
            return
        claimed = await self.store.claim_retry(row.id, now, self.owner)
        if claimed is None:
            return
        await self._attempt(claimed, now)

    def _expired(self, row: SendRecord, now: datetime) -> str | None:
        """Why a failed send is no longer worth retrying, or None."""
        if row.kind == "manual":
            return "manual"
        if not any(self._key(s) == row.key for s in self.slots):
            return "replanned"
        if row.kind == "closing":
            return "grace" if now - row.due > self.policy.catch_up_grace else None
        return "deadline" if now >= self.deadline else None

    async def _pieces(self, record: SendRecord, now: datetime) -> list[Piece]:
        progress = await self.entries.progress_all()
        late = record.late or now - record.due > LATE_TOLERANCE
        if record.target == SECRETARIES_TARGET:
            return self._secretary_pieces(progress, now)
        if record.target == ORGANIZERS_TARGET:
            summary = organizer_summary(self.contest, progress)
            return [Piece(Target.private(u), [Text(summary)], private=True) for u in self.notify]
        group = Target.group(int(record.target.removeprefix("group:")))
        if record.kind == "daily":
            return [Piece(group, [Text(digest_message(self.contest, progress, now))])]
        if record.kind == "closing":
            return [Piece(group, [Text(closing_message(self.contest, progress))])]
        # Sent on time, a reminder reads as of its due moment: the runner wakes a moment after
        # it, and "截止前 3 天" must not say "还有 2 天 23 小时".
        as_of = record.due if record.kind == "offset" and not late and record.due <= now else now
        messages = reminder_messages(
            self.contest,
            progress,
            self._secretaries(),
            as_of,
            late=late and record.kind != "manual",
            max_mentions=self.contest.messages.max_mentions,
        )
        return [Piece(group, parts) for parts in messages]

    def _secretaries(self) -> dict[int, tuple[int, ...]]:
        return {u.id: u.secretaries for u in self.units.list_units() if u.secretaries}

    def _secretary_pieces(self, progress: Sequence[Progress], now: datetime) -> list[Piece]:
        secretaries = self._secretaries()
        pieces: list[Piece] = []
        for p in sorted((p for p in progress if p.behind), key=lambda p: p.unit_id):
            text = unit_status(self.contest, p, now)
            pieces += [
                Piece(Target.private(qq), [Text(text)], private=True)
                for qq in secretaries.get(p.unit_id, ())
            ]
        return pieces

    # ------------------------------------------------------------------ organizers' commands

    async def send_now(
        self,
        now: datetime,
        actor: int | None,
        groups: Sequence[int] | None = None,
        *,
        sender: Sender | None = None,
        confirm: Confirm | None = None,
    ) -> ManualResult:
        """`/提醒 立即`: the reminder as of now, to `groups` (default: every served group).

        Goes out in quiet hours and while paused; recorded as a manual send, it neither
        consumes nor supersedes a scheduled slot.
        """
        delivered: list[int] = []
        failed: list[tuple[int, str]] = []
        unconfirmed: list[int] = []
        messages = 0
        for group_id in groups if groups is not None else sorted(self.contest.groups):
            record = await self.store.claim(
                group_target(group_id),
                f"manual:{now.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}",
                kind="manual",
                due=now,
                now=now,
                owner=self.owner,
                actor=actor,
                supersede=False,
            )
            if record is None:  # the same organizer twice in one microsecond
                continue
            result = await self._attempt(record, now, sender, confirm)
            messages += result.pieces_sent
            if result.status == "sent":
                delivered.append(group_id)
            elif result.status == "abandoned":
                unconfirmed.append(group_id)
            else:
                failed.append((group_id, result.error or ""))
        return ManualResult(tuple(delivered), tuple(failed), messages, tuple(unconfirmed))

    async def preview(self, now: datetime) -> str:
        """`/提醒 预览`: what the next automatic message would say and when (nothing sent)."""
        state = await self.store.pause_state()
        keys = await self.store.keys_by_target(self._group_targets())
        candidates = [
            s
            for t in self._group_targets()
            if (s := next_due(self.slots, now, self._done(keys[t])))
        ]
        pending = [r for r in await self.store.pending() if r.target.startswith("group:")]
        lines: list[str] = []
        if state.paused:
            lines.append("自动提醒已暂停（发送 /提醒 恢复 可恢复），到期的提醒将被跳过。")
        if pending:
            lines.append(f"另有 {len(pending)} 条提醒发送失败，正在等待重试。")
        if not candidates:
            lines.append("没有待发送的自动提醒。")
            return "\n".join(lines)
        slot = min(candidates, key=lambda s: s.due)
        progress = await self.entries.progress_all()
        lines.append(preview_text(slot, self.contest, progress, now))
        return "\n".join(lines)

    async def pause_state(self) -> PauseState:
        return await self.store.pause_state()

    async def pause(self, actor: int | None, now: datetime) -> bool:
        """Stop automatic reminders; False if they were stopped already."""
        changed = await self.store.set_paused(True, actor, now)
        if changed:
            logger.info("自动提醒已由 {} 暂停", actor)
        return changed

    async def resume(self, actor: int | None, now: datetime) -> bool:
        """Resume automatic reminders; False if they were running."""
        changed = await self.store.set_paused(False, actor, now)
        if changed:
            logger.info("自动提醒已由 {} 恢复", actor)
        return changed

    async def hurry(self, now: datetime) -> int:
        """Make every failed send due now (the connection came back); how many."""
        return await self.store.hurry(now)

    async def unit_status(self, unit_id: int, now: datetime) -> str | None:
        """`/提醒 我`: one unit's status text, or None for an unknown unit."""
        unit = self.units.get(unit_id)
        if unit is None:
            return None
        return unit_status(self.contest, await self.entries.progress(unit), now)
