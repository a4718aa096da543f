from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from bot.settings.contest import Contest
from bot.settings.values import Problem
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions
from bot.submissions.book import EntryBook
from bot.submissions.import_ import SubmissionRow, import_submissions, read_submissions
from bot.units.directory import UnitDirectory

ORGANIZER = 10000
BLOG = "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"
BLOG2 = "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f7.html"
WEIBO = "https://weibo.com/1234567890/Abc123"
WEIBO_CANONICAL = "https://m.weibo.cn/status/22432863907"


def write_csv(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------ reading


def test_csv_rows_are_read_with_optional_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "作品.csv",
        "单位,链接,作者,提交人,时间\n"
        f"南湖街道,{BLOG},张三,10001,2027-06-25 09:30\n"
        "\n"
        f"新兴街道,{WEIBO},,,\n",
    )

    rows, problems = read_submissions(path)

    assert problems == []
    assert rows == [
        SubmissionRow(2, "南湖街道", BLOG, "张三", 10001, datetime(2027, 6, 25, 9, 30)),
        SubmissionRow(4, "新兴街道", WEIBO),
    ]


def test_gbk_csv_with_only_the_required_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", f"单位,链接\r\n南湖街道,{BLOG}\r\n", "gbk")

    rows, problems = read_submissions(path)

    assert problems == []
    assert rows == [SubmissionRow(2, "南湖街道", BLOG)]


def test_xlsx_with_a_title_row_and_excel_datetimes(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["南湖区学习博客大赛作品汇总"])
    sheet.append(["单位名称", "作品链接", "作者（选填）", "提交人QQ", "提交时间"])
    sheet.append(["南湖街道", BLOG, "张三", 10001, datetime(2027, 6, 25, 9, 30)])
    sheet.append(["区教文体局", WEIBO, None, None, "2027/6/26 8:05"])
    path = tmp_path / "作品.xlsx"
    book.save(path)

    rows, problems = read_submissions(path)

    assert problems == []
    assert rows == [
        SubmissionRow(3, "南湖街道", BLOG, "张三", 10001, datetime(2027, 6, 25, 9, 30)),
        SubmissionRow(4, "区教文体局", WEIBO, None, None, datetime(2027, 6, 26, 8, 5)),
    ]


def test_unreadable_rows_are_reported_by_row_and_skipped(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        "单位,链接,提交人,时间,备注\n"
        f"南湖街道,{BLOG},张三,,\n"
        f",{BLOG},,,\n"
        "南湖街道,,,,\n"
        f"南湖街道,{BLOG},,下周一,\n"
        f"南湖街道,{BLOG2},,,好\n",
    )

    rows, problems = read_submissions(path)

    assert [r.line for r in rows] == [6]
    assert problems == [
        Problem(
            "bad.csv",
            "表头「备注」",
            "无法识别的列名，该列已忽略。可用的列名：单位、链接、作者、提交人、时间。",
        ),
        Problem("bad.csv", "第 2 行 提交人", "「张三」不是 QQ 号（5 到 12 位数字）。"),
        Problem("bad.csv", "第 3 行 单位", "单位为空。"),
        Problem("bad.csv", "第 4 行 链接", "链接为空。"),
        Problem("bad.csv", "第 5 行 时间", "「下周一」不是时间，请写成 2027-06-25 09:30 的样子。"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        ("x.csv", "名称,网页\n南湖街道,x\n", "表头"),
        ("x.xls", "", "文件"),
    ],
)
def test_files_without_the_needed_columns_are_refused(
    tmp_path: Path, name: str, content: str, key: str
) -> None:
    rows, problems = read_submissions(write_csv(tmp_path / name, content))

    assert rows == []
    assert [p.key for p in problems] == [key]


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    rows, problems = read_submissions(tmp_path / "none.csv")

    assert rows == []
    assert problems == [Problem("none.csv", "文件", "文件不存在。")]


# ------------------------------------------------------------------ importing


@pytest.fixture
async def units(sessions: Sessions, contest: Contest, now: datetime) -> UnitDirectory:
    directory = await UnitDirectory.load(sessions, contest)
    await directory.sync_from_config(contest, now)
    await directory.add("南湖区人民医院", "dept", None, ORGANIZER, now)
    return directory


async def test_import_reports_accepted_duplicates_and_refused_rows(
    book: EntryBook, units: UnitDirectory, contest: Contest, sessions: Sessions
) -> None:
    during = datetime(2027, 6, 26, 12, tzinfo=contest.timezone)
    rows = [
        SubmissionRow(2, "南湖街道", BLOG, "张三", 10001, datetime(2027, 6, 25, 9, 30)),
        SubmissionRow(3, "新兴", f"【李四的微博】学习心得 {WEIBO} 复制链接打开"),
        SubmissionRow(4, "区教文体局", BLOG + "?from=timeline#comments"),
        SubmissionRow(5, "南湖", "https://example.com/post/1"),
        SubmissionRow(6, "不存在的单位", BLOG2),
        SubmissionRow(7, "街道", BLOG2),
        SubmissionRow(8, "南湖街道", f"{BLOG2} {WEIBO}"),
        SubmissionRow(9, "南湖街道", "请见附件"),
    ]

    report = await import_submissions(book, units, rows, contest, actor=ORGANIZER, now=during)

    assert [(r.line, a.receipt, a.url) for r, a in report.accepted] == [
        (2, 1, BLOG),
        (3, 2, WEIBO_CANONICAL),
    ]
    assert [(r.line, d.receipt, d.unit_name) for r, d in report.duplicates] == [(4, 1, "南湖街道")]
    refused = {r.line: reason for r, reason in report.refused}
    assert refused[5].startswith("不是大赛指定的平台")
    assert refused[6].startswith("没有找到单位「不存在的单位」")
    assert refused[7] == "「街道」对应多个单位：南湖街道、新兴街道，请写全称。"
    assert refused[8] == "一格只能填一个链接，请分行填写。"
    assert refused[9] == "没有找到链接。"
    first = await book.get(1)
    second = await book.get(2)
    assert first is not None
    assert second is not None
    assert (first.author, first.submitted_by, first.late) == ("张三", 10001, False)
    assert first.submitted_at == datetime(2027, 6, 25, 9, 30, tzinfo=contest.timezone)
    assert (second.unit_name, second.submitted_by, second.submitted_at) == (
        "新兴街道",
        ORGANIZER,
        during,
    )
    assert second.given_url == WEIBO
    async with sessions() as session:
        log = (await session.exec(select(ChangeLog).order_by(col(ChangeLog.id).desc()))).first()
    assert log is not None
    assert (log.action, log.detail["accepted"], log.detail["refused"]) == (
        "entry.import",
        [1, 2],
        5,
    )


async def test_rows_after_the_deadline_are_marked_late(
    book: EntryBook, units: UnitDirectory, contest: Contest
) -> None:
    after = contest.deadline + timedelta(days=1)
    rows = [
        SubmissionRow(2, "南湖街道", BLOG, time=datetime(2027, 7, 1, 17, 59)),
        SubmissionRow(3, "南湖街道", BLOG2, time=datetime(2027, 7, 1, 18, 1)),
        SubmissionRow(4, "南湖街道", WEIBO),
    ]

    report = await import_submissions(book, units, rows, contest, actor=ORGANIZER, now=after)

    entries = [await book.get(a.receipt) for _, a in report.accepted]
    assert [(e.late if e else None) for e in entries] == [False, True, True]


async def test_importing_the_same_file_twice_adds_nothing(
    book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    now = datetime(2027, 6, 26, 12, tzinfo=contest.timezone)  # the contest is open
    rows = [SubmissionRow(2, "南湖街道", BLOG), SubmissionRow(3, "新兴街道", WEIBO)]
    await import_submissions(book, units, rows, contest, actor=ORGANIZER, now=now)

    again = await import_submissions(book, units, rows, contest, actor=ORGANIZER, now=now)

    assert again.accepted == []
    assert [d.receipt for _, d in again.duplicates] == [1, 2]
    assert sum(p.accepted for p in await book.progress_all()) == 2


async def test_an_unusable_author_refuses_the_row(
    book: EntryBook, units: UnitDirectory, contest: Contest, now: datetime
) -> None:
    now = datetime(2027, 6, 26, 12, tzinfo=contest.timezone)  # the contest is open
    rows = [SubmissionRow(2, "南湖街道", BLOG, author="@全体成员")]

    report = await import_submissions(book, units, rows, contest, actor=ORGANIZER, now=now)

    assert [(r.line, "作者" in reason) for r, reason in report.refused] == [(2, True)]
    assert await book.get(1) is None
