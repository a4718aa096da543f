from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

import bot.submissions.book
from bot.settings.contest import Contest
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, make_engine, session_maker
from bot.submissions.book import (
    Accepted,
    AlreadyWithdrawn,
    AuthorRank,
    Duplicate,
    EntryBook,
    EntryNotFound,
    InvalidAuthor,
    NewLink,
    NotYourEntry,
    Refused,
)
from bot.submissions.models import Entry
from bot.units.directory import UnitDirectory, UnitView

ORGANIZER = 10000
NANHU_SECRETARY = 10001
XINXING_SECRETARY = 10002


def link(n: int, author: str | None = None) -> NewLink:
    return NewLink(
        url=f"https://weibo.com/1234567890/Post{n}",
        given=f"http://m.weibo.cn/1234567890/Post{n}?from=share",
        platform="weibo.com",
        kind="microblog",
        author=author,
        platform_name="新浪微博",
    )


def blog(n: int) -> NewLink:
    return NewLink(
        url=f"https://blog.sina.com.cn/s/blog_{n:016x}.html",
        given=f"blog.sina.com.cn/s/blog_{n:016x}.html",
        platform="blog.sina.com.cn",
        kind="blog",
        platform_name="新浪博客",
    )


def unit(units: UnitDirectory, name: str) -> UnitView:
    found = units.find(name).unit
    assert found is not None
    return found


async def receipts_in_db(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        return list((await session.exec(select(Entry.receipt).order_by(col(Entry.receipt)))).all())


async def changes(sessions: Sessions) -> list[ChangeLog]:
    async with sessions() as session:
        return list((await session.exec(select(ChangeLog).order_by(col(ChangeLog.id)))).all())


@contextmanager
def counted_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


# ------------------------------------------------------------------ submit


async def test_accepted_links_get_consecutive_receipts(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    outcomes = await book.submit(
        unit(units, "南湖街道"),
        [link(1, "张三"), blog(2)],
        submitted_by=NANHU_SECRETARY,
        now=now,
        late=False,
        source_group=123456789,
        source_message_id=-42,
    )

    assert outcomes == [
        Accepted(1, link(1).url),
        Accepted(2, blog(2).url),
    ]
    entry = await book.get(1)
    assert entry is not None
    assert (entry.unit_name, entry.author, entry.url, entry.given_url) == (
        "南湖街道",
        "张三",
        link(1).url,
        link(1).given,
    )
    assert (entry.platform, entry.platform_name, entry.kind) == (
        "weibo.com",
        "新浪微博",
        "microblog",
    )
    assert (entry.submitted_by, entry.submitted_at, entry.late, entry.status) == (
        NANHU_SECRETARY,
        now,
        False,
        "accepted",
    )
    assert (entry.source_group, entry.source_message_id) == (123456789, -42)
    assert (entry.verify_status, entry.flags) == ("pending", ())


async def test_duplicate_names_the_earlier_receipt_and_unit(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(
        unit(units, "南湖街道"), [link(1)], submitted_by=NANHU_SECRETARY, now=now, late=False
    )

    outcomes = await book.submit(
        unit(units, "新兴街道"), [link(1)], submitted_by=XINXING_SECRETARY, now=now, late=False
    )

    assert outcomes == [Duplicate(link(1).url, 1, "南湖街道", same_unit=False)]


async def test_a_duplicate_does_not_refuse_the_other_links(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1)], submitted_by=NANHU_SECRETARY, now=now, late=False)

    outcomes = await book.submit(
        nanhu, [link(2), link(1), link(3)], submitted_by=NANHU_SECRETARY, now=now, late=False
    )

    assert outcomes == [
        Accepted(2, link(2).url),
        Duplicate(link(1).url, 1, "南湖街道", same_unit=True),
        Accepted(3, link(3).url),
    ]


async def test_receipts_have_no_gaps_after_duplicates_and_refusals(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    too_long = NewLink("https://weibo.com/" + "x" * 3000, "x", "weibo.com", "microblog")
    await book.submit(nanhu, [link(1), link(1)], submitted_by=1, now=now, late=False)
    await book.submit(nanhu, [too_long, link(1), link(2)], submitted_by=1, now=now, late=False)
    await book.submit(nanhu, [link(2), link(3)], submitted_by=1, now=now, late=False)

    assert await receipts_in_db(sessions) == [1, 2, 3]


async def test_the_same_link_twice_in_one_message_is_one_entry(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    outcomes = await book.submit(
        unit(units, "南湖街道"), [link(1), link(1)], submitted_by=1, now=now, late=False
    )

    assert outcomes == [Accepted(1, link(1).url), Duplicate(link(1).url, 1, "南湖街道", True)]


async def test_losing_the_insert_race_answers_duplicate_and_keeps_the_number(
    book: EntryBook,
    sessions: Sessions,
    units: UnitDirectory,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The look-up misses an entry committed meanwhile: the unique constraint catches it."""
    nanhu, xinxing = unit(units, "南湖街道"), unit(units, "新兴街道")
    await book.submit(nanhu, [link(1)], submitted_by=1, now=now, late=False)
    real_by_url = bot.submissions.book._by_url
    misses = iter([True])

    async def stale_by_url(session: Any, url: str) -> Entry | None:
        if next(misses, False):
            return None
        return await real_by_url(session, url)

    monkeypatch.setattr(bot.submissions.book, "_by_url", stale_by_url)

    outcomes = await book.submit(xinxing, [link(1)], submitted_by=2, now=now, late=False)
    after = await book.submit(xinxing, [link(2)], submitted_by=2, now=now, late=False)

    assert outcomes == [Duplicate(link(1).url, 1, "南湖街道")]
    assert after == [Accepted(2, link(2).url)]


async def test_concurrent_submissions_of_one_link_make_one_entry(
    database_url: str, sessions: Sessions, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    """Two bot processes (two engines), two secretaries, the same links at the same moment."""
    other_engine = make_engine(database_url)
    try:
        other_units = await UnitDirectory.load(session_maker(other_engine), contest)
        first = EntryBook(sessions, units)
        second = EntryBook(session_maker(other_engine), other_units)
        rounds = 8

        results = await asyncio.gather(
            *(
                book.submit(unit(u, name), [link(n)], submitted_by=1, now=now, late=False)
                for n in range(rounds)
                for book, u, name in ((first, units, "南湖街道"), (second, other_units, "新兴街道"))
            )
        )
    finally:
        await other_engine.dispose()

    outcomes = [o for result in results for o in result]
    accepted = [o for o in outcomes if isinstance(o, Accepted)]
    duplicates = [o for o in outcomes if isinstance(o, Duplicate)]
    assert sorted(a.url for a in accepted) == sorted(link(n).url for n in range(rounds))
    assert len(duplicates) == rounds
    by_url = {a.url: a.receipt for a in accepted}
    assert all(d.receipt == by_url[d.url] for d in duplicates)
    assert await receipts_in_db(sessions) == list(range(1, rounds + 1))


async def test_link_too_long_is_refused_with_a_reason(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    too_long = NewLink("https://weibo.com/" + "x" * 3000, "x", "weibo.com", "microblog")

    outcomes = await book.submit(
        unit(units, "南湖街道"), [too_long], submitted_by=1, now=now, late=False
    )

    assert isinstance(outcomes[0], Refused)
    assert "过长" in outcomes[0].reason
    assert await receipts_in_db(sessions) == []


async def test_an_unusable_author_refuses_only_that_link(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    outcomes = await book.submit(
        unit(units, "南湖街道"),
        [link(1, "[CQ:at,qq=all]"), link(2, "李四")],
        submitted_by=1,
        now=now,
        late=False,
    )

    assert isinstance(outcomes[0], Refused)
    assert "作者" in outcomes[0].reason
    assert outcomes[1] == Accepted(1, link(2).url)


async def test_late_entries_are_marked_late(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(
        unit(units, "南湖街道"), [link(1)], submitted_by=ORGANIZER, now=now, late=True
    )

    entry = await book.get(1)
    assert entry is not None
    assert entry.late


async def test_accepted_entries_survive_a_restart(
    database_url: str, book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    await book.submit(
        unit(units, "南湖街道"), [link(1, "张三")], submitted_by=1, now=now, late=False
    )

    engine = make_engine(database_url)
    try:
        restarted = EntryBook(
            session_maker(engine), await UnitDirectory.load(session_maker(engine), contest)
        )
        entry = await restarted.get(1)
    finally:
        await engine.dispose()
    assert entry is not None
    assert (entry.author, entry.unit_name) == ("张三", "南湖街道")


# ------------------------------------------------------------------ withdraw and restore


async def test_withdraw_by_receipt_records_who_and_when(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1), link(2)], submitted_by=1, now=now, late=False)
    later = now + timedelta(hours=1)

    result = await book.withdraw(1, actor=NANHU_SECRETARY, unit_id=nanhu.id, now=later)

    assert (result.entry.receipt, result.entry.status) == (1, "withdrawn")
    assert (result.entry.withdrawn_by, result.entry.withdrawn_at) == (NANHU_SECRETARY, later)
    assert (result.progress.unit, result.progress.accepted) == ("南湖街道", 1)
    log = (await changes(sessions))[-1]
    assert (log.action, log.actor, log.at, log.detail["receipt"]) == (
        "entry.withdraw",
        NANHU_SECRETARY,
        later,
        1,
    )


async def test_withdraw_by_link(book: EntryBook, units: UnitDirectory, now: datetime) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1), link(2)], submitted_by=1, now=now, late=False)

    result = await book.withdraw(link(2).url, actor=NANHU_SECRETARY, unit_id=nanhu.id, now=now)

    assert result.entry.receipt == 2
    entry = await book.get(1)
    assert entry is not None
    assert entry.status == "accepted"


async def test_another_units_receipt_is_refused_and_unchanged(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(unit(units, "南湖街道"), [link(1)], submitted_by=1, now=now, late=False)

    with pytest.raises(NotYourEntry) as refused:
        await book.withdraw(1, actor=XINXING_SECRETARY, unit_id=unit(units, "新兴街道").id, now=now)

    assert "其他单位" in str(refused.value)
    assert "南湖" not in str(refused.value)
    entry = await book.get(1)
    assert entry is not None
    assert (entry.status, entry.withdrawn_by) == ("accepted", None)


async def test_organizer_withdraws_any_units_entry(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(unit(units, "南湖街道"), [link(1)], submitted_by=1, now=now, late=False)

    result = await book.withdraw(1, actor=ORGANIZER, unit_id=None, now=now)

    assert (result.entry.status, result.entry.withdrawn_by) == ("withdrawn", ORGANIZER)


async def test_withdrawing_twice_is_refused(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(unit(units, "南湖街道"), [link(1)], submitted_by=1, now=now, late=False)
    await book.withdraw(1, actor=ORGANIZER, unit_id=None, now=now)

    with pytest.raises(AlreadyWithdrawn, match="#1 已经撤回"):
        await book.withdraw(1, actor=ORGANIZER, unit_id=None, now=now)


@pytest.mark.parametrize(
    ("ref", "message"), [(99, "没有找到回执 #99"), ("https://weibo.com/1/none", "没有找到这个链接")]
)
async def test_withdrawing_an_unknown_entry_is_refused(
    book: EntryBook, ref: int | str, message: str, now: datetime
) -> None:
    with pytest.raises(EntryNotFound, match=message):
        await book.withdraw(ref, actor=ORGANIZER, unit_id=None, now=now)


async def test_withdrawn_link_resubmitted_by_its_unit_is_restored_under_its_old_receipt(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1), link(2)], submitted_by=1, now=now, late=False)
    await book.withdraw(1, actor=NANHU_SECRETARY, unit_id=nanhu.id, now=now)

    outcomes = await book.submit(
        nanhu, [link(1, "王五"), link(3)], submitted_by=1, now=now, late=False
    )

    assert outcomes == [Accepted(1, link(1).url, restored=True), Accepted(3, link(3).url)]
    entry = await book.get(1)
    assert entry is not None
    assert (entry.status, entry.withdrawn_by, entry.author) == ("accepted", None, "王五")
    assert (await book.progress(nanhu)).accepted == 3
    assert [c.action for c in await changes(sessions)][-2:] == ["entry.withdraw", "entry.restore"]


async def test_withdrawn_link_submitted_by_another_unit_is_a_duplicate(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1)], submitted_by=1, now=now, late=False)
    await book.withdraw(1, actor=NANHU_SECRETARY, unit_id=nanhu.id, now=now)

    outcomes = await book.submit(
        unit(units, "新兴街道"), [link(1)], submitted_by=2, now=now, late=False
    )

    assert outcomes == [Duplicate(link(1).url, 1, "南湖街道", withdrawn=True)]
    entry = await book.get(1)
    assert entry is not None
    assert (entry.status, entry.unit_name) == ("withdrawn", "南湖街道")


async def test_organizer_moves_an_entry_to_another_unit(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    nanhu, xinxing = unit(units, "南湖街道"), unit(units, "新兴街道")
    await book.submit(nanhu, [link(1)], submitted_by=1, now=now, late=False)
    await book.withdraw(1, actor=NANHU_SECRETARY, unit_id=nanhu.id, now=now)

    moved = await book.move(1, xinxing, actor=ORGANIZER, now=now)

    assert (moved.unit_name, moved.status) == ("新兴街道", "accepted")
    assert (await book.progress(xinxing)).accepted == 1
    assert (await book.progress(nanhu)).accepted == 0
    assert (await changes(sessions))[-1].detail["previous"] == "南湖街道"


# ------------------------------------------------------------------ author


async def test_set_author_corrects_the_name_and_logs_it(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1, "张三")], submitted_by=1, now=now, late=False)

    entry = await book.set_author(
        1, "  张　三丰 ", actor=NANHU_SECRETARY, unit_id=nanhu.id, now=now
    )

    assert entry.author == "张 三丰"
    log = (await changes(sessions))[-1]
    assert (log.action, log.detail["author"], log.detail["previous"]) == (
        "entry.author",
        "张 三丰",
        "张三",
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("张" * 21, "不能超过 20 个字"),
        ("[CQ:at,qq=all]", "不能含"),
        ("@全体成员", "不能含"),
        ("张\x00三", "不能含"),
        ("张\u202e三", "不能含"),
    ],
)
async def test_unusable_author_names_are_refused(
    book: EntryBook, units: UnitDirectory, now: datetime, name: str, reason: str
) -> None:
    await book.submit(
        unit(units, "南湖街道"), [link(1, "张三")], submitted_by=1, now=now, late=False
    )

    with pytest.raises(InvalidAuthor, match=reason):
        await book.set_author(1, name, actor=ORGANIZER, unit_id=None, now=now)

    entry = await book.get(1)
    assert entry is not None
    assert entry.author == "张三"


async def test_set_author_of_another_units_entry_is_refused(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(
        unit(units, "南湖街道"), [link(1, "张三")], submitted_by=1, now=now, late=False
    )

    with pytest.raises(NotYourEntry):
        await book.set_author(1, "李四", actor=2, unit_id=unit(units, "新兴街道").id, now=now)

    entry = await book.get(1)
    assert entry is not None
    assert entry.author == "张三"


# ------------------------------------------------------------------ progress and ranking


async def test_progress_excludes_withdrawn_and_includes_late_and_flagged(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(1), link(2), link(3)], submitted_by=1, now=now, late=False)
    await book.submit(nanhu, [link(4)], submitted_by=ORGANIZER, now=now, late=True)
    await book.withdraw(1, actor=ORGANIZER, unit_id=None, now=now)
    await book.record_verification(
        2, status="unreachable", title=None, text_length=None, published_on=None,
        flags=["unreachable"], now=now,
    )  # fmt: skip

    progress = await book.progress(nanhu)

    assert (progress.unit, progress.category, progress.quota) == ("南湖街道", "town", 50)
    assert (progress.accepted, progress.late, progress.flagged) == (3, 1, 1)
    assert progress.completion == pytest.approx(3 / 50)
    assert progress.behind


async def test_progress_all_lists_every_unit_behind_first(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    # 区教文体局 has quota 50, 新兴街道 50 (town), 南湖街道 50; give 新兴 more entries.
    await book.submit(
        unit(units, "新兴街道"), [link(n) for n in range(5)], submitted_by=2, now=now, late=False
    )
    await book.submit(unit(units, "南湖街道"), [link(9)], submitted_by=1, now=now, late=False)
    await units.set_quota("区教文体局", 0, ORGANIZER, now)

    table = await book.progress_all()

    assert [(p.unit, p.accepted, p.behind) for p in table] == [
        ("南湖街道", 1, True),
        ("新兴街道", 5, True),
        ("区教文体局", 0, False),
    ]


async def test_progress_all_uses_a_constant_number_of_queries(
    book: EntryBook, engine: AsyncEngine, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(unit(units, "南湖街道"), [link(1)], submitted_by=1, now=now, late=False)
    with counted_statements(engine) as few:
        assert len(await book.progress_all()) == 3
    for n in range(27):
        await units.add(f"测试单位{n:02d}", "dept", None, ORGANIZER, now)
        await book.submit(
            unit(units, f"测试单位{n:02d}"), [link(100 + n)], submitted_by=1, now=now, late=False
        )

    with counted_statements(engine) as many:
        table = await book.progress_all()

    assert len(table) == 30
    assert sum(p.accepted for p in table) == 28
    assert len(many) == len(few) <= 2


async def test_entries_of_pages_newest_first_with_withdrawn_ones(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(n) for n in range(1, 13)], submitted_by=1, now=now, late=False)
    await book.submit(unit(units, "新兴街道"), [link(50)], submitted_by=2, now=now, late=False)
    await book.withdraw(12, actor=ORGANIZER, unit_id=None, now=now)

    first, total = await book.entries_of(nanhu.id, page=1, per_page=5)
    last, _ = await book.entries_of(nanhu.id, page=3, per_page=5)
    beyond, _ = await book.entries_of(nanhu.id, page=4, per_page=5)

    assert total == 12
    assert [e.receipt for e in first] == [12, 11, 10, 9, 8]
    assert first[0].status == "withdrawn"
    assert [e.receipt for e in last] == [2, 1]
    assert beyond == []


async def test_rank_orders_units_by_completion_and_authors_by_entries(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await units.set_quota("区教文体局", 2, ORGANIZER, now)
    await book.submit(
        unit(units, "区教文体局"),
        [link(1, "李四"), link(2, "李四")],
        submitted_by=3,
        now=now,
        late=False,
    )
    await book.submit(
        unit(units, "南湖街道"),
        [link(3, "张三"), link(4, "张三"), link(5, "张三"), link(6, "王五"), link(7)],
        submitted_by=1,
        now=now,
        late=False,
    )
    await book.submit(
        unit(units, "新兴街道"), [link(8, "张三")], submitted_by=2, now=now, late=False
    )
    await book.withdraw(5, actor=ORGANIZER, unit_id=None, now=now)

    ranking = await book.rank(top_authors=3)

    assert [p.unit for p in ranking.units] == ["区教文体局", "南湖街道", "新兴街道"]
    assert ranking.authors == [
        AuthorRank("李四", "区教文体局", 2),
        AuthorRank("张三", "南湖街道", 2),
        AuthorRank("王五", "南湖街道", 1),  # ties: the earlier first entry wins
    ]


# ------------------------------------------------------------------ verification


async def test_record_verification_stores_facts_flags_and_a_log(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(unit(units, "南湖街道"), [blog(1)], submitted_by=1, now=now, late=False)
    later = now + timedelta(minutes=1)

    entry = await book.record_verification(
        1,
        status="ok",
        title="学习党史 " + "长" * 300,
        text_length=420,
        published_on=date(2027, 5, 1),
        flags=["outside_window", "short"],
        now=later,
    )

    assert entry.verify_status == "ok"
    assert entry.title is not None
    assert len(entry.title) == 200
    assert (entry.text_length, entry.published_on, entry.verified_at) == (
        420,
        date(2027, 5, 1),
        later,
    )
    assert (entry.flags, entry.flagged) == (("short", "outside_window"), True)
    assert (await book.get(1)) == entry
    log = (await changes(sessions))[-1]
    assert (log.action, log.detail["flags"]) == ("entry.verify", ["short", "outside_window"])


async def test_unknown_verification_flags_are_a_programming_error(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    await book.submit(unit(units, "南湖街道"), [blog(1)], submitted_by=1, now=now, late=False)

    with pytest.raises(ValueError, match="unknown flags"):
        await book.record_verification(
            1, status="ok", title=None, text_length=1, published_on=None, flags=["tiny"], now=now
        )


async def test_pending_verification_lists_unverified_accepted_entries_oldest_first(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [link(n) for n in range(1, 6)], submitted_by=1, now=now, late=False)
    await book.record_verification(
        2, status="not_verifiable", title=None, text_length=None, published_on=None, flags=[],
        now=now,
    )  # fmt: skip
    await book.withdraw(3, actor=ORGANIZER, unit_id=None, now=now)

    pending = await book.pending_verification(limit=2)

    assert [e.receipt for e in pending] == [1, 4]


async def test_naive_times_are_refused(book: EntryBook, units: UnitDirectory) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await book.submit(
            unit(units, "南湖街道"),
            [link(1)],
            submitted_by=1,
            now=datetime(2027, 6, 25),
            late=False,
        )


async def test_all_entries_reads_every_entry_in_chunks_by_receipt(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(
        nanhu, [link(n, "张三") for n in range(1, 6)], submitted_by=1, now=now, late=False
    )
    await book.withdraw(2, actor=ORGANIZER, unit_id=None, now=now)
    verified = await book.record_verification(
        3, status="unreachable", title=None, text_length=None, published_on=None,
        flags=["unreachable"], now=now,
    )  # fmt: skip

    everything = await book.all_entries(chunk=2)

    assert [e.receipt for e in everything] == [1, 2, 3, 4, 5]
    assert everything[1] == await book.get(2)
    assert everything[1].status == "withdrawn"
    assert everything[2] == verified
    assert everything[2].flags == ("unreachable",)


# ------------------------------------------------------------------ link shapes


def odd_link(url: str) -> NewLink:
    return NewLink(url=url, given=url, platform="weibo.com", kind="microblog", platform_name="微博")


async def test_a_link_of_an_unusual_shape_counts_and_is_flagged(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(
        nanhu, [odd_link("https://weibo.com/a/b/c")], submitted_by=1, now=now, late=False
    )

    entry = await book.get(1)
    [progress] = [p for p in await book.progress_all() if p.unit == "南湖街道"]

    assert entry is not None
    assert (entry.flags, entry.flagged) == (("unusual_link",), True)
    assert (progress.accepted, progress.flagged) == (1, 1)


async def test_verification_keeps_the_link_shape_flag(
    book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(
        nanhu, [odd_link("https://weibo.com/a/b/c")], submitted_by=1, now=now, late=False
    )

    entry = await book.record_verification(
        1, status="ok", title="t", text_length=900, published_on=None, flags=["short"], now=now
    )

    assert entry.flags == ("short", "unusual_link")


async def test_stored_profile_links_are_flagged_at_recheck_and_never_withdrawn(
    book: EntryBook, sessions: Sessions, units: UnitDirectory, now: datetime
) -> None:
    nanhu = unit(units, "南湖街道")
    await book.submit(nanhu, [blog(1), blog(2)], submitted_by=1, now=now, late=False)
    async with sessions() as session:  # stored before profiles were refused
        row = (await session.exec(select(Entry).where(col(Entry.receipt) == 2))).one()
        row.url = "https://weibo.com/u/1234567890"
        row.flags = ["short"]
        session.add(row)
        await session.commit()

    changed = await book.recheck_link_shapes(now)
    again = await book.recheck_link_shapes(now)

    profile = await book.get(2)
    post = await book.get(1)
    assert (changed, again) == (1, 0)
    assert profile is not None
    assert post is not None
    assert (profile.flags, profile.status) == (("short", "not_a_post"), "accepted")
    assert post.flags == ()
    assert (await changes(sessions))[-1].action == "entry.link_shape"
