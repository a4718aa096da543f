from __future__ import annotations

import asyncio
import csv
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.settings.contest import Contest
from bot.submissions.book import EntryView, Progress
from bot.submissions.export import (
    ENTRIES_SHEET,
    PROGRESS_SHEET,
    Exporter,
    ExportFiles,
    content_key,
    write_exports,
)
from bot.submissions.states import EntryKind, EntryStatus, Flag, VerifyStatus

NOW = datetime(2027, 7, 1, 10, 0, 5, tzinfo=UTC)  # 18:00:05 in Shanghai
SUBMITTED = datetime(2027, 6, 25, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai

ENTRY_HEADER = [
    "回执编号",
    "单位",
    "作者",
    "链接",
    "平台",
    "标题",
    "字数",
    "核验结果",
    "存疑原因",
    "提交人",
    "提交时间",
    "状态",
    "提交的原链接",
]


def entry(receipt: int, **changes: Any) -> EntryView:
    view = EntryView(
        receipt=receipt,
        unit_id=1,
        unit_name="南湖街道",
        author="张三",
        url=f"https://blog.sina.com.cn/s/blog_{receipt}.html",
        given_url=f"blog.sina.com.cn/s/blog_{receipt}.html",
        platform="blog.sina.com.cn",
        platform_name="新浪博客",
        kind=EntryKind.BLOG,
        status=EntryStatus.ACCEPTED,
        late=False,
        submitted_by=10001,
        submitted_at=SUBMITTED,
        withdrawn_by=None,
        withdrawn_at=None,
        source_group=None,
        source_message_id=None,
        verify_status=VerifyStatus.OK,
        title="学习党史心得",
        text_length=812,
        published_on=date(2027, 6, 25),
        verified_at=SUBMITTED,
        flags=(),
    )
    return replace(view, **changes)


PROGRESS = [
    Progress(1, "南湖街道", "town", 50, accepted=2, late=1, flagged=1),
    Progress(3, "区教文体局", "dept", 5, accepted=5),
    Progress(9, "无类别单位", "other", None),
]
ENTRIES = [
    entry(1),
    entry(
        2,
        author=None,
        title=None,
        text_length=420,
        verify_status=VerifyStatus.OK,
        flags=(Flag.SHORT, Flag.OUTSIDE_WINDOW),
        late=True,
        submitted_by=10000,
    ),
    entry(
        3,
        status=EntryStatus.WITHDRAWN,
        verify_status=VerifyStatus.PENDING,
        title=None,
        text_length=None,
    ),
]


def test_files_are_named_with_the_contest_local_time(tmp_path: Path, contest: Contest) -> None:
    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    assert files.xlsx == tmp_path / "exports" / "submissions-20270701-180005.xlsx"
    assert files.csv == tmp_path / "exports" / "submissions-20270701-180005.csv"
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [
        "submissions-20270701-180005.csv",
        "submissions-20270701-180005.xlsx",
    ]


def test_a_second_export_in_the_same_second_does_not_overwrite(
    tmp_path: Path, contest: Contest
) -> None:
    first = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)
    second = write_exports(tmp_path, PROGRESS, ENTRIES[:1], contest, NOW)

    assert second.xlsx != first.xlsx
    assert second.xlsx.name == "submissions-20270701-180005-2.xlsx"
    assert len(load_workbook(first.xlsx)[ENTRIES_SHEET]["A"]) == 4


def test_progress_sheet_lists_units_cell_by_cell(tmp_path: Path, contest: Contest) -> None:
    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    book = load_workbook(files.xlsx)
    assert book.sheetnames == [PROGRESS_SHEET, ENTRIES_SHEET]
    sheet = book[PROGRESS_SHEET]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["单位", "类别", "配额", "已提交", "逾期", "存疑", "完成率"],
        ["南湖街道", "镇、街道", 50, 2, 1, 1, 0.04],
        ["区教文体局", "部门、单位", 5, 5, 0, 0, 1.0],
        ["无类别单位", "other", None, 0, 0, 0, None],
    ]
    assert sheet["G2"].number_format == "0.0%"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"
    assert sheet.column_dimensions["A"].width == 24
    assert sheet["A1"].font.bold


def test_entries_sheet_lists_every_entry_cell_by_cell(tmp_path: Path, contest: Contest) -> None:
    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    sheet = load_workbook(files.xlsx)[ENTRIES_SHEET]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    local = datetime(2027, 6, 25, 9, 30)
    assert rows == [
        ENTRY_HEADER,
        [
            1,
            "南湖街道",
            "张三",
            "https://blog.sina.com.cn/s/blog_1.html",
            "新浪博客",
            "学习党史心得",
            812,
            "已核验",
            None,
            10001,
            local,
            "有效",
            "blog.sina.com.cn/s/blog_1.html",
        ],
        [
            2,
            "南湖街道",
            None,
            "https://blog.sina.com.cn/s/blog_2.html",
            "新浪博客",
            None,
            420,
            "已核验",
            "字数不足、发布时间不在大赛期间",
            10000,
            local,
            "有效（逾期）",
            "blog.sina.com.cn/s/blog_2.html",
        ],
        [
            3,
            "南湖街道",
            "张三",
            "https://blog.sina.com.cn/s/blog_3.html",
            "新浪博客",
            None,
            None,
            "待核验",
            None,
            10001,
            local,
            "已撤回",
            "blog.sina.com.cn/s/blog_3.html",
        ],
    ]
    assert sheet["D2"].hyperlink.target == "https://blog.sina.com.cn/s/blog_1.html"
    assert sheet["K2"].is_date
    assert sheet["K2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M4"
    assert sheet.column_dimensions["D"].width == 50


def test_csv_has_a_bom_and_the_same_rows(tmp_path: Path, contest: Contest) -> None:
    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    raw = files.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ENTRY_HEADER
    assert rows[2] == [
        "2",
        "南湖街道",
        "",
        "https://blog.sina.com.cn/s/blog_2.html",
        "新浪博客",
        "",
        "420",
        "已核验",
        "字数不足、发布时间不在大赛期间",
        "10000",
        "2027-06-25 09:30",
        "有效（逾期）",
        "blog.sina.com.cn/s/blog_2.html",
    ]
    assert len(rows) == 4


def test_with_verification_off_a_waiting_entry_reads_not_verified(
    tmp_path: Path, contest: Contest
) -> None:
    off = replace(contest, submission=replace(contest.submission, verify=False))
    files = write_exports(tmp_path, PROGRESS, ENTRIES, off, NOW)

    rows = list(csv.reader(files.csv.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[7] for r in rows[1:]] == ["已核验", "已核验", "未核验"]


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://evil","点我")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"],
)
def test_formulas_in_user_text_are_neutralised(
    tmp_path: Path, contest: Contest, hostile: str
) -> None:
    entries = [entry(1, author=hostile[:20], title=hostile)]

    files = write_exports(tmp_path, PROGRESS, entries, contest, NOW)

    sheet = load_workbook(files.xlsx)[ENTRIES_SHEET]
    for coordinate, expected in (("C2", hostile[:20]), ("F2", hostile)):
        cell = sheet[coordinate]
        assert (cell.value, cell.data_type) == (expected, "s")
        assert cell.quotePrefix
    row = list(csv.reader(files.csv.read_text(encoding="utf-8-sig").splitlines()))[1]
    assert (row[2], row[5]) == ("'" + hostile[:20], "'" + hostile)


def test_control_characters_from_fetched_pages_do_not_break_the_workbook(
    tmp_path: Path, contest: Contest
) -> None:
    files = write_exports(tmp_path, PROGRESS, [entry(1, title="标题\x00\x07结尾")], contest, NOW)

    assert load_workbook(files.xlsx)[ENTRIES_SHEET]["F2"].value == "标题结尾"


def test_an_empty_contest_exports_headers_only(tmp_path: Path, contest: Contest) -> None:
    files = write_exports(tmp_path, [], [], contest, NOW)

    book = load_workbook(files.xlsx)
    assert [list(r) for r in book[ENTRIES_SHEET].iter_rows(values_only=True)] == [ENTRY_HEADER]
    assert files.csv.read_text(encoding="utf-8-sig").splitlines() == [",".join(ENTRY_HEADER)]


def test_exports_started_in_the_same_second_in_parallel_all_complete(
    tmp_path: Path, contest: Contest
) -> None:
    many = [entry(n) for n in range(1, 301)]

    def one(_: int) -> ExportFiles:
        return write_exports(tmp_path, PROGRESS, many, contest, NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(12)))

    assert len({files.xlsx for files in results}) == 12
    assert len({files.csv for files in results}) == 12
    for files in results:
        assert len(load_workbook(files.xlsx)[ENTRIES_SHEET]["A"]) == 301
        assert len(files.csv.read_text(encoding="utf-8-sig").splitlines()) == 301
    assert not [p.name for p in (tmp_path / "exports").iterdir() if p.name.startswith(".")]


def test_an_export_never_replaces_a_file_already_there(tmp_path: Path, contest: Contest) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "submissions-20270701-180005.xlsx").write_bytes(b"being downloaded")

    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    assert (folder / "submissions-20270701-180005.xlsx").read_bytes() == b"being downloaded"
    assert files.xlsx.name == "submissions-20270701-180005-2.xlsx"
    assert files.csv.name == "submissions-20270701-180005-2.csv"


def test_exports_older_than_a_week_are_removed_by_the_next_export(
    tmp_path: Path, contest: Contest
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    old = folder / "submissions-20270601-090000.xlsx"
    recent = folder / "submissions-20270628-090000.xlsx"
    stale_temp = folder / ".submissions-20270601-090000.xlsx.abc.tmp"
    for path in (old, recent, stale_temp):
        path.write_bytes(b"x")
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old, (eight_days_ago, eight_days_ago))
    os.utime(stale_temp, (eight_days_ago, eight_days_ago))
    two_days_ago = time.time() - 2 * 86400
    os.utime(recent, (two_days_ago, two_days_ago))

    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [recent.name, files.xlsx.name, files.csv.name]
    )


def test_exports_work_on_a_file_system_without_hard_links(
    tmp_path: Path, contest: Contest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    files = write_exports(tmp_path, PROGRESS, ENTRIES, contest, NOW)

    assert len(load_workbook(files.xlsx)[ENTRIES_SHEET]["A"]) == 4
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == sorted(
        [files.xlsx.name, files.csv.name]
    )


# --- one export job at a time, shared while the data is unchanged -----------------------------


async def test_concurrent_exports_of_unchanged_data_share_one_job(
    tmp_path: Path, contest: Contest
) -> None:
    exporter = Exporter(tmp_path)
    loads = 0

    async def load() -> tuple[list[Progress], list[EntryView]]:
        nonlocal loads
        loads += 1
        return PROGRESS, ENTRIES

    results = await asyncio.gather(*(exporter.export(load, contest, NOW) for _ in range(12)))

    assert exporter.jobs == 1
    assert loads == 12  # each request reads the data again after the job before it
    assert len({files.xlsx for files in results}) == 1
    assert len(load_workbook(results[0].xlsx)[ENTRIES_SHEET]["A"]) == len(ENTRIES) + 1
    assert sorted(p.suffix for p in (tmp_path / "exports").iterdir()) == [".csv", ".xlsx"]


async def test_a_change_in_the_data_makes_a_new_export(tmp_path: Path, contest: Contest) -> None:
    exporter = Exporter(tmp_path)
    data = [ENTRIES]

    async def load() -> tuple[list[Progress], list[EntryView]]:
        return PROGRESS, data[0]

    first = await exporter.export(load, contest, NOW)
    data[0] = [*ENTRIES, entry(4, author="王五")]
    second = await exporter.export(load, contest, NOW)
    first.xlsx.unlink()  # a file cleaned up (or removed by hand) is never handed out again
    data[0] = [*ENTRIES]
    third = await exporter.export(load, contest, NOW)

    assert exporter.jobs == 3
    assert len({first.xlsx, second.xlsx, third.xlsx}) == 3
    assert len(load_workbook(second.xlsx)[ENTRIES_SHEET]["A"]) == len(ENTRIES) + 2


def test_the_content_key_changes_with_any_cell(contest: Contest) -> None:
    base = content_key(PROGRESS, ENTRIES, contest)

    assert content_key(PROGRESS, ENTRIES, contest) == base
    assert content_key(PROGRESS, [*ENTRIES[:2], replace(ENTRIES[2], author="改")], contest) != base
    assert content_key(PROGRESS[:2], ENTRIES, contest) != base
