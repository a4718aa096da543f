from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.dashboard.scores import ScoreBook, ScoreError
from bot.dashboard.views import DashboardViews, EntryFilter, time_left_text, unit_status
from bot.faq.service import FaqService
from bot.judging.models import JudgeScore
from bot.settings.contest import Contest
from bot.storage.db import Sessions
from bot.submissions.book import EntryBook, EntryNotFound, NewLink
from bot.units.directory import UnitDirectory, UnitView

SH = timezone(timedelta(hours=8))
# Inside the contest window of tests/bot/conftest.py (24 June – 1 July 2027, Shanghai).
DAY1 = datetime(2027, 6, 24, 9, 0, tzinfo=SH)
JUDGE = 20001
OTHER_JUDGE = 20002


def link(n: int, author: str | None = None, platform: str = "weibo.com") -> NewLink:
    return NewLink(
        url=f"https://{platform}/1234567890/Post{n}",
        given=f"{platform}/1234567890/Post{n}",
        platform=platform,
        kind="microblog",
        author=author,
        platform_name="新浪微博" if platform == "weibo.com" else "腾讯",
    )


@pytest.fixture
def views(
    sessions: Sessions, units: UnitDirectory, book: EntryBook, contest: Contest
) -> DashboardViews:
    return DashboardViews(sessions, units, book, contest)


def unit(units: UnitDirectory, name: str) -> UnitView:
    found = units.find(name).unit
    assert found is not None
    return found


async def submit(book: EntryBook, who: UnitView, numbers: range, at: datetime, **kw: Any) -> None:
    for n in numbers:
        await book.submit(who, [link(n, **kw)], submitted_by=1, now=at, late=False)


@contextmanager
def counted_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN is not a query
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


# ------------------------------------------------------------------ pure pieces


@pytest.mark.parametrize(
    ("accepted", "quota", "status"),
    [
        (5, 5, "met"),
        (7, 5, "met"),
        (3, 5, "close"),
        (2, 5, "behind"),
        (0, 50, "behind"),
        (3, None, "none"),
        (0, 0, "none"),
    ],
)
def test_unit_status_colours(accepted: int, quota: int | None, status: str) -> None:
    assert unit_status(accepted, quota) == status


def test_time_left_before_during_and_after() -> None:
    start, deadline = DAY1, DAY1 + timedelta(days=7)
    assert time_left_text(start - timedelta(hours=3), start, deadline) == (
        "before",
        "距开始还有 3 小时 0 分钟",
    )
    assert time_left_text(start + timedelta(hours=1), start, deadline) == (
        "open",
        "距截止还有 6 天 23 小时",
    )
    assert (
        time_left_text(deadline - timedelta(seconds=30), start, deadline)[1] == "距截止还有 1 分钟"
    )
    assert time_left_text(deadline, start, deadline) == ("closed", "已截止")


def test_filter_from_query_parameters_ignores_nonsense() -> None:
    wanted = EntryFilter.from_params(
        {
            "q": " 张三 ",
            "unit": "3",
            "status": "drop table",
            "flagged": "1",
            "from": "2027-06-25",
            "to": "not a date",
            "sort": "evil",
            "order": "asc",
            "page": "-2",
            "per_page": "99999",
        }
    )
    assert wanted == EntryFilter(
        search="张三",
        unit_id=3,
        flagged=True,
        date_from=date(2027, 6, 25),
        descending=False,
        page=1,
        per_page=500,
    )
    assert EntryFilter.from_params(wanted.params()) == wanted


# ------------------------------------------------------------------ overview


async def test_overview_has_every_unit_behind_first_and_totals(
    views: DashboardViews, book: EntryBook, units: UnitDirectory
) -> None:
    await submit(book, unit(units, "区教文体局"), range(1, 31), DAY1)
    await submit(book, unit(units, "新兴街道"), range(31, 36), DAY1)
    await book.withdraw(31, actor=1, unit_id=None, now=DAY1)

    overview = await views.overview(DAY1 + timedelta(days=1))

    assert [(u.name, u.accepted, u.status) for u in overview.units] == [
        ("南湖街道", 0, "behind"),
        ("新兴街道", 4, "behind"),
        ("区教文体局", 30, "close"),
    ]
    assert overview.totals.accepted == 34
    assert overview.totals.withdrawn == 1
    assert overview.totals.quota == 150
    assert overview.totals.behind == 3
    assert overview.phase == "open"


async def test_entries_per_day_are_counted_in_the_contest_timezone(
    views: DashboardViews, book: EntryBook, units: UnitDirectory
) -> None:
    nanhu = unit(units, "南湖街道")
    # 23:30 Shanghai on the 24th is 15:30 UTC: still the 24th locally.
    await submit(book, nanhu, range(1, 3), datetime(2027, 6, 24, 23, 30, tzinfo=SH))
    # 00:30 Shanghai on the 26th is 16:30 UTC on the 25th: the 26th locally.
    await submit(book, nanhu, range(3, 6), datetime(2027, 6, 26, 0, 30, tzinfo=SH))

    overview = await views.overview(datetime(2027, 6, 26, 12, tzinfo=SH))

    assert [(d.day.day, d.count) for d in overview.days] == [(24, 2), (25, 0), (26, 3)]


async def test_overview_costs_the_same_queries_for_many_units_and_entries(
    views: DashboardViews, book: EntryBook, units: UnitDirectory, engine: AsyncEngine, now: datetime
) -> None:
    with counted_statements(engine) as few:
        await views.overview(DAY1)
    for i in range(12):
        await units.add(f"测试单位{i}", "dept", None, actor=1, now=now)
    for i, who in enumerate(units.list_units()):
        await submit(book, who, range(100 + 10 * i, 105 + 10 * i), DAY1 + timedelta(hours=i * 7))
    with counted_statements(engine) as many:
        overview = await views.overview(DAY1 + timedelta(days=6))
    assert len(overview.units) == 15
    assert len(many) == len(few) == 2


async def test_a_summary_has_the_overviews_totals_and_its_last_days(
    views: DashboardViews, book: EntryBook, units: UnitDirectory
) -> None:
    """The 全省 page's row of a contest: what the overview says, without a row per unit."""
    for day in range(10):
        await submit(
            book,
            unit(units, "南湖街道"),
            range(10 * day, 10 * day + day),
            DAY1 + timedelta(days=day),
        )
    await submit(book, unit(units, "区教文体局"), range(200, 230), DAY1)
    await book.withdraw(11, actor=1, unit_id=None, now=DAY1)
    now = DAY1 + timedelta(days=9, hours=1)

    overview = await views.overview(now)
    summary = await views.summary(now, 3)

    assert summary.totals == overview.totals
    assert summary.days == overview.days[-3:]
    assert [d.count for d in summary.days] == [7, 8, 9]
    assert (summary.contest_name, summary.phase, summary.time_left) == (
        overview.contest_name,
        overview.phase,
        overview.time_left,
    )


# ------------------------------------------------------------------ entries


async def test_entries_filter_by_unit_platform_status_flag_and_date(
    views: DashboardViews, book: EntryBook, units: UnitDirectory
) -> None:
    nanhu, xinxing = unit(units, "南湖街道"), unit(units, "新兴街道")
    await submit(book, nanhu, range(1, 4), DAY1)
    await submit(book, xinxing, range(4, 6), DAY1 + timedelta(days=2), platform="qq.com")
    await book.withdraw(2, actor=1, unit_id=None, now=DAY1)
    await book.record_verification(
        3, status="ok", title="学习", text_length=300, published_on=None, flags=["short"], now=DAY1
    )

    async def receipts(**kw: Any) -> list[int]:
        page = await views.entry_page(EntryFilter(**kw))
        return [r.receipt for r in page.rows]

    assert await receipts() == [5, 4, 3, 2, 1]
    assert await receipts(unit_id=nanhu.id) == [3, 2, 1]
    assert await receipts(platform="qq.com") == [5, 4]
    assert await receipts(status="withdrawn") == [2]
    assert await receipts(status="accepted") == [5, 4, 3, 1]
    assert await receipts(flagged=True) == [3]
    assert await receipts(date_from=date(2027, 6, 25)) == [5, 4]
    assert await receipts(date_to=date(2027, 6, 24)) == [3, 2, 1]


async def test_entries_search_matches_receipt_author_link_title_and_unit(
    views: DashboardViews, book: EntryBook, units: UnitDirectory
) -> None:
    await submit(book, unit(units, "南湖街道"), range(1, 3), DAY1, author="张三")
    await submit(book, unit(units, "新兴街道"), range(3, 5), DAY1, author="李四")
    await book.record_verification(
        4,
        status="ok",
        title="百分之百_学习",
        text_length=900,
        published_on=None,
        flags=[],
        now=DAY1,
    )

    async def found(text: str) -> list[int]:
        return [r.receipt for r in (await views.entry_page(EntryFilter(search=text))).rows]

    assert await found("#2") == [2]
    assert await found("李四") == [4, 3]
    assert await found("post1") == [1]  # case-insensitive on the link
    assert await found("新兴") == [4, 3]
    assert await found("百_学") == [4]
    assert await found("%") == []  # a wildcard is only a character


async def test_entries_sort_and_page(
    views: DashboardViews, book: EntryBook, units: UnitDirectory
) -> None:
    await submit(book, unit(units, "新兴街道"), range(1, 4), DAY1)
    await submit(book, unit(units, "南湖街道"), range(4, 8), DAY1)

    first = await views.entry_page(EntryFilter(sort="unit", descending=False, per_page=3))
    last = await views.entry_page(EntryFilter(page=9, per_page=3))

    assert [r.unit_name for r in first.rows] == ["南湖街道"] * 3
    assert (first.total, first.pages) == (7, 3)
    assert last.filter.page == 3
    assert [r.receipt for r in last.rows] == [1]


async def test_scores_are_averaged_per_entry_and_unit_and_sorted_by(
    views: DashboardViews, book: EntryBook, units: UnitDirectory, sessions: Sessions
) -> None:
    nanhu = unit(units, "南湖街道")
    await submit(book, nanhu, range(1, 4), DAY1)
    scores = ScoreBook(sessions)
    await scores.set(1, judge_id=JUDGE, quality=6, comment="", now=DAY1)
    await scores.set(1, judge_id=OTHER_JUDGE, quality=9, comment="好", now=DAY1)
    await scores.set(2, judge_id=JUDGE, quality=9, comment="很好", now=DAY1)
    await scores.set(2, judge_id=JUDGE, quality=10, comment="改主意了", now=DAY1)

    page = await views.entry_page(EntryFilter(sort="score"), viewer=JUDGE)
    rows = {u.name: u for u in await views.unit_rows()}

    assert [(r.receipt, r.avg_quality, r.scores) for r in page.rows] == [
        (2, 10.0, 1),
        (1, 7.5, 2),
        (3, None, 0),
    ]
    assert (page.rows[0].my_quality, page.rows[0].my_comment) == (10, "改主意了")
    assert rows["南湖街道"].avg_quality == pytest.approx(25 / 3)
    assert rows["南湖街道"].scored == 2
    assert rows["新兴街道"].avg_quality is None


async def test_entry_page_costs_two_queries(
    views: DashboardViews, book: EntryBook, units: UnitDirectory, engine: AsyncEngine
) -> None:
    await submit(book, unit(units, "南湖街道"), range(1, 40), DAY1)
    with counted_statements(engine) as statements:
        page = await views.entry_page(EntryFilter(search="post", sort="score", per_page=10))
    assert len(page.rows) == 10
    assert len(statements) == 2


# ------------------------------------------------------------------ scores


@pytest.mark.parametrize("quality", [0, 11, -1])
async def test_quality_outside_one_to_ten_is_refused(
    sessions: Sessions, book: EntryBook, units: UnitDirectory, quality: int
) -> None:
    await submit(book, unit(units, "南湖街道"), range(1, 2), DAY1)
    with pytest.raises(ScoreError, match="1 到 10"):
        await ScoreBook(sessions).set(1, judge_id=JUDGE, quality=quality, comment="", now=DAY1)


async def test_long_comment_is_refused_and_control_characters_dropped(
    sessions: Sessions, book: EntryBook, units: UnitDirectory
) -> None:
    await submit(book, unit(units, "南湖街道"), range(1, 2), DAY1)
    scores = ScoreBook(sessions)
    with pytest.raises(ScoreError, match="500"):
        await scores.set(1, judge_id=JUDGE, quality=5, comment="长" * 501, now=DAY1)
    saved = await scores.set(1, judge_id=JUDGE, quality=5, comment=" 好\x00文章\x1b ", now=DAY1)
    assert saved.comment == "好 文章"


async def test_withdrawn_or_missing_entries_cannot_be_scored(
    sessions: Sessions, book: EntryBook, units: UnitDirectory
) -> None:
    await submit(book, unit(units, "南湖街道"), range(1, 2), DAY1)
    await book.withdraw(1, actor=1, unit_id=None, now=DAY1)
    scores = ScoreBook(sessions)
    with pytest.raises(ScoreError, match="已撤回"):
        await scores.set(1, judge_id=JUDGE, quality=5, comment="", now=DAY1)
    with pytest.raises(EntryNotFound):
        await scores.set(99, judge_id=JUDGE, quality=5, comment="", now=DAY1)


async def test_a_score_is_also_the_judges_quality_score_for_judging(
    sessions: Sessions, book: EntryBook, units: UnitDirectory
) -> None:
    await submit(book, unit(units, "南湖街道"), range(1, 3), DAY1)
    scores = ScoreBook(sessions)
    await scores.set(1, judge_id=JUDGE, quality=6, comment="一般", now=DAY1)
    later = DAY1 + timedelta(hours=2)
    await scores.set(1, judge_id=JUDGE, quality=9, comment="再读一遍，很好", now=later)
    await scores.set(2, judge_id=OTHER_JUDGE, quality=4, comment="", now=DAY1)

    async with sessions() as session:
        rows = (await session.exec(select(JudgeScore).order_by(col(JudgeScore.receipt)))).all()
    assert [
        (r.receipt, r.judge_id, r.criterion, r.value, r.comment, r.updated_at) for r in rows
    ] == [
        (1, JUDGE, "quality", 9, "再读一遍，很好", later),
        (2, OTHER_JUDGE, "quality", 4, None, DAY1),
    ]


# ------------------------------------------------------------------ FAQ


async def test_faq_view_says_unavailable_without_the_faq(views: DashboardViews) -> None:
    view = await views.faq()
    assert not view.available
    assert view.unanswered == []


FAQ_YAML = """\
version: 1
entries:
  - id: blog-link
    question: 博客链接怎么复制？
    answer: 打开博文，复制地址栏里的网址。
  - id: blog-image
    question: 博文里怎么插入图片？
    answer: 点编辑框上方的“图片”按钮上传。
"""


@pytest.fixture
async def faq(sessions: Sessions, contest: Contest, tmp_path: Path) -> FaqService:
    config = tmp_path / "config"
    config.mkdir()
    (config / "faq.yaml").write_text(FAQ_YAML, encoding="utf-8")
    service = FaqService(sessions, dataclasses.replace(contest, config_dir=config))
    await service.load()
    return service


@pytest.fixture
def faq_views(
    sessions: Sessions, units: UnitDirectory, book: EntryBook, contest: Contest, faq: FaqService
) -> DashboardViews:
    return DashboardViews(sessions, units, book, contest, faq)


async def test_faq_view_lists_the_most_asked_entries_next_to_the_unanswered(
    faq_views: DashboardViews, faq: FaqService
) -> None:
    for entry_id in ("blog-image", "blog-link", "blog-link"):
        await faq.count_answer(entry_id, DAY1)
    await faq.record_unanswered("党费怎么交", group=1, user=11, now=DAY1)

    view = await faq_views.faq()

    assert view.available
    assert view.counts_answers
    assert [(a.entry_id, a.question, a.count, a.last_at) for a in view.most_asked] == [
        ("blog-link", "博客链接怎么复制？", 2, DAY1),
        ("blog-image", "博文里怎么插入图片？", 1, DAY1),
    ]
    assert [(u.text, u.count) for u in view.unanswered] == [("党费怎么交", 1)]


async def test_faq_view_shows_at_most_twenty_most_asked_entries(
    faq_views: DashboardViews, faq: FaqService
) -> None:
    for n in range(25):
        for _ in range(n + 1):
            await faq.count_answer(f"entry-{n:02d}", DAY1)

    view = await faq_views.faq()

    assert [a.count for a in view.most_asked] == list(range(25, 5, -1))


# Thirty questions unlike each other (alike ones would be grouped into one line).
UNLIKE = [
    "党费怎么交",
    "食堂几点开饭",
    "会议室怎么预约",
    "停车证在哪里办",
    "体检报告去哪拿",
    "年假还剩几天",
    "工资条怎么查",
    "打印机坏了找谁",
    "门禁卡丢了怎么办",
    "加班能调休吗",
    "邮箱容量满了",
    "差旅费怎么报销",
    "办公用品在哪领",
    "内网密码怎么重置",
    "档案存放在哪里",
    "户口怎么迁移",
    "职称评审何时开始",
    "培训学分不够怎么办",
    "志愿服务时长怎么算",
    "工会会费多少钱",
    "入党申请书怎么写",
    "思想汇报多久交一次",
    "主题党日活动安排",
    "垃圾分类宣传材料",
    "消防演练几点开始",
    "网格员联系方式",
    "老年卡怎么申请",
    "疫苗接种点在哪",
    "选民登记截止日期",
    "12345热线怎么打",
]


async def test_faq_view_costs_two_queries(
    faq_views: DashboardViews, faq: FaqService, engine: AsyncEngine
) -> None:
    with counted_statements(engine) as few:
        await faq_views.faq()
    for n in range(30):
        await faq.count_answer(f"entry-{n:02d}", DAY1)
        await faq.record_unanswered(UNLIKE[n], group=1, user=11, now=DAY1)
    with counted_statements(engine) as many:
        view = await faq_views.faq()
    assert (len(view.most_asked), len(view.unanswered)) == (20, 30)
    assert len(many) == len(few) == 2
