"""How the dashboard answers: Jinja2 pages, security headers, redirects, JSON.

Pages are plain HTML with inline SVG charts and one small script from /dashboard/static:
nothing is fetched from elsewhere (the machine may be offline), and the Content-Security-Policy
forbids it anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.dashboard.charts import day_columns, unit_bars
from bot.dashboard.params import plain_int
from bot.dashboard.views import SORTS, STATUS_FILTERS, UNIT_STATUS_TEXT
from bot.submissions.display import entry_label
from bot.submissions.export import FLAG_TEXT, VERIFY_TEXT
from bot.submissions.states import verify_label

PREFIX = "/dashboard"
COOKIE = "dashboard_session"
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Entries link to outside sites: they must not learn the dashboard's address (or a token).
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

MSG_SIGN_IN = "请在 QQ 私聊机器人发送 /后台 获取登录链接。"
MSG_NO_CONTEST = "这个部署没有这个大赛；大赛编号即 config/contests/ 下的文件名。"
MSG_LINK_INVALID = "此登录链接已使用或已过期（有效期 10 分钟，只能使用一次）。" + MSG_SIGN_IN
MSG_JUDGE_READ_ONLY = "评委可以查看和评分，但不能更改作品状态、单位或常见问题。"
MSG_NOT_JUDGE = "只有评委可以评分。"
MSG_CSRF = "页面已过期，请返回刷新后再试。"
MSG_PROVINCE_READ_ONLY = "省级账号可以查看各大赛的全部页面和导出表格，但不能修改。"
MSG_ARCHIVED = (
    "「{label}」已归档，只能查看和导出，不能修改。要改本轮的数据，请先点上方的“回到本轮”。"
)
MSG_NOT_FOUND = "没有这个页面。"
MSG_NO_FILE = "没有这个文件。"
MSG_TOO_LARGE = "提交的内容太大，请缩短后再试。"
MSG_FAQ_OFF = "常见问题功能未启用。"
DONE = {
    "withdrawn": "已撤回 #{r}。",
    "restored": "已恢复 #{r}。",
    "scored": "已保存对 #{r} 的评分。",
    "learned": "已把问题归入常见问题条目。",
}


def paged(rows: Sequence[Any], raw: str, per_page: int = 50) -> tuple[Sequence[Any], int, int]:
    """One page of `rows` for the page number typed in an address (anything odd: the nearest
    real page); the rows, that page's number and how many pages there are."""
    pages = max(1, -(-len(rows) // per_page))
    number = min(max(plain_int(raw) or 1, 1), pages)
    return rows[(number - 1) * per_page : number * per_page], number, pages


def make_pages() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        prefix=PREFIX,
        status_text=UNIT_STATUS_TEXT,
        verify_text=VERIFY_TEXT,
        flag_text=FLAG_TEXT,
        sorts=SORTS,
        status_filters=STATUS_FILTERS,
        unit_bars=unit_bars,
        day_columns=day_columns,
        verify_label=verify_label,
    )
    env.filters["label"] = lambda e: entry_label(e.title, e.given_url or e.url)
    env.filters["qs"] = lambda params: urlencode(params)
    env.filters["score"] = lambda v: "—" if v is None else f"{v:.1f}"
    return env


def secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def html(text: str, status: int = 200) -> Response:
    return secure(HTMLResponse(text, status_code=status))


def redirect(url: str) -> Response:
    return secure(RedirectResponse(url, status_code=303))


def json(data: Mapping[str, Any], status: int = 200) -> Response:
    return secure(JSONResponse(data, status_code=status))


def back(form: Mapping[str, str], done: str, receipt: int) -> Response:
    """Back to the page the form was on (only ever a dashboard page), saying what was done."""
    where = form.get("back", "")
    if not where.startswith(f"{PREFIX}/") or "//" in where or "\\" in where:
        where = f"{PREFIX}/entries"
    path, _, query = where.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items() if k not in ("done", "r")}
    params.update(done=done, r=str(receipt))
    return redirect(f"{path}?{urlencode(params)}")
