"""`python -m bot check | import-units | migrate | migrate-to …` as an operator runs them, in a
subprocess."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.settings.loader import load_contest_or_raise
from bot.storage.db import make_engine, session_maker
from bot.units.directory import UnitDirectory, UnitView
from tests.databases import postgres_database
from tests.e2e.conftest import REPO_ROOT, SHIPPED_CONFIG, app_env, free_port, write_contest

TIMEOUT = 60


class Operator:
    """Runs `python -m bot …` from the repository root on one config and one data dir."""

    def __init__(self, tmp_path: Path, config: Path) -> None:
        self.config = config
        self.data_dir = tmp_path / "data"
        self.database = self.data_dir / "bot.db"
        self.env = app_env(port=free_port(), data_dir=self.data_dir, config=config)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )

    async def units(self) -> list[UnitView]:
        engine = make_engine(f"sqlite+aiosqlite:///{self.database}")
        try:
            directory = await UnitDirectory.load(
                session_maker(engine), load_contest_or_raise(self.config)
            )
            return directory.list_units()
        finally:
            await engine.dispose()


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    """An operator with the minimal test contest (units 南湖街道 and 区教文体局)."""
    config = tmp_path / "contest.toml"
    write_contest(config, from_shipped=False)
    return Operator(tmp_path, config)


@pytest.fixture
def open_operator(tmp_path: Path) -> Operator:
    """The minimal contest, open now (started yesterday, a week to go)."""
    import datetime as dt

    local = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) + dt.timedelta(hours=8)
    config = tmp_path / "contest.toml"
    write_contest(
        config,
        {
            "contest": {
                "start": local - dt.timedelta(days=1),
                "deadline": local + dt.timedelta(days=7),
            }
        },
        from_shipped=False,
    )
    return Operator(tmp_path, config)


def _version_row(database: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT version_num FROM bot_alembic_version").fetchall()


# --- check ------------------------------------------------------------------------------------


def test_check_on_the_shipped_config_prints_ok(tmp_path: Path) -> None:
    result = Operator(tmp_path, SHIPPED_CONFIG).run("check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK\n")
    assert "大赛：" in result.stdout
    # Warnings, not errors: the example's placeholder group and QQ numbers.
    assert "注意：群号 123456789 是示例里的占位数字" in result.stdout
    assert "（共 27 个）是示例里的占位号码" in result.stdout


def test_check_without_placeholders_has_no_warning(tmp_path: Path) -> None:
    config = tmp_path / "contest.toml"
    write_contest(
        config,
        {
            "contest": {"organizers": [3_456_789_012]},
            "units": [
                {"name": "南湖街道", "category": "town", "secretaries": [2_876_543_210]},
            ],
        },
        from_shipped=False,
    )
    result = Operator(tmp_path, config).run("check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "占位" not in result.stdout


def test_check_names_every_broken_key(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    write_contest(
        config,
        {
            "contest": {"timezone": "Asia/Shanghia"},
            "units": [{"name": "凤桥镇", "category": "village", "secretaries": []}],
        },
        from_shipped=False,
    )

    result = Operator(tmp_path, config).run("check")

    assert result.returncode == 1
    assert "OK" not in result.stdout
    assert "contest.timezone" in result.stdout
    assert "Asia/Shanghia" in result.stdout
    assert "units[1].category" in result.stdout
    assert "village" in result.stdout


def test_check_does_not_create_the_database(tmp_path: Path) -> None:
    operator = Operator(tmp_path, SHIPPED_CONFIG)

    assert operator.run("check").returncode == 0
    assert not operator.database.exists()


# --- import-units -----------------------------------------------------------------------------

ROSTER_HEADER = ["名称", "类别", "配额", "联络员", "别名"]
GOOD_ROWS = [
    ["凤桥镇", "镇、街道", "", "30001", "凤桥"],
    ["新丰镇", "town", "40", "30002、30003", ""],
    ["区财政局", "dept", "", "", "财政局"],
]
BAD_ROW = ["七星村", "乡镇", "", "30004", ""]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    text = "\r\n".join(",".join(row) for row in [ROSTER_HEADER, *rows]) + "\r\n"
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def _xlsx(path: Path, rows: list[list[str | int | None]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["南湖区各单位联络员名单"])  # a title row above the headers, as people write
    sheet.append(ROSTER_HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


async def test_import_adds_the_good_rows_of_a_csv_roster(
    operator: Operator, tmp_path: Path
) -> None:
    roster = _csv(tmp_path / "roster.csv", [*GOOD_ROWS, BAD_ROW])

    result = operator.run("import-units", str(roster))

    assert "新增 3 个" in result.stdout, result.stdout + result.stderr
    units = {u.name: u for u in await operator.units()}
    assert {"凤桥镇", "新丰镇", "区财政局"} <= set(units)
    assert "七星村" not in units
    assert (units["凤桥镇"].category, units["凤桥镇"].quota) == ("town", 50)
    assert units["凤桥镇"].secretaries == (30001,)
    assert units["凤桥镇"].aliases == ("凤桥",)
    assert units["新丰镇"].quota == 40
    assert units["新丰镇"].secretaries == (30002, 30003)
    assert (units["区财政局"].category, units["区财政局"].quota) == ("dept", 5)


async def test_import_reports_a_bad_row_by_file_and_row_number(
    operator: Operator, tmp_path: Path
) -> None:
    roster = _csv(tmp_path / "roster.csv", [*GOOD_ROWS, BAD_ROW])

    result = operator.run("import-units", str(roster))

    assert result.returncode == 1
    assert "问题 1 个" in result.stdout
    assert "roster.csv: 第 5 行 类别: 没有类别「乡镇」" in result.stdout


async def test_clean_import_exits_zero(operator: Operator, tmp_path: Path) -> None:
    result = operator.run("import-units", str(_csv(tmp_path / "roster.csv", GOOD_ROWS)))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "新增 3 个，更新 0 个，未变 0 个，问题 0 个" in result.stdout


async def test_import_from_xlsx(operator: Operator, tmp_path: Path) -> None:
    roster = _xlsx(
        tmp_path / "roster.xlsx",
        [["凤桥镇", "town", None, 30001, "凤桥"], ["区财政局", "部门、单位", 8, None, None]],
    )

    result = operator.run("import-units", str(roster))

    assert result.returncode == 0, result.stdout + result.stderr
    units = {u.name: u for u in await operator.units()}
    assert units["凤桥镇"].secretaries == (30001,)
    assert (units["区财政局"].category, units["区财政局"].quota) == ("dept", 8)


async def test_importing_the_same_file_twice_changes_nothing(
    operator: Operator, tmp_path: Path
) -> None:
    roster = _csv(tmp_path / "roster.csv", GOOD_ROWS)
    operator.run("import-units", str(roster))
    first = await operator.units()

    again = operator.run("import-units", str(roster))

    assert again.returncode == 0, again.stdout + again.stderr
    assert "新增 0 个，更新 0 个，未变 3 个，问题 0 个" in again.stdout
    assert await operator.units() == first


async def test_import_on_a_fresh_database_respects_units_from_the_config(
    operator: Operator, tmp_path: Path
) -> None:
    """南湖街道 is in contest.toml: the roster may not change its quota, even before the first
    start of the bot, and says so instead of reporting it as a new unit."""
    roster = _csv(tmp_path / "roster.csv", [["南湖街道", "town", "60", "30001", ""]])

    result = operator.run("import-units", str(roster))

    assert "新增 0 个" in result.stdout, result.stdout + result.stderr
    assert "由 contest.toml 管理" in result.stdout
    units = {u.name: u for u in await operator.units()}
    assert units["南湖街道"].quota == 50
    assert units["南湖街道"].secretaries == (10_001, 30001)


async def test_import_of_a_missing_file_is_a_problem(operator: Operator, tmp_path: Path) -> None:
    result = operator.run("import-units", str(tmp_path / "nope.csv"))

    assert result.returncode == 1
    assert "nope.csv: 文件: 文件不存在。" in result.stdout


# --- migrate and a database from the future ---------------------------------------------------


def test_migrate_creates_the_database(operator: Operator) -> None:
    result = operator.run("migrate")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "数据库已是最新版本" in result.stdout
    assert operator.database.exists()
    assert len(_version_row(operator.database)) == 1


def _from_the_future(operator: Operator) -> bytes:
    """Migrate, then pretend a newer bot wrote the database; its bytes."""
    assert operator.run("migrate").returncode == 0
    with sqlite3.connect(operator.database) as connection:
        connection.execute("UPDATE bot_alembic_version SET version_num = 'ffffffffffff'")
    connection.close()
    return operator.database.read_bytes()


@pytest.mark.parametrize("args", [(), ("migrate",)], ids=["run", "migrate"])
def test_a_database_from_a_newer_bot_is_refused_untouched(
    operator: Operator, args: tuple[str, ...]
) -> None:
    before = _from_the_future(operator)

    result = operator.run(*args)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "数据库结构版本为 ffffffffffff" in result.stdout
    assert "请升级机器人程序" in result.stdout
    assert _version_row(operator.database) == [("ffffffffffff",)]
    assert operator.database.read_bytes() == before


# --- migrate-to -------------------------------------------------------------------------------


def _unit_names(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM unit ORDER BY id").fetchall()
    connection.close()
    return [name for (name,) in rows]


def test_migrate_to_copies_everything_and_says_what_to_write_in_env(
    operator: Operator, tmp_path: Path
) -> None:
    assert (
        operator.run("import-units", str(_csv(tmp_path / "roster.csv", GOOD_ROWS))).returncode == 0
    )
    new = tmp_path / "new" / "bot.db"

    result = operator.run("migrate-to", f"sqlite+aiosqlite:///{new}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "张表、" in result.stdout
    assert "两边逐表核对，行数一致" in result.stdout
    assert f"  DATABASE_URL=sqlite+aiosqlite:///{new}\n" in result.stdout
    assert "真实密码" not in result.stdout
    assert _unit_names(new) == _unit_names(operator.database)
    assert len(_unit_names(new)) == 5


def test_migrate_to_carries_each_archived_round_across(operator: Operator, tmp_path: Path) -> None:
    assert (
        operator.run("import-units", str(_csv(tmp_path / "roster.csv", GOOD_ROWS))).returncode == 0
    )
    started = operator.run("round", "new", "--label", "下一轮", "--yes")
    assert started.returncode == 0, started.stdout + started.stderr
    new = tmp_path / "new" / "bot.db"

    result = operator.run("migrate-to", f"sqlite+aiosqlite:///{new}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"已复制「\d{4}年」的归档：\d+ 张表、[\d,]+ 行。\n", result.stdout)
    assert _unit_names(new.with_name("bot.round-1.sqlite")) == _unit_names(operator.database)


def test_migrate_to_a_database_holding_data_is_refused(operator: Operator, tmp_path: Path) -> None:
    assert (
        operator.run("import-units", str(_csv(tmp_path / "roster.csv", GOOD_ROWS))).returncode == 0
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    assert operator.run("migrate-to", url).returncode == 0

    again = operator.run("migrate-to", url)

    assert again.returncode == 1
    assert "里已有数据" in again.stdout
    assert "没有做任何改动" in again.stdout
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://bot:s3cret@127.0.0.1/bot", "把开头改成 postgresql+asyncpg://"),
        ("postgresql+asyncpg://bot:s3cret@127.0.0.1:1/bot", "连不上目标数据库"),
    ],
)
def test_migrate_to_a_bad_address_says_why_without_the_password(
    operator: Operator, url: str, said: str
) -> None:
    result = operator.run("migrate-to", url)

    assert result.returncode == 1
    assert said in result.stdout
    assert "s3cret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
async def test_migrate_to_postgresql_shows_the_env_line_with_the_password_hidden(
    operator: Operator,
) -> None:
    assert operator.run("migrate").returncode == 0
    async with postgres_database() as url:
        # The test server trusts local connections: the password is there only to be hidden.
        with_password = make_url(url).set(password="s3cret").render_as_string(False)

        result = operator.run("migrate-to", with_password)

    assert result.returncode == 0, result.stdout + result.stderr
    shown = make_url(with_password).render_as_string(hide_password=True)
    assert f"  DATABASE_URL={shown}\n" in result.stdout
    assert "（*** 处写真实密码。）" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


# --- import-submissions -----------------------------------------------------------------------


def _sheet(path: Path, rows: list[list[str]]) -> Path:
    path.write_bytes(("\r\n".join(",".join(row) for row in rows) + "\r\n").encode("utf-8-sig"))
    return path


def test_import_submissions_applies_the_chat_rules_and_reports_each_row(
    open_operator: Operator, tmp_path: Path
) -> None:
    operator = open_operator
    sheet = _sheet(
        tmp_path / "links.csv",
        [
            ["单位", "链接", "作者"],
            ["南湖街道", "https://weibo.com/1234567890/z0JH2lOMb", "张三"],
            ["南湖", "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html", "李四"],
            ["不存在的单位", "https://weibo.com/1/abc", "王五"],
            ["南湖街道", "javascript:alert(1)", "赵六"],
            ["区教文体局", "https://m.weibo.cn/status/3501756485200075", "钱七"],
        ],
    )

    result = operator.run("import-submissions", str(sheet))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "登记 2 条，重复 1 条，未登记 2 条" in result.stdout
    assert "第 6 行：已由「南湖街道」提交（#1）" in result.stdout  # mobile form of row 2's post
    assert "第 4 行：没有找到单位" in result.stdout
    assert "第 5 行：只收 http:// 或 https://" in result.stdout
    with sqlite3.connect(operator.database) as connection:
        rows = connection.execute("SELECT receipt, author FROM entry ORDER BY receipt").fetchall()
    assert rows == [(1, "张三"), (2, "李四")]


def test_importing_the_same_submissions_twice_adds_nothing(
    open_operator: Operator, tmp_path: Path
) -> None:
    operator = open_operator
    sheet = _sheet(
        tmp_path / "links.csv",
        [["单位", "链接"], ["南湖街道", "https://weibo.com/1234567890/z0JH2lOMb"]],
    )
    assert operator.run("import-submissions", str(sheet)).returncode == 0
    again = operator.run("import-submissions", str(sheet))
    assert "登记 0 条，重复 1 条" in again.stdout


def test_import_metrics_reports_each_row_and_twice_adds_nothing(
    open_operator: Operator, tmp_path: Path
) -> None:
    operator = open_operator
    links = _sheet(
        tmp_path / "links.csv",
        [
            ["单位", "链接"],
            ["南湖街道", "https://weibo.com/1234567890/z0JH2lOMb"],
            ["南湖街道", "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html"],
        ],
    )
    assert operator.run("import-submissions", str(links)).returncode == 0
    figures = _sheet(
        tmp_path / "阅读量.csv",
        [
            ["编号", "链接", "阅读量", "转发"],
            ["#1", "", '"12,300"', "85"],
            ["", "blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html", "1.2万", ""],
            ["7", "", "10", ""],
            ["2", "", "-3", ""],
            ["2", "", "9" * 23, ""],
        ],
    )

    result = operator.run("import-metrics", str(figures))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "记录 2 行，与已有数据相同 0 行，未记录 3 行" in result.stdout
    assert "第 2 行：#1 阅读 12,300、转发 85" in result.stdout
    assert "第 3 行：#2 阅读 12,000" in result.stdout
    assert "第 4 行：没有编号 #7 的作品" in result.stdout
    assert "第 5 行：阅读：「-3」不是数字" in result.stdout
    assert "第 6 行：阅读：「99999999999999999999」太大了" in result.stdout
    lines = [line.split("：")[0].strip() for line in result.stdout.splitlines()[1:]]
    assert lines == [f"第 {n} 行" for n in range(2, 7)]  # in the file's order
    with sqlite3.connect(operator.database) as connection:
        stored = connection.execute(
            "SELECT receipt, metric, value FROM metric_snapshot ORDER BY receipt, metric"
        ).fetchall()
    assert stored == [(1, "reposts", 85), (1, "views", 12_300), (2, "views", 12_000)]
    again = operator.run("import-metrics", str(figures))
    assert "记录 0 行，与已有数据相同 2 行" in again.stdout


def test_rows_before_the_contest_opened_are_refused_unless_historical(
    operator: Operator, tmp_path: Path
) -> None:
    """The minimal contest opens on 2027-06-24: today's undated rows come before it."""
    sheet = _sheet(
        tmp_path / "links.csv",
        [
            ["单位", "链接", "时间"],
            ["南湖街道", "https://weibo.com/1234567890/z0JH2lOMb", ""],
            [
                "南湖街道",
                "https://blog.sina.com.cn/s/blog_4b3c2a1d0102e5f6.html",
                "2027-07-02 09:00",
            ],
        ],
    )

    refused = operator.run("import-submissions", str(sheet))
    historical = operator.run("import-submissions", "--historical", str(sheet))

    assert refused.returncode == 1
    assert "第 2 行：大赛于 6月24日 00:00 开始接受提交" in refused.stdout
    assert "登记 1 条" in refused.stdout  # the row after the deadline: accepted, late
    assert historical.stdout.startswith("补录导入完成：登记 1 条，重复 1 条")
    with sqlite3.connect(operator.database) as connection:
        rows = connection.execute("SELECT receipt, late FROM entry ORDER BY receipt").fetchall()
    assert rows == [(1, 1), (2, 0)]


# --- in one voice -----------------------------------------------------------------------------


def test_help_and_usage_errors_are_in_chinese(operator: Operator) -> None:
    top = operator.run("--help")
    sub = operator.run("import-units", "--help")
    migrate_to = operator.run("migrate-to", "--help")
    wrong = operator.run("nope")
    missing = operator.run("import-units")

    assert top.returncode == 0
    assert top.stdout.startswith("用法：python -m bot")
    assert "显示本帮助并退出" in top.stdout
    for english in ("usage:", "options:", "show this help", "positional arguments"):
        assert english not in top.stdout + sub.stdout
    assert "CSV 或 XLSX 文件" in sub.stdout
    assert "须是新建的空库" in migrate_to.stdout
    assert (wrong.returncode, missing.returncode) == (2, 2)
    assert "错误：没有这个指令" in wrong.stderr
    assert "错误：缺少参数：文件" in missing.stderr
    assert "invalid choice" not in wrong.stderr + missing.stderr


def test_the_bot_logs_in_one_format_from_its_first_line(operator: Operator) -> None:
    """The check and the migration run before NoneBot starts; their lines must look like
    NoneBot's (`MM-DD HH:MM:SS [LEVEL] name | message`), at the configured level."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=REPO_ROOT,
        env={**operator.env, "FAQ_SEMANTIC": "off", "LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "Application startup complete" in line or len(lines) > 200:
                break
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)

    logged = [line for line in lines if line.strip()]
    assert logged, lines
    shape = r"^\d\d-\d\d \d\d:\d\d:\d\d \[[A-Z]+\] \S+ \| "
    import re

    assert all(re.match(shape, line) for line in logged), logged[:5]
    assert not any("[DEBUG]" in line for line in logged)
