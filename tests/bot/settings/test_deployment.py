from pathlib import Path

import pytest

from bot.settings.deployment import Deployment, load_deployment, redact_url
from bot.settings.values import Problem

TOKEN = "s3cret-token-value"


def env_file(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def load_ok(environ: dict[str, str], path: Path) -> Deployment:
    deployment, problems = load_deployment(environ, path)
    assert problems == []
    assert deployment is not None
    return deployment


def load_bad(environ: dict[str, str], path: Path) -> dict[str, Problem]:
    deployment, problems = load_deployment(environ, path)
    assert deployment is None
    return {p.key: p for p in problems}


def test_defaults_without_env_file(tmp_path: Path) -> None:
    deployment = load_ok({}, tmp_path / "missing.env")
    assert deployment.host == "127.0.0.1"
    assert deployment.port == 8080
    assert deployment.access_token is None
    assert deployment.superusers == frozenset()
    assert deployment.ws_urls == ()
    assert deployment.config_path == Path("config/contest.toml")
    assert deployment.data_dir == Path("data")
    assert deployment.database_url == "sqlite+aiosqlite:///data/bot.db"


def test_default_database_follows_the_data_dir(tmp_path: Path) -> None:
    deployment = load_ok({"BOT_DATA_DIR": str(tmp_path / "d")}, env_file(tmp_path))
    assert deployment.data_dir == tmp_path / "d"
    assert deployment.database_url == f"sqlite+aiosqlite:///{tmp_path}/d/bot.db"


def test_values_are_read_from_the_env_file(tmp_path: Path) -> None:
    text = (
        "HOST=0.0.0.0\nPORT=9000\nONEBOT_ACCESS_TOKEN=abc\n"
        'SUPERUSERS=["10000", 10001]\nONEBOT_WS_URLS=["ws://127.0.0.1:3001"]\n'
        "BOT_CONFIG=other.toml\n"
    )
    deployment = load_ok({}, env_file(tmp_path, text))
    assert deployment.host == "0.0.0.0"
    assert deployment.port == 9000
    assert deployment.superusers == frozenset({10000, 10001})
    assert deployment.ws_urls == ("ws://127.0.0.1:3001",)
    assert deployment.config_path == Path("other.toml")


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    deployment = load_ok({"PORT": "9100"}, env_file(tmp_path, "PORT=9000\n"))
    assert deployment.port == 9100


def test_keys_are_case_insensitive_like_nonebot(tmp_path: Path) -> None:
    deployment = load_ok({}, env_file(tmp_path, "port=9001\n"))
    assert deployment.port == 9001


def test_env_prod_file_is_read_like_nonebot(tmp_path: Path) -> None:
    path = env_file(tmp_path, "PORT=9000\n")
    (tmp_path / ".env.prod").write_text("PORT=9002\n", encoding="utf-8")
    assert load_ok({}, path).port == 9002


def test_environment_name_selects_the_env_file(tmp_path: Path) -> None:
    path = env_file(tmp_path, "ENVIRONMENT=dev\n")
    (tmp_path / ".env.dev").write_text("PORT=9003\n", encoding="utf-8")
    assert load_ok({}, path).port == 9003


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1", "80.5"])
def test_bad_port_is_a_problem(tmp_path: Path, port: str) -> None:
    problems = load_bad({"PORT": port}, env_file(tmp_path))
    assert "65535" in problems["PORT"].message


def test_problem_from_env_file_names_that_file(tmp_path: Path) -> None:
    path = env_file(tmp_path, "PORT=abc\n")
    assert load_bad({}, path)["PORT"].file == str(path)


def test_problem_from_environment_says_so(tmp_path: Path) -> None:
    assert load_bad({"PORT": "abc"}, env_file(tmp_path))["PORT"].file == "环境变量"


def test_public_host_without_token_is_refused(tmp_path: Path) -> None:
    path = env_file(tmp_path, "HOST=0.0.0.0\n")
    problem = load_bad({}, path)["ONEBOT_ACCESS_TOKEN"]
    assert problem.file == str(path)
    assert "0.0.0.0" in problem.message
    assert "ONEBOT_ACCESS_TOKEN" in problem.message


def test_public_host_with_token_is_accepted(tmp_path: Path) -> None:
    deployment = load_ok({"HOST": "0.0.0.0", "ONEBOT_ACCESS_TOKEN": TOKEN}, env_file(tmp_path))
    assert deployment.access_token == TOKEN


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_host_needs_no_token(tmp_path: Path, host: str) -> None:
    assert load_ok({"HOST": host}, env_file(tmp_path)).host == host


def test_host_name_is_a_problem_because_nonebot_needs_an_ip(tmp_path: Path) -> None:
    problems = load_bad({"HOST": "localhost"}, env_file(tmp_path))
    assert "127.0.0.1" in problems["HOST"].message


@pytest.mark.parametrize("value", ["10000", '["abc"]', "[0]", '{"a": 1}'])
def test_bad_superusers_is_a_problem(tmp_path: Path, value: str) -> None:
    assert "SUPERUSERS" in load_bad({"SUPERUSERS": value}, env_file(tmp_path))


@pytest.mark.parametrize("value", ['["http://127.0.0.1:3001"]', '"ws://x"', '["ws://"]'])
def test_bad_ws_urls_is_a_problem(tmp_path: Path, value: str) -> None:
    assert "ONEBOT_WS_URLS" in load_bad({"ONEBOT_WS_URLS": value}, env_file(tmp_path))


def test_postgresql_asyncpg_is_accepted(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://bot:pw@127.0.0.1:5432/contest"
    assert load_ok({"DATABASE_URL": url}, env_file(tmp_path)).database_url == url


def test_plain_postgresql_url_is_refused_with_a_hint(tmp_path: Path) -> None:
    url = "postgresql://bot:pw@127.0.0.1/contest"
    problem = load_bad({"DATABASE_URL": url}, env_file(tmp_path))["DATABASE_URL"]
    assert "postgresql+asyncpg://" in problem.message


@pytest.mark.parametrize("url", ["mysql+aiomysql://u:p@h/db", "sqlite:///data/bot.db", "nonsense"])
def test_unsupported_database_url_is_a_problem(tmp_path: Path, url: str) -> None:
    assert "DATABASE_URL" in load_bad({"DATABASE_URL": url}, env_file(tmp_path))


def test_database_password_never_appears_in_a_problem(tmp_path: Path) -> None:
    problems = load_bad({"DATABASE_URL": "mysql://u:hunter2@h/db"}, env_file(tmp_path))
    assert "hunter2" not in problems["DATABASE_URL"].message


def test_bad_log_level_is_a_problem(tmp_path: Path) -> None:
    assert "LOG_LEVEL" in load_bad({"LOG_LEVEL": "LOUD"}, env_file(tmp_path))


def test_misspelt_key_in_env_file_is_a_problem(tmp_path: Path) -> None:
    path = env_file(tmp_path, f"ONEBOT_ACESS_TOKEN={TOKEN}\n")
    problem = load_bad({}, path)["ONEBOT_ACESS_TOKEN"]
    assert "ONEBOT_ACCESS_TOKEN" in problem.message
    assert TOKEN not in problem.message


def test_other_nonebot_keys_in_env_file_are_fine(tmp_path: Path) -> None:
    load_ok({}, env_file(tmp_path, 'DRIVER=~fastapi\nCOMMAND_START=["/"]\nMY_PLUGIN_KEY=1\n'))


def test_every_problem_is_reported(tmp_path: Path) -> None:
    environ = {"HOST": "0.0.0.0", "PORT": "x", "DATABASE_URL": "postgresql://h/db"}
    assert set(load_bad(environ, env_file(tmp_path))) == {
        "ONEBOT_ACCESS_TOKEN",
        "PORT",
        "DATABASE_URL",
    }


def test_token_never_appears_in_repr(tmp_path: Path) -> None:
    deployment = load_ok({"ONEBOT_ACCESS_TOKEN": TOKEN}, env_file(tmp_path))
    assert TOKEN not in repr(deployment)
    assert TOKEN not in str(deployment)
    assert "***" in repr(deployment)


def test_database_password_never_appears_in_repr(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://bot:hunter2@db/contest"
    deployment = load_ok({"DATABASE_URL": url}, env_file(tmp_path))
    assert "hunter2" not in repr(deployment)


def test_reverse_ws_url_is_nonebots_default_path(tmp_path: Path) -> None:
    deployment = load_ok({"PORT": "9000"}, env_file(tmp_path))
    assert deployment.reverse_ws_url == "ws://127.0.0.1:9000/onebot/v11/ws"


def test_reverse_ws_url_brackets_ipv6(tmp_path: Path) -> None:
    assert load_ok({"HOST": "::1"}, env_file(tmp_path)).reverse_ws_url.startswith("ws://[::1]:")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+asyncpg://bot:hunter2@db:5432/c", "postgresql+asyncpg://bot:***@db:5432/c"),
        ("sqlite+aiosqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("weird://u:hunter2@h", "weird://u:***@h"),
    ],
)
def test_redact_url_hides_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


# --- dashboard settings -------------------------------------------------------------------------

API_TOKEN = "api-token-0123456789abcdef"
SECRET = "k" * 40


def test_dashboard_url_defaults_to_the_bots_own_host_and_port(tmp_path: Path) -> None:
    deployment = load_ok({"PORT": "9000"}, env_file(tmp_path))
    assert deployment.dashboard_url == "http://127.0.0.1:9000"
    assert deployment.dashboard_session_hours == 12
    assert deployment.dashboard_api_token is None
    assert deployment.dashboard_secret is None


def test_dashboard_settings_are_read_from_the_env_file(tmp_path: Path) -> None:
    path = env_file(
        tmp_path,
        "DASHBOARD_PUBLIC_URL=https://bot.example.gov.cn/\n"
        f"DASHBOARD_API_TOKEN={API_TOKEN}\nDASHBOARD_SECRET={SECRET}\n"
        "DASHBOARD_SESSION_HOURS=48\n",
    )
    deployment = load_ok({}, path)
    assert deployment.dashboard_url == "https://bot.example.gov.cn"
    assert deployment.dashboard_api_token == API_TOKEN
    assert deployment.dashboard_secret == SECRET
    assert deployment.dashboard_session_hours == 48


@pytest.mark.parametrize("url", ["bot.example.gov.cn", "ftp://x.cn", "https://", "http://x:0"])
def test_dashboard_url_that_is_not_a_web_address_is_a_problem(tmp_path: Path, url: str) -> None:
    problems = load_bad({"DASHBOARD_PUBLIC_URL": url}, env_file(tmp_path))
    assert "http://" in problems["DASHBOARD_PUBLIC_URL"].message


def test_dashboard_url_with_a_path_is_a_problem(tmp_path: Path) -> None:
    problems = load_bad({"DASHBOARD_PUBLIC_URL": "https://x.cn/bot"}, env_file(tmp_path))
    assert "不要带路径" in problems["DASHBOARD_PUBLIC_URL"].message


@pytest.mark.parametrize(
    ("key", "value"), [("DASHBOARD_API_TOKEN", "short-1"), ("DASHBOARD_SECRET", "x" * 31)]
)
def test_short_dashboard_secrets_are_problems_that_do_not_show_them(
    tmp_path: Path, key: str, value: str
) -> None:
    problems = load_bad({key: value}, env_file(tmp_path))
    assert "太短" in problems[key].message
    assert value not in str(problems[key])


@pytest.mark.parametrize("hours", ["0", "abc", "721", "-3"])
def test_bad_session_hours_is_a_problem(tmp_path: Path, hours: str) -> None:
    problems = load_bad({"DASHBOARD_SESSION_HOURS": hours}, env_file(tmp_path))
    assert "DASHBOARD_SESSION_HOURS" in problems


def test_export_files_are_kept_a_week_unless_configured(tmp_path: Path) -> None:
    assert load_ok({}, env_file(tmp_path)).exports_keep_days == 7
    assert load_ok({"EXPORTS_KEEP_DAYS": "30"}, env_file(tmp_path)).exports_keep_days == 30


@pytest.mark.parametrize("days", ["0", "abc", "366", "-3", "７", "99999999999999999999"])
def test_bad_export_days_is_a_problem(tmp_path: Path, days: str) -> None:
    problems = load_bad({"EXPORTS_KEEP_DAYS": days}, env_file(tmp_path))
    assert "1 到 365" in problems["EXPORTS_KEEP_DAYS"].message


def test_dashboard_secrets_never_appear_in_repr(tmp_path: Path) -> None:
    deployment = load_ok(
        {"DASHBOARD_API_TOKEN": API_TOKEN, "DASHBOARD_SECRET": SECRET}, env_file(tmp_path)
    )
    assert API_TOKEN not in repr(deployment)
    assert SECRET not in repr(deployment)


def test_misspelt_dashboard_key_is_a_problem(tmp_path: Path) -> None:
    problems = load_bad({}, env_file(tmp_path, f"DASHBOARD_API_TOKN={API_TOKEN}\n"))
    assert "DASHBOARD_API_TOKEN" in problems["DASHBOARD_API_TOKN"].message


def test_reminders_run_on_their_own_by_default(tmp_path: Path) -> None:
    deployment = load_ok({}, tmp_path / "missing.env")
    assert deployment.reminders_autorun is True
    assert deployment.reminders_heartbeat == 10.0


@pytest.mark.parametrize(
    ("value", "autorun"), [("false", False), ("False", False), ("0", False), ("yes", True)]
)
def test_reminders_autorun_is_read_as_nonebot_read_it(
    tmp_path: Path, value: str, autorun: bool
) -> None:
    path = env_file(tmp_path, f"REMINDERS_AUTORUN={value}\n")
    assert load_ok({}, path).reminders_autorun is autorun


def test_reminders_heartbeat_is_read(tmp_path: Path) -> None:
    deployment = load_ok({"REMINDERS_HEARTBEAT": "2.5"}, env_file(tmp_path))
    assert deployment.reminders_heartbeat == 2.5


def test_reminders_autorun_that_is_not_a_switch_is_a_problem(tmp_path: Path) -> None:
    problems = load_bad({"REMINDERS_AUTORUN": "maybe"}, env_file(tmp_path))
    assert problems["REMINDERS_AUTORUN"].message == (
        "“maybe”不是开关；应为 true（自动提醒按时发送）或 false（关闭自动提醒）"
    )


@pytest.mark.parametrize("seconds", ["0", "-5", "10s", "inf", "nan"])
def test_bad_reminders_heartbeat_is_a_problem(tmp_path: Path, seconds: str) -> None:
    problems = load_bad({"REMINDERS_HEARTBEAT": seconds}, env_file(tmp_path))
    assert "大于 0" in problems["REMINDERS_HEARTBEAT"].message


def test_misspelt_reminders_key_is_a_problem(tmp_path: Path) -> None:
    problems = load_bad({}, env_file(tmp_path, "REMINDER_AUTORUN=false\n"))
    assert "REMINDERS_AUTORUN" in problems["REMINDER_AUTORUN"].message


@pytest.mark.parametrize(("value", "semantic"), [("off", False), ("on", True), ("", True)])
def test_the_faq_semantic_layer_can_be_switched_off(
    tmp_path: Path, value: str, semantic: bool
) -> None:
    path = env_file(tmp_path, f"FAQ_SEMANTIC={value}\n")
    assert load_ok({}, path).faq_semantic is semantic


def test_faq_semantic_that_is_not_a_switch_is_a_problem(tmp_path: Path) -> None:
    problems = load_bad({"FAQ_SEMANTIC": "sometimes"}, env_file(tmp_path))
    assert problems["FAQ_SEMANTIC"].message == (
        "“sometimes”不是开关；应为 on（答疑时也按意思匹配）或 off（只按字词匹配）"
    )
