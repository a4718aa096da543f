"""Judges' scores: quality 1–10 and a comment per entry and judge; the latest one counts.

Each score is saved twice in one transaction: in `entry_score`, which the dashboard's pages
read, and as the judge's `judge_score` on "quality", which judging is computed from. Nothing a
judge typed is in one and not the other.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from loguru import logger
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import require_aware
from bot.dashboard.params import plain_int
from bot.dashboard.store import COMMENT_MAX, QUALITY_MAX, QUALITY_MIN, EntryScore
from bot.judging.models import QUALITY, JudgeScore
from bot.refusal import Refusal
from bot.storage.db import Sessions, write_transaction
from bot.submissions.book import EntryNotFound
from bot.submissions.models import Entry
from bot.submissions.states import EntryStatus


class ScoreError(Refusal):
    """A score that cannot be saved; the message is for the judge (Chinese)."""


@dataclass(frozen=True)
class Score:
    receipt: int
    judge_id: int
    quality: int
    comment: str | None
    updated_at: datetime


def clean_comment(text: str) -> str | None:
    """A comment as stored: control characters gone, at most COMMENT_MAX characters."""
    kept = "".join(
        ch if ch in "\n" or unicodedata.category(ch)[0] != "C" else " "
        for ch in unicodedata.normalize("NFC", text)
    ).strip()
    if len(kept) > COMMENT_MAX:
        raise ScoreError(f"评语过长：不能超过 {COMMENT_MAX} 个字（现在 {len(kept)} 个）。")
    return kept or None


QUALITY_RANGE = f"质量分应为 {QUALITY_MIN} 到 {QUALITY_MAX} 的整数。"
COMMENT_TOO_LONG = f"评语过长：提交的内容太大，评语不能超过 {COMMENT_MAX} 个字。"


def check_quality(quality: int) -> int:
    if not QUALITY_MIN <= quality <= QUALITY_MAX:
        raise ScoreError(QUALITY_RANGE)
    return quality


def parse_quality(text: str) -> int:
    """A quality score as typed in a form ("8"); `ScoreError` for anything but 1-10 in 0-9."""
    quality = plain_int(text, QUALITY_MAX)
    if quality is None:
        raise ScoreError(QUALITY_RANGE)
    return check_quality(quality)


async def _judge_score(session: AsyncSession, score: EntryScore) -> None:
    """The same score as judging keeps it: the judge's score on "quality" (bot/judging)."""
    row = (
        await session.exec(
            select(JudgeScore)
            .where(
                col(JudgeScore.receipt) == score.receipt,
                col(JudgeScore.judge_id) == score.judge_id,
                col(JudgeScore.criterion) == QUALITY,
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        row = JudgeScore(
            receipt=score.receipt,
            judge_id=score.judge_id,
            criterion=QUALITY,
            value=score.quality,
            updated_at=score.updated_at,
        )
    row.value, row.comment, row.updated_at = score.quality, score.comment, score.updated_at
    session.add(row)


class ScoreBook:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def set(
        self, receipt: int, *, judge_id: int, quality: int, comment: str, now: datetime
    ) -> Score:
        """Save (or replace) `judge_id`'s score of entry `receipt`."""
        require_aware(now)
        quality = check_quality(quality)
        cleaned = clean_comment(comment)
        for attempt in (1, 2):
            try:
                async with write_transaction(self._sessions) as session:
                    entry = await session.get(Entry, receipt)
                    if entry is None:
                        raise EntryNotFound(receipt)
                    if entry.status is EntryStatus.WITHDRAWN:
                        raise ScoreError(f"#{receipt} 已撤回，不能评分。")
                    row = (
                        await session.exec(
                            select(EntryScore)
                            .where(
                                col(EntryScore.receipt) == receipt,
                                col(EntryScore.judge_id) == judge_id,
                            )
                            .with_for_update()
                        )
                    ).first()
                    if row is None:
                        row = EntryScore(
                            receipt=receipt, judge_id=judge_id, quality=0, updated_at=now
                        )
                    row.quality, row.comment, row.updated_at = quality, cleaned, now
                    session.add(row)
                    await _judge_score(session, row)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                # The same judge saved twice at once (two tabs): the other insert won; update it.
        logger.info("评委 {} 给 #{} 评了 {} 分", judge_id, receipt, quality)
        return Score(receipt, judge_id, quality, cleaned, now)
