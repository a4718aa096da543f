"""Deployment settings from `.env` and the environment, read the way NoneBot reads them.

The environment wins over `.env`; like NoneBot, `.env.<ENVIRONMENT>` (default `.env.prod`) next
to `.env` is read too and wins over `.env`. Keys are case-insensitive, values of list keys
are JSON. The access token is never shown: not in problems, not in `repr`.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings.values import Problem

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_CONFIG = Path("config/contest.toml")
DEFAULT_DATA_DIR = Path("data")
ENV_SOURCE = "环境变量"

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
DEFAULT_SESSION_HOURS = 12
MAX_SESSION_HOURS = 24 * 30
DEFAULT_EXPORT_DAYS = 7
MAX_EXPORT_DAYS = 365
# Shorter secrets could be guessed; token_urlsafe(32) gives 43 characters.
MIN_API_TOKEN_LENGTH = 16
MIN_SECRET_LENGTH = 32
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")
DEFAULT_HEARTBEAT_SECONDS = 10.0
# What NoneBot (pydantic) accepted for REMINDERS_AUTORUN before this module read it.
SWITCH_ON = ("true", "1", "yes", "on", "t", "y")
SWITCH_OFF = ("false", "0", "no", "off", "f", "n")

# Keys this module reads, plus NoneBot's and its plugins' own keys: a `.env` key close to one of
# these but equal to none is almost certainly a typo (a misspelt token would silently be no token).
OWN_KEYS = (
    "HOST",
    "PORT",
    "ONEBOT_ACCESS_TOKEN",
    "SUPERUSERS",
    "ONEBOT_WS_URLS",
    "DATABASE_URL",
    "BOT_CONFIG",
    "BOT_DATA_DIR",
    "LOG_LEVEL",
    "DASHBOARD_PUBLIC_URL",
    "DASHBOARD_API_TOKEN",
    "DASHBOARD_SECRET",
    "DASHBOARD_SESSION_HOURS",
    "EXPORTS_KEEP_DAYS",
    "REMINDERS_AUTORUN",
    "REMINDERS_HEARTBEAT",
    "FAQ_SEMANTIC",
    "PROVINCE_VIEWERS",
)
OTHER_KNOWN_KEYS = (
    "ENVIRONMENT",
    "DRIVER",
    "NICKNAME",
    "COMMAND_START",
    "COMMAND_SEP",
    "API_TIMEOUT",
    "SESSION_EXPIRE_TIMEOUT",
    "SESSION_RUNNING_EXPRESSION",
    "ONEBOT_SECRET",
    "ONEBOT_API_ROOTS",
    "ONEBOT_WS_URL",
    "APSCHEDULER_AUTOSTART",
    "APSCHEDULER_CONFIG",
    "FASTAPI_RELOAD",
    "FASTAPI_OPENAPI_URL",
    "FASTAPI_DOCS_URL",
    "FASTAPI_REDOC_URL",
)


@dataclass(frozen=True)
class Deployment:
    """Where and how the bot runs (`.env`), validated."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    access_token: str | None = field(default=None, repr=False)
    superusers: frozenset[int] = frozenset()
    ws_urls: tuple[str, ...] = ()
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    config_path: Path = DEFAULT_CONFIG
    data_dir: Path = DEFAULT_DATA_DIR
    env_file: Path = Path(".env")
    log_level: str = "INFO"
    # The dashboard: the address its sign-in links use ("" = http://HOST:PORT), a read-only
    # API token for machines, the key that signs session cookies (None = generated once and
    # kept in data_dir/dashboard.secret), and how long a session lasts.
    dashboard_public_url: str = ""
    dashboard_api_token: str | None = field(default=None, repr=False)
    dashboard_secret: str | None = field(default=None, repr=False)
    dashboard_session_hours: int = DEFAULT_SESSION_HOURS
    # How many days export files (/导出, dashboard downloads) stay under <data>/exports.
    exports_keep_days: int = DEFAULT_EXPORT_DAYS
    # The automatic reminders: whether they run on their own (start at start-up, wake when due;
    # chat tests turn this off and call plugins.reminders.wake() themselves), and how often to
    # look in even when nothing is due (catches a clock jump, a database shared with another
    # process, a bot that connected late).
    reminders_autorun: bool = True
    reminders_heartbeat: float = DEFAULT_HEARTBEAT_SECONDS
    # The FAQ's semantic layer (bot/faq/semantic.py), on unless switched off.
    faq_semantic: bool = True
    # PROVINCE_VIEWERS: people who see every contest of the deployment on the dashboard,
    # read-only, with the cross-contest overview (a province's or a city's office).
    province_viewers: frozenset[int] = frozenset()
    # Not from .env: the PostgreSQL schema of another contest of the deployment
    # (bot.runtime.other_deployment); None: the database's default schema.
    database_schema: str | None = None

    def __repr__(self) -> str:
        token = "'***'" if self.access_token else "None"
        api_token = "'***'" if self.dashboard_api_token else "None"
        secret = "'***'" if self.dashboard_secret else "None"
        return (
            f"Deployment(host={self.host!r}, port={self.port!r}, access_token={token}, "
            f"superusers={sorted(self.superusers)!r}, ws_urls={self.ws_urls!r}, "
            f"database_url={redact_url(self.database_url)!r}, config_path={self.config_path!r}, "
            f"data_dir={self.data_dir!r}, env_file={self.env_file!r}, "
            f"log_level={self.log_level!r}, dashboard_url={self.dashboard_url!r}, "
            f"dashboard_api_token={api_token}, dashboard_secret={secret}, "
            f"dashboard_session_hours={self.dashboard_session_hours!r}, "
            f"exports_keep_days={self.exports_keep_days!r}, "
            f"reminders_autorun={self.reminders_autorun!r}, faq_semantic={self.faq_semantic!r}, "
            f"reminders_heartbeat={self.reminders_heartbeat!r})"
        )

    __str__ = __repr__

    @property
    def reverse_ws_url(self) -> str:
        """The URL a OneBot implementation connects to (NoneBot adapter's default path)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/onebot/v11/ws"

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def dashboard_url(self) -> str:
        """The dashboard's public origin (no trailing slash): DASHBOARD_PUBLIC_URL or ours."""
        if self.dashboard_public_url:
            return self.dashboard_public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """`url` with any password replaced by ***, for display and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


@dataclass
class _Values:
    """Merged key -> (value, where it came from)."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        found = self.values.get(key)
        return None if found is None else found[0]

    def source(self, key: str, default: str) -> str:
        found = self.values.get(key)
        return default if found is None else found[1]

    def update(self, entries: Mapping[str, str | None], source: str) -> None:
        for key, value in entries.items():
            if value is not None:
                self.values[key.upper()] = (value, source)


def _file_values(path: Path) -> dict[str, str | None]:
    if not path.is_file():
        return {}
    return dict(dotenv_values(path))


def _collect(environ: Mapping[str, str], env_file: Path) -> tuple[_Values, list[Problem]]:
    merged = _Values()
    problems: list[Problem] = []
    base = _file_values(env_file)
    merged.update(base, str(env_file))
    # NoneBot reads `.env.<ENVIRONMENT>` (default "prod") after `.env`.
    from_environ = {k.upper(): v for k, v in environ.items()}.get("ENVIRONMENT")
    environment = (from_environ or merged.get("ENVIRONMENT") or "prod").strip()
    extra_file = env_file.with_name(f"{env_file.name}.{environment}")
    extra = _file_values(extra_file)
    merged.update(extra, str(extra_file))
    for key in extra:
        problems += _typo(key, str(extra_file))
    for key in base:
        problems += _typo(key, str(env_file))
    merged.update(environ, ENV_SOURCE)
    return merged, problems


def _typo(key: str, file: str) -> list[Problem]:
    upper = key.upper()
    known = OWN_KEYS + OTHER_KNOWN_KEYS
    if upper in known:
        return []
    close = difflib.get_close_matches(upper, OWN_KEYS, n=1, cutoff=0.8)
    if not close:
        return []
    return [Problem(file, key, f"未知的设置“{key}”，是否想写“{close[0]}”？写错的设置不会生效")]


def config_path_from(
    environ: Mapping[str, str] | None = None, env_file: Path = Path(".env")
) -> Path:
    """Where the contest config is (BOT_CONFIG), even when other settings have problems."""
    merged, _ = _collect(os.environ if environ is None else environ, env_file)
    value = merged.get("BOT_CONFIG")
    return Path(value.strip()) if value and value.strip() else DEFAULT_CONFIG


def _json_list(
    merged: _Values, key: str, example: str, default_file: str
) -> tuple[list[object] | None, list[Problem]]:
    raw = merged.get(key)
    if raw is None or not raw.strip():
        return [], []
    where = merged.source(key, default_file)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None, [Problem(where, key, f"应为 JSON 列表，例如 {key}={example}")]
    if not isinstance(value, list):
        return None, [Problem(where, key, f"应为 JSON 列表（方括号），例如 {key}={example}")]
    return value, []


def _superusers(
    merged: _Values, default_file: str, key: str = "SUPERUSERS"
) -> tuple[frozenset[int], list[Problem]]:
    """A JSON list of QQ numbers: SUPERUSERS, or PROVINCE_VIEWERS."""
    items, problems = _json_list(merged, key, '["10000"]', default_file)
    if items is None:
        return frozenset(), problems
    ids: set[int] = set()
    where = merged.source(key, default_file)
    for item in items:
        text = (
            str(item).strip() if isinstance(item, str | int) and not isinstance(item, bool) else ""
        )
        if text.isdigit() and int(text) > 0:
            ids.add(int(text))
        else:
            problems.append(Problem(where, key, f'“{item}”不是 QQ 号；应为数字，例如 ["10000"]'))
    return frozenset(ids), problems


def _ws_urls(merged: _Values, default_file: str) -> tuple[tuple[str, ...], list[Problem]]:
    example = '["ws://127.0.0.1:3001"]'
    items, problems = _json_list(merged, "ONEBOT_WS_URLS", example, default_file)
    if items is None:
        return (), problems
    urls: list[str] = []
    where = merged.source("ONEBOT_WS_URLS", default_file)
    for item in items:
        parts = urlsplit(item) if isinstance(item, str) else None
        if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
            problems.append(
                Problem(
                    where,
                    "ONEBOT_WS_URLS",
                    f"“{item}”不是 WebSocket 地址；应以 ws:// 或 wss:// 开头，例如 {example}",
                )
            )
        else:
            urls.append(str(item))
    return tuple(urls), problems


def _port(merged: _Values, default_file: str) -> tuple[int, list[Problem]]:
    raw = merged.get("PORT")
    if raw is None or not raw.strip():
        return DEFAULT_PORT, []
    text = raw.strip()
    if text.isdigit() and 1 <= int(text) <= 65535:
        return int(text), []
    where = merged.source("PORT", default_file)
    return DEFAULT_PORT, [
        Problem(where, "PORT", f"“{text}”不是有效端口；应为 1 到 65535 的整数，如 8080")
    ]


def database_url_problem(url: str) -> str | None:
    """Why the bot cannot use `url` as its database (Chinese, password hidden); None if it can."""
    try:
        driver = make_url(url).drivername
    except (ArgumentError, ValueError):
        return (
            f"无法识别的数据库地址“{redact_url(url)}”；"
            "例如 sqlite+aiosqlite:///data/bot.db 或 postgresql+asyncpg://用户:密码@主机/库名"
        )
    if driver in SUPPORTED_DRIVERS:
        return None
    if driver.split("+")[0] in ("postgresql", "postgres"):
        hint = "PostgreSQL 请用异步驱动：把开头改成 postgresql+asyncpg://"
    elif driver.split("+")[0] == "sqlite":
        hint = "SQLite 请用异步驱动：把开头改成 sqlite+aiosqlite://"
    else:
        hint = "只支持 sqlite+aiosqlite:// 和 postgresql+asyncpg://"
    return f"不支持的数据库驱动“{driver}”；{hint}"


def _database_url(merged: _Values, data_dir: Path, default_file: str) -> tuple[str, list[Problem]]:
    default = f"sqlite+aiosqlite:///{data_dir.as_posix()}/bot.db"
    raw = merged.get("DATABASE_URL")
    if raw is None or not raw.strip():
        return default, []
    url = raw.strip()
    problem = database_url_problem(url)
    if problem is None:
        return url, []
    return default, [Problem(merged.source("DATABASE_URL", default_file), "DATABASE_URL", problem)]


def _dashboard_url(merged: _Values, default_file: str) -> tuple[str, list[Problem]]:
    raw = (merged.get("DASHBOARD_PUBLIC_URL") or "").strip()
    if not raw:
        return "", []
    example = "https://bot.example.gov.cn 或 http://192.168.1.10:8080"
    where = merged.source("DASHBOARD_PUBLIC_URL", default_file)
    try:
        parts = urlsplit(raw)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        return "", [
            Problem(
                where,
                "DASHBOARD_PUBLIC_URL",
                f"“{raw}”不是网址；应以 http:// 或 https:// 开头，例如 {example}",
            )
        ]
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return "", [
            Problem(
                where,
                "DASHBOARD_PUBLIC_URL",
                f"只填协议、主机和端口，不要带路径或参数，例如 {example}"
                "（后台固定在 /dashboard 下）",
            )
        ]
    return f"{parts.scheme}://{parts.netloc}", []


def _dashboard_secrets(
    merged: _Values, default_file: str
) -> tuple[str | None, str | None, list[Problem]]:
    problems: list[Problem] = []
    found: list[str | None] = []
    for key, least in (
        ("DASHBOARD_API_TOKEN", MIN_API_TOKEN_LENGTH),
        ("DASHBOARD_SECRET", MIN_SECRET_LENGTH),
    ):
        value = (merged.get(key) or "").strip() or None
        if value is not None and len(value) < least:
            # The value itself is never shown: it is a secret, even when it is a bad one.
            problems.append(
                Problem(
                    merged.source(key, default_file),
                    key,
                    f"太短（至少 {least} 个字符），容易被猜中；"
                    '可用 python -c "import secrets; print(secrets.token_urlsafe(32))" 生成',
                )
            )
            value = None
        found.append(value)
    return found[0], found[1], problems


def _session_hours(merged: _Values, default_file: str) -> tuple[int, list[Problem]]:
    raw = (merged.get("DASHBOARD_SESSION_HOURS") or "").strip()
    if not raw:
        return DEFAULT_SESSION_HOURS, []
    if raw.isdigit() and 1 <= int(raw) <= MAX_SESSION_HOURS:
        return int(raw), []
    where = merged.source("DASHBOARD_SESSION_HOURS", default_file)
    return DEFAULT_SESSION_HOURS, [
        Problem(
            where,
            "DASHBOARD_SESSION_HOURS",
            f"“{raw}”不是有效的小时数；应为 1 到 {MAX_SESSION_HOURS} 的整数，如 12",
        )
    ]


def _export_days(merged: _Values, default_file: str) -> tuple[int, list[Problem]]:
    raw = (merged.get("EXPORTS_KEEP_DAYS") or "").strip()
    if not raw:
        return DEFAULT_EXPORT_DAYS, []
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_EXPORT_DAYS:
        return int(raw), []
    where = merged.source("EXPORTS_KEEP_DAYS", default_file)
    return DEFAULT_EXPORT_DAYS, [
        Problem(
            where,
            "EXPORTS_KEEP_DAYS",
            f"“{raw}”不是有效的天数；应为 1 到 {MAX_EXPORT_DAYS} 的整数，如 7",
        )
    ]


SWITCHES = {
    "REMINDERS_AUTORUN": "true（自动提醒按时发送）或 false（关闭自动提醒）",
    "FAQ_SEMANTIC": "on（答疑时也按意思匹配）或 off（只按字词匹配）",
}


def _switch(merged: _Values, key: str, default_file: str) -> tuple[bool, list[Problem]]:
    """An on/off key of `SWITCHES`, on when unset."""
    raw = (merged.get(key) or "").strip()
    if not raw or raw.lower() in SWITCH_ON:
        return True, []
    if raw.lower() in SWITCH_OFF:
        return False, []
    where = merged.source(key, default_file)
    return True, [Problem(where, key, f"“{raw}”不是开关；应为 {SWITCHES[key]}")]


def _heartbeat(merged: _Values, default_file: str) -> tuple[float, list[Problem]]:
    raw = (merged.get("REMINDERS_HEARTBEAT") or "").strip()
    if not raw:
        return DEFAULT_HEARTBEAT_SECONDS, []
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds) and seconds > 0:
        return seconds, []
    return DEFAULT_HEARTBEAT_SECONDS, [
        Problem(
            merged.source("REMINDERS_HEARTBEAT", default_file),
            "REMINDERS_HEARTBEAT",
            f"“{raw}”不是有效的秒数；应为大于 0 的数，如 10",
        )
    ]


def load_deployment(
    environ: Mapping[str, str] | None = None, env_file: Path = Path(".env")
) -> tuple[Deployment | None, list[Problem]]:
    """Read `.env`, `.env.<ENVIRONMENT>` (default `.env.prod`) and the environment.

    The Deployment is None whenever there is a problem.
    """
    merged, problems = _collect(os.environ if environ is None else environ, env_file)
    file = str(env_file)

    host = (merged.get("HOST") or "").strip() or DEFAULT_HOST
    host_ok = True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        host_ok = False
        problems.append(
            Problem(
                merged.source("HOST", file),
                "HOST",
                f"“{host}”不是 IP 地址（NoneBot 只接受 IP）；本机使用请写 127.0.0.1，"
                "要让其他机器连接请写 0.0.0.0 并设置 ONEBOT_ACCESS_TOKEN",
            )
        )
    port, found = _port(merged, file)
    problems += found
    token = merged.get("ONEBOT_ACCESS_TOKEN") or None
    if not is_loopback(host) and token is None and host_ok:
        problems.append(
            Problem(
                file,
                "ONEBOT_ACCESS_TOKEN",
                f"HOST={host} 会让其他机器也能连接机器人，没有访问令牌时任何人都能冒充 QQ 端"
                "控制机器人；请设置 ONEBOT_ACCESS_TOKEN=一段随机长字符串（QQ 端填同一个），"
                "或把 HOST 改回 127.0.0.1",
            )
        )
    superusers, found = _superusers(merged, file)
    problems += found
    province, found = _superusers(merged, file, "PROVINCE_VIEWERS")
    problems += found
    ws_urls, found = _ws_urls(merged, file)
    problems += found
    data_raw = (merged.get("BOT_DATA_DIR") or "").strip()
    data_dir = Path(data_raw) if data_raw else DEFAULT_DATA_DIR
    config_raw = (merged.get("BOT_CONFIG") or "").strip()
    config_path = Path(config_raw) if config_raw else DEFAULT_CONFIG
    database_url, found = _database_url(merged, data_dir, file)
    problems += found
    log_level = (merged.get("LOG_LEVEL") or "").strip().upper() or "INFO"
    if log_level not in LOG_LEVELS and not log_level.isdigit():
        problems.append(
            Problem(
                merged.source("LOG_LEVEL", file),
                "LOG_LEVEL",
                f"“{log_level}”不是日志级别；可用：{'、'.join(LOG_LEVELS)}",
            )
        )
    dashboard_url, found = _dashboard_url(merged, file)
    problems += found
    api_token, secret, found = _dashboard_secrets(merged, file)
    problems += found
    session_hours, found = _session_hours(merged, file)
    problems += found
    export_days, found = _export_days(merged, file)
    problems += found
    autorun, found = _switch(merged, "REMINDERS_AUTORUN", file)
    problems += found
    heartbeat, found = _heartbeat(merged, file)
    problems += found
    semantic, found = _switch(merged, "FAQ_SEMANTIC", file)
    problems += found
    if problems:
        return None, problems
    return (
        Deployment(
            host=host,
            port=port,
            access_token=token,
            superusers=superusers,
            province_viewers=province,
            ws_urls=ws_urls,
            database_url=database_url,
            config_path=config_path,
            data_dir=data_dir,
            env_file=env_file,
            log_level=log_level,
            dashboard_public_url=dashboard_url,
            dashboard_api_token=api_token,
            dashboard_secret=secret,
            dashboard_session_hours=session_hours,
            exports_keep_days=export_days,
            reminders_autorun=autorun,
            reminders_heartbeat=heartbeat,
            faq_semantic=semantic,
        ),
        [],
    )
