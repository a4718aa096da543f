"""Reach figures on SQLite and PostgreSQL: parsing what organizers type, the spreadsheet import
row by row, snapshots kept with their source, the latest counting, nothing past the bounds."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.judging.metrics import (
    VALUE_MAX,
    MetricBook,
    MetricError,
    import_metrics,
    parse_figure,
    read_metrics,
)
from bot.settings.contest import Contest
from bot.storage.db import Sessions
from bot.submissions.book import Accepted, EntryBook, NewLink
from bot.units.directory import UnitDirectory


def blog(n: int) -> NewLink:
    return NewLink(
        url=f"https://blog.sina.com.cn/s/blog_{n:016x}.html",
        given=f"blog.sina.com.cn/s/blog_{n:016x}.html",
        platform="blog.sina.com.cn",
        kind="blog",
        platform_name="新浪博客",
    )


async def submitted(book: EntryBook, units: UnitDirectory, now: datetime, count: int) -> list[int]:
    nanhu = units.find("南湖街道").unit
    assert nanhu is not None
    outcomes = await book.submit(
        nanhu, [blog(n) for n in range(1, count + 1)], submitted_by=10001, now=now, late=False
    )
    return [o.receipt for o in outcomes if isinstance(o, Accepted)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12300", 12_300),
        ("12,300", 12_300),
        ("12，300", 12_300),
        (" 85 ", 85),
        ("１２３", 123),
        ("1.2万", 12_000),
        ("3k", 3_000),
        ("2亿", 200_000_000),
        ("0", 0),
        (str(VALUE_MAX), VALUE_MAX),
    ],
)
def test_figures_as_organizers_type_them(text: str, value: int) -> None:
    assert parse_figure(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "  ", "-5", "12.5", "abc", "1e9", "9" * 30, str(2**63), str(VALUE_MAX + 1), "1.23456万5"],
)
def test_figures_that_are_not_refused_clearly(text: str) -> None:
    with pytest.raises(MetricError) as refused:
        parse_figure(text)
    assert str(refused.value)


async def test_snapshots_keep_their_source_and_the_latest_counts(
    sessions: Sessions, book: EntryBook, units: UnitDirectory, now: datetime
) -> None:
    [first, second] = await submitted(book, units, now, 2)
    metrics = MetricBook(sessions)
    day1, day2 = now - timedelta(days=2), now - timedelta(days=1)
    assert await metrics.record(first, "views", 100, measured_at=day1, source="a", actor=1, now=now)
    assert await metrics.record(first, "views", 250, measured_at=day2, source="b", actor=1, now=now)
    assert await metrics.record(first, "reposts", 7, measured_at=day1, source="a", actor=1, now=now)
    # The same snapshot twice: recorded once.
    assert not await metrics.record(
        first, "views", 100, measured_at=day1, source="a", actor=1, now=now
    )
    latest = await metrics.latest()
    assert {m: f.value for m, f in latest[first].items()} == {"views": 250, "reposts": 7}
    assert latest[first]["views"].source == "b"
    assert second not in latest
    assert [f.value for f in await metrics.history(first)] == [250, 7, 100]
    assert await metrics.figures_of("views") == {first: 250}


@pytest.mark.parametrize("value", [-1, VALUE_MAX + 1, 2**63, True])
async def test_nothing_out_of_bounds_is_stored(
    sessions: Sessions, book: EntryBook, units: UnitDirectory, now: datetime, value: int
) -> None:
    [receipt] = await submitted(book, units, now, 1)
    metrics = MetricBook(sessions)
    with pytest.raises(MetricError):
        await metrics.record(
            receipt, "views", value, measured_at=now, source="x", actor=None, now=now
        )
    with pytest.raises(MetricError):
        await metrics.record(receipt, "shares", 1, measured_at=now, source="x", actor=None, now=now)
    assert await metrics.latest() == {}


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "阅读量.csv"
    path.write_text(text, encoding="utf-8")
    return path


async def test_import_reports_every_row_and_twice_adds_nothing(
    tmp_path: Path,
    sessions: Sessions,
    book: EntryBook,
    units: UnitDirectory,
    contest: Contest,
    now: datetime,
) -> None:
    receipts = await submitted(book, units, now, 3)
    await book.withdraw(receipts[2], actor=None, unit_id=None, now=now)
    path = write_csv(
        tmp_path,
        "南湖区学习博客大赛 阅读量统计\n"
        "编号,链接,阅读量,转发,评论,点赞,统计日期,来源\n"
        f'#{receipts[0]},,"12,300",85,,1.2万,2027-06-19,新浪后台截图\n'
        f",blog.sina.com.cn/s/blog_{2:016x}.html,500,,,,,\n"
        f"{receipts[2]},,10,,,,,\n"
        "999,,10,,,,,\n"
        f",https://blog.sina.com.cn/s/blog_{99:016x}.html,10,,,,,\n"
        f"{receipts[0]},blog.sina.com.cn/s/blog_{2:016x}.html,1,,,,,\n"
        f"{receipts[1]},,abc,,,,,\n"
        f"{receipts[1]},,,,,,,\n"
        f"{receipts[1]},,5,,,,2099-01-01,\n"
        f"{receipts[1]},,5,,,,昨天,\n"
        ",,5,,,,,\n"
        f"{receipts[1]},,{2**63},,,,,\n",
    )
    rows, problems = read_metrics(path)
    assert [p.key for p in problems] == ["第 9 行", "第 10 行", "第 12 行", "第 13 行", "第 14 行"]
    messages = " | ".join(p.message for p in problems)
    assert "不是数字" in messages
    assert "都是空的" in messages
    assert "看不懂" in messages
    assert "太大" in messages
    metrics = MetricBook(sessions)
    report = await import_metrics(metrics, book, rows, contest, file=path.name, actor=None, now=now)
    assert [(row.line, receipt) for row, receipt in report.recorded] == [
        (3, receipts[0]),
        (4, receipts[1]),
    ]
    refused = {row.line: reason for row, reason in report.refused}
    assert "已撤回" in refused[5]
    assert "没有编号 #999" in refused[6]
    assert "没有登记过这个链接" in refused[7]
    assert "不是同一篇" in refused[8]
    assert "今天之后" in refused[11]
    latest = await metrics.latest()
    assert {m: f.value for m, f in latest[receipts[0]].items()} == {
        "views": 12_300,
        "reposts": 85,
        "likes": 12_000,
    }
    assert latest[receipts[0]]["views"].source == "表格 阅读量.csv 第 3 行（新浪后台截图）"
    measured = latest[receipts[0]]["views"].measured_at.astimezone(contest.timezone)
    assert measured.date().isoformat() == "2027-06-19"

    again = await import_metrics(
        metrics, book, rows, contest, file=path.name, actor=None, now=now + timedelta(hours=1)
    )
    assert again.recorded == []
    assert [row.line for row, _ in again.unchanged] == [3, 4]


def test_a_file_without_the_columns_says_what_it_needs(tmp_path: Path) -> None:
    rows, problems = read_metrics(write_csv(tmp_path, "单位,作者\n南湖街道,张三\n"))
    assert rows == []
    assert [p.key for p in problems] == ["表头"]
    assert "编号" in problems[0].message
    rows, problems = read_metrics(tmp_path / "missing.xlsx")
    assert rows == []
    assert "不存在" in problems[0].message
