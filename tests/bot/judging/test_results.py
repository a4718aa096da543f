"""Results from the database on SQLite and PostgreSQL: scores and figures in, award lists out,
every total explained; published versions frozen and numbered."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.judging.config import (
    Criterion,
    JudgingPolicy,
    Normalization,
    Scale,
    Source,
    Tier,
    UnitAward,
)
from bot.judging.metrics import MetricBook
from bot.judging.models import JudgeScore
from bot.judging.results import ResultsBook, ResultSet, compute
from bot.settings.contest import Contest
from bot.storage.db import Sessions, write_transaction
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.units.directory import UnitDirectory

POLICY = JudgingPolicy(
    criteria=(
        Criterion("quality", "质量", 80),
        Criterion("views", "阅读", 20, Source.VIEWS, Scale.LOG),
    ),
    judges_per_entry=2,
    normalization=Normalization.NONE,
    tiers=(Tier("一等奖", count=1), Tier("二等奖", count=1)),
    unit_awards=(UnitAward("优秀组织奖", 0.0, 50.0, 1),),
)


def blog(n: int, author: str | None) -> NewLink:
    return NewLink(
        url=f"https://blog.sina.com.cn/s/blog_{n:016x}.html",
        given=f"blog.sina.com.cn/s/blog_{n:016x}.html",
        platform="blog.sina.com.cn",
        kind="blog",
        author=author,
        platform_name="新浪博客",
    )


async def seed(
    sessions: Sessions, book: EntryBook, units: UnitDirectory, now: datetime
) -> list[int]:
    receipts: list[int] = []
    for unit_name, n, author in (
        ("南湖街道", 1, "张三"),
        ("南湖街道", 2, "李四"),
        ("新兴街道", 3, "王五"),
        ("新兴街道", 4, None),
    ):
        unit = units.find(unit_name).unit
        assert unit is not None
        [outcome] = await book.submit(
            unit, [blog(n, author)], submitted_by=10001, now=now, late=False
        )
        assert isinstance(outcome, Accepted)
        receipts.append(outcome.receipt)
    scores = {receipts[0]: (9, 8), receipts[1]: (6, 7), receipts[2]: (8, 8), receipts[3]: (10, 10)}
    async with write_transaction(sessions) as session:
        for receipt, values in scores.items():
            for judge, value in zip((20001, 20002), values, strict=True):
                session.add(
                    JudgeScore(
                        receipt=receipt, judge_id=judge, criterion="quality", value=value,
                        updated_at=now,
                    )
                )  # fmt: skip
    metrics = MetricBook(sessions)
    for receipt, views in ((receipts[0], 12_300), (receipts[2], 500)):
        await metrics.record(
            receipt, "views", views, measured_at=now, source="表格 a.xlsx 第 2 行", actor=None,
            now=now,
        )  # fmt: skip
    return receipts


async def test_results_trace_every_number_and_publish_in_versions(
    sessions: Sessions, book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    contest = replace(contest, judging=POLICY)
    receipts = await seed(sessions, book, units, now)

    preview = await compute(sessions, book, contest, now)

    assert preview.judged == 4
    first = preview.entries[0]
    assert first.receipt == receipts[0]  # 8.5 and the most views: 88.0
    assert first.total == 88.0
    unsigned = next(e for e in preview.entries if e.receipt == receipts[3])
    assert unsigned.line == "质量 10.0（2 位评委，平均）· 阅读 无数据（1.0 分）→ 综合 82.0"
    zhang = next(e for e in preview.entries if e.receipt == receipts[0])
    assert zhang.line.startswith("质量 8.5（2 位评委，平均）· 阅读 12,300")
    assert zhang.line.endswith(f"→ 综合 {zhang.total:.1f}")
    assert preview.formula == "综合 = (质量×80 + 阅读×20) ÷ 100 × 10，各项都是 1–10 分，满分 100"
    # The entry without an author is nobody's: listed to fix, never awarded.
    assert preview.unnamed == (receipts[3],)
    assert [(p.award, p.author) for p in preview.winners] == [
        ("一等奖", "张三"),
        ("二等奖", "王五"),
    ]
    assert [u.unit for u in preview.awarded_units] == ["新兴街道"]
    assert preview.award_counts() == {"一等奖": 1, "二等奖": 1, "优秀组织奖": 1}

    book_ = ResultsBook(sessions)
    assert await book_.current() is None
    v1 = await book_.publish(preview, actor=10000, now=now, note="  初评  结果 ")
    assert (v1.version, v1.note, v1.published_by) == (1, "初评 结果", 10000)
    assert v1.results == preview  # frozen as computed
    assert ResultSet.from_json(preview.as_json()) == preview

    # A late withdrawal: a new preview differs; the published version does not.
    await book.withdraw(receipts[0], actor=10000, unit_id=None, now=now)
    later = await compute(sessions, book, contest, now + timedelta(hours=1))
    assert receipts[0] not in [e.receipt for e in later.entries]
    assert (await book_.current()).results == preview  # type: ignore[union-attr]
    v2 = await book_.publish(later, actor=10000, now=now + timedelta(hours=1))
    assert v2.version == 2
    assert [v[0] for v in await book_.versions()] == [2, 1]
    assert (await book_.version(1)).results == preview  # type: ignore[union-attr]
    assert await book_.version(2**40) is None
    assert await book_.version(0) is None
