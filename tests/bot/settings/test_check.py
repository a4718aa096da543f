from pathlib import Path

from bot.settings.check import check, exit_code, format_report

SHIPPED = Path(__file__).parents[3] / "config" / "contest.toml"
TOKEN = "s3cret-token-value"


def no_env(tmp_path: Path) -> Path:
    return tmp_path / ".env"


def test_shipped_config_reports_ok(tmp_path: Path) -> None:
    report = check({}, no_env(tmp_path), SHIPPED)
    assert report.ok
    assert exit_code(report) == 0
    assert format_report(report).splitlines()[0] == "OK"


def test_summary_shows_contest_window_with_weekdays(tmp_path: Path) -> None:
    text = format_report(check({}, no_env(tmp_path), SHIPPED))
    assert "2027年南湖区基层党组织“学习博客”大赛" in text
    assert "2027-06-24（周四）00:00 至 2027-07-01（周四）18:00" in text
    assert "Asia/Shanghai" in text


def test_summary_shows_groups_people_and_units_per_category(tmp_path: Path) -> None:
    text = format_report(check({}, no_env(tmp_path), SHIPPED))
    assert "服务的群：123456789" in text
    assert "评委：3 人" in text
    assert "镇、街道（town）：13 个，每个配额 50" in text
    assert "重点部门（key_dept）：3 个，每个配额 50" in text
    assert "部门、单位（dept）：" in text
    assert "每个配额 5" in text
    assert "单独配额：区发展和改革局 8" in text


def test_summary_shows_listen_address_and_reverse_ws_url(tmp_path: Path) -> None:
    report = check(
        {"HOST": "0.0.0.0", "PORT": "9000", "ONEBOT_ACCESS_TOKEN": TOKEN}, no_env(tmp_path), SHIPPED
    )
    text = format_report(report)
    assert "监听：0.0.0.0:9000，访问令牌已设置" in text
    assert "ws://0.0.0.0:9000/onebot/v11/ws" in text
    assert "本机 IP" in text


def test_summary_hides_token_and_database_password(tmp_path: Path) -> None:
    environ = {
        "ONEBOT_ACCESS_TOKEN": TOKEN,
        "DATABASE_URL": "postgresql+asyncpg://bot:hunter2@db/contest",
    }
    report = check(environ, no_env(tmp_path), SHIPPED)
    text = format_report(report) + repr(report)
    assert TOKEN not in text
    assert "hunter2" not in text
    assert "数据库：postgresql+asyncpg://bot:***@db/contest" in text


def test_config_path_comes_from_bot_config(tmp_path: Path) -> None:
    report = check({"BOT_CONFIG": str(SHIPPED)}, no_env(tmp_path))
    assert report.ok
    assert report.contest is not None


def test_failure_lists_every_problem_with_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "contest.toml"
    config.write_text(
        SHIPPED.read_text(encoding="utf-8")
        .replace("groups = [123456789]", "groups = []")
        .replace("burst = 3", "burst = 0"),
        encoding="utf-8",
    )
    report = check({"HOST": "0.0.0.0", "PORT": "abc"}, no_env(tmp_path), config)
    lines = format_report(report).splitlines()
    assert lines[0] == "发现 4 个问题："
    assert exit_code(report) == 1
    assert f"{config}: contest.groups: " in "\n".join(lines)
    assert f"{config}: messages.burst: " in "\n".join(lines)
    assert any(line.startswith("环境变量: PORT: ") for line in lines)
    assert any(": ONEBOT_ACCESS_TOKEN: " in line for line in lines)


def test_contest_is_checked_even_when_env_has_problems(tmp_path: Path) -> None:
    """BOT_CONFIG is honoured although PORT is wrong, so one run shows everything."""
    report = check({"PORT": "abc", "BOT_CONFIG": str(tmp_path / "none.toml")}, no_env(tmp_path))
    assert {p.key for p in report.problems} == {"PORT", "(整个文件)"}


def test_failure_report_never_shows_the_token(tmp_path: Path) -> None:
    report = check({"ONEBOT_ACCESS_TOKEN": TOKEN, "PORT": "x"}, no_env(tmp_path), SHIPPED)
    assert TOKEN not in format_report(report)
    assert TOKEN not in repr(report)
