from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import select

from bot.settings.contest import Contest, UnitSpec
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions
from bot.units.directory import UnitDirectory
from bot.units.roster import import_units, read_roster

ORGANIZER = 10000

ROSTER = """名称,类别,配额,联络员,别名
凤桥镇,town,,"30001，30002",凤桥
余新镇,镇、街道,45,30003,
区卫生局,dept,,30004;30005,卫生局
"""


def _csv(tmp_path: Path, text: str, encoding: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _xlsx(tmp_path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    return path


async def _synced(sessions: Sessions, contest: Contest, now: datetime) -> UnitDirectory:
    directory = await UnitDirectory.load(sessions, contest)
    await directory.sync_from_config(contest, now)
    return directory


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_roster_is_read_in_every_excel_encoding(
    tmp_path: Path, contest: Contest, encoding: str
) -> None:
    specs, problems = read_roster(_csv(tmp_path, ROSTER, encoding), contest)

    assert problems == []
    assert specs == [
        UnitSpec(name="凤桥镇", category="town", secretaries=(30001, 30002), aliases=("凤桥",)),
        UnitSpec(name="余新镇", category="town", secretaries=(30003,), quota=45),
        UnitSpec(name="区卫生局", category="dept", secretaries=(30004, 30005), aliases=("卫生局",)),
    ]


def test_xlsx_roster_with_a_title_row_and_numeric_cells(tmp_path: Path, contest: Contest) -> None:
    path = _xlsx(
        tmp_path,
        [
            ["南湖区各单位联络员名单（2027）"],
            ["单位名称", "类别", "配额（选填）", "联络员QQ"],
            ["凤桥镇", "town", 40, 30001],
            ["区卫生局", "部门、单位", None, "30004、30005"],
        ],
    )

    specs, problems = read_roster(path, contest)

    assert problems == []
    assert specs == [
        UnitSpec(name="凤桥镇", category="town", secretaries=(30001,), quota=40),
        UnitSpec(name="区卫生局", category="dept", secretaries=(30004, 30005)),
    ]


def test_english_headers_are_accepted(tmp_path: Path, contest: Contest) -> None:
    text = "Name,Category,Quota,Secretaries\n凤桥镇,town,40,30001 30002\n"

    specs, problems = read_roster(_csv(tmp_path, text, "utf-8"), contest)

    assert problems == []
    assert specs == [UnitSpec(name="凤桥镇", category="town", secretaries=(30001, 30002), quota=40)]


def test_bad_rows_are_reported_with_row_numbers_and_skipped(
    tmp_path: Path, contest: Contest
) -> None:
    text = (
        "名称,类别,配额,联络员\n"
        "凤桥镇,town,,30001\n"  # row 2: fine
        ",town,,\n"  # row 3
        "余新镇,village,,\n"  # row 4
        "大桥镇,town,很多,\n"  # row 5
        "七星街道,town,,张三\n"  # row 6
        "\n"
        "区卫生局,dept,,30001\n"  # row 8: 30001 is already 凤桥镇's
    )

    specs, problems = read_roster(_csv(tmp_path, text, "utf-8"), contest)

    assert [s.name for s in specs] == ["凤桥镇"]
    assert [p.key for p in problems] == [
        "第 3 行 名称",
        "第 4 行 类别",
        "第 5 行 配额",
        "第 6 行 联络员",
        "第 8 行 联络员",
    ]
    assert all(p.file == "roster.csv" for p in problems)
    assert "town" in problems[1].message


def test_repeated_rows_count_once_and_conflicting_ones_are_reported(
    tmp_path: Path, contest: Contest
) -> None:
    text = "名称,类别,配额\n凤桥镇,town,40\n凤桥镇,town,40\n凤桥镇,town,30\n"

    specs, problems = read_roster(_csv(tmp_path, text, "utf-8"), contest)

    assert [s.quota for s in specs] == [40]
    assert [p.key for p in problems] == ["第 4 行 名称"]


def test_unknown_column_is_reported(tmp_path: Path, contest: Contest) -> None:
    text = "名称,类别,备注\n凤桥镇,town,无\n"

    specs, problems = read_roster(_csv(tmp_path, text, "utf-8"), contest)

    assert len(specs) == 1
    assert [p.key for p in problems] == ["表头「备注」"]


def test_file_without_a_name_column_is_refused(tmp_path: Path, contest: Contest) -> None:
    specs, problems = read_roster(_csv(tmp_path, "甲,乙\n1,2\n", "utf-8"), contest)

    assert specs == []
    assert [p.key for p in problems] == ["表头"]


def test_old_xls_files_are_refused_with_advice(tmp_path: Path, contest: Contest) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")

    specs, problems = read_roster(path, contest)

    assert specs == []
    assert ".xlsx" in problems[0].message


def test_missing_file_is_reported(tmp_path: Path, contest: Contest) -> None:
    specs, problems = read_roster(tmp_path / "nope.csv", contest)

    assert specs == []
    assert problems[0].message == "文件不存在。"


# ------------------------------------------------------------------ importing


async def test_import_adds_units_and_binds_secretaries(
    sessions: Sessions, contest: Contest, now: datetime, tmp_path: Path
) -> None:
    directory = await _synced(sessions, contest, now)
    specs, _ = read_roster(_csv(tmp_path, ROSTER, "utf-8"), contest)

    result = await import_units(directory, specs, contest, ORGANIZER, now)

    assert result.added == ("凤桥镇", "余新镇", "区卫生局")
    assert result.problems == ()
    unit = directory.unit_of(30005)
    assert unit is not None
    assert (unit.name, unit.origin, unit.quota) == ("区卫生局", "import", 5)
    yuxin = directory.find("余新镇").unit
    assert yuxin is not None
    assert (yuxin.quota, yuxin.quota_source) == (45, "unit")
    assert directory.find("凤桥").unit == directory.find("凤桥镇").unit


async def test_importing_the_same_file_twice_changes_nothing(
    sessions: Sessions, contest: Contest, now: datetime, tmp_path: Path
) -> None:
    directory = await _synced(sessions, contest, now)
    specs, _ = read_roster(_csv(tmp_path, ROSTER, "utf-8"), contest)
    await import_units(directory, specs, contest, ORGANIZER, now)
    before = directory.list_units()
    async with sessions() as session:
        logged = len((await session.exec(select(ChangeLog))).all())

    again = await import_units(directory, specs, contest, ORGANIZER, now + timedelta(hours=1))

    assert (again.added, again.updated) == ((), ())
    assert again.skipped == ("凤桥镇", "余新镇", "区卫生局")
    assert directory.list_units() == before
    async with sessions() as session:
        assert len((await session.exec(select(ChangeLog))).all()) == logged


async def test_import_updates_a_changed_unit(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)
    await import_units(directory, [UnitSpec("凤桥镇", "town", (30001,))], contest, ORGANIZER, now)

    result = await import_units(
        directory, [UnitSpec("凤桥镇", "town", (30001, 30002), quota=40)], contest, ORGANIZER, now
    )

    assert result.updated == ("凤桥镇",)
    assert directory.secretaries_of("凤桥镇") == [30001, 30002]
    unit = directory.find("凤桥镇").unit
    assert unit is not None
    assert unit.quota == 40


async def test_import_keeps_config_units_category_but_binds_their_secretaries(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    result = await import_units(
        directory, [UnitSpec("南湖街道", "dept", (30009,))], contest, ORGANIZER, now
    )

    assert "contest.toml" in result.problems[0].message
    unit = directory.unit_of(30009)
    assert unit is not None
    assert (unit.name, unit.category) == ("南湖街道", "town")


async def test_import_reports_an_unknown_category(
    sessions: Sessions, contest: Contest, now: datetime
) -> None:
    directory = await _synced(sessions, contest, now)

    result = await import_units(directory, [UnitSpec("凤桥镇", "village")], contest, ORGANIZER, now)

    assert result.added == ()
    assert result.problems[0].key == "单位「凤桥镇」 类别"
    assert directory.find("凤桥镇").unit is None


async def test_imported_units_survive_a_restart(
    sessions: Sessions, contest: Contest, now: datetime, tmp_path: Path
) -> None:
    directory = await _synced(sessions, contest, now)
    specs, _ = read_roster(_csv(tmp_path, ROSTER, "gbk"), contest)
    await import_units(directory, specs, contest, ORGANIZER, now)

    restarted = await _synced(sessions, contest, now + timedelta(days=1))

    unit = restarted.unit_of(30001)
    assert unit is not None
    assert unit.name == "凤桥镇"
    assert len(restarted.list_units()) == 6
