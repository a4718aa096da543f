"""/后台: a one-time sign-in link to the web dashboard; the dashboard's routes on NoneBot's app.

The pages themselves live in bot/dashboard (no NoneBot there); this plugin only hands out links
in private chat and mounts the routes on the FastAPI app NoneBot already serves.
"""

from __future__ import annotations

import nonebot
from fastapi import FastAPI
from nonebot import require
from nonebot.plugin import PluginMetadata

require("plugins.router")

from bot.dashboard.auth import (
    KEY_MARK,
    PROVINCE_KEY,
    Grant,
    LoginLinks,
    SessionBook,
    grant_for,
)
from bot.dashboard.params import plain_int
from bot.runtime import current
from bot.units.roles import MSG_NEED_JUDGE, Need
from plugins.dashboard.errors import install_handlers
from plugins.dashboard.routes.sessions import QQ_MAX
from plugins.dashboard.web import build_router, redact_access_log
from plugins.router import Request, command

__plugin_meta__ = PluginMetadata(
    name="网页后台",
    description="组织者和评委在私聊中获取网页后台的一次性登录链接",
    usage="私聊机器人发送 /后台",
)

ONLY_PRIVATE = "为保护登录链接，/后台 只能在私聊中使用：请私聊机器人发送 /后台。"
# As the router refuses any judges' command to others (bot.units.roles.MSG_NEED_JUDGE).
NOT_ALLOWED = MSG_NEED_JUDGE.format(name="后台")
LINK = (
    "网页后台登录链接（{minutes} 分钟内有效，只能使用一次，请勿转发）：\n{url}\n"
    "打开后点击“登录后台”按钮即可；登录后 {hours} 小时内无需再次登录。"
)

END_WORDS = frozenset({"注销", "退出", "登出", "logout"})
END_MAX = 10
END_WHO = "请 @ 要注销的人，或写上其 QQ 号，例如：/后台 注销 @张三"
ENDED_OWN = "已注销您的 {count} 个后台登录，所有设备上均已失效。"
NONE_OPEN_OWN = "您目前没有登录后台。"
END_OTHERS_ORGANIZERS_ONLY = (
    "抱歉，注销他人的后台登录仅限组织者。发送 /后台 注销 可注销您自己的登录。"
)
ENDED_OTHER = "已注销 {who} 的 {count} 个后台登录，所有设备上均已失效。"
NONE_OPEN_OTHER = "{who} 目前没有登录后台。"


@command(
    "后台",
    "dashboard",
    # Organizers and judges; also province viewers, who are nothing else: the handler decides.
    need=Need.MEMBER,
    summary="获取网页后台的一次性登录链接（仅私聊）",
    example="/后台",
    order=95,
)
async def _dashboard(request: Request) -> None:
    words = request.args.split(maxsplit=1)
    if words and words[0] in END_WORDS:
        await _end_sessions(request, words[1] if len(words) > 1 else "")
        return
    grant = grant_for(request.identity)
    province = grant is None and request.identity.province
    if grant is None and not province:
        await request.reply(NOT_ALLOWED)
        return
    if request.group_id is not None:
        await request.reply(ONLY_PRIVATE)
        return
    runtime = request.runtime
    links = LoginLinks(runtime.sessions, prefix=runtime.token_prefix)
    if grant is None:  # a province viewer: the first contest's book keeps their sessions
        runtime = current()
        links = LoginLinks(runtime.sessions, prefix=f"{PROVINCE_KEY}{KEY_MARK}")
        grant = Grant(request.identity.user_id, False, False, province=True)
    token = await links.issue(grant, runtime.clock())
    deployment = runtime.deployment
    await request.reply(
        LINK.format(
            minutes=int(links.ttl.total_seconds() // 60),
            url=f"{deployment.dashboard_url}/dashboard/login?t={token}",
            hours=deployment.dashboard_session_hours,
        )
    )


async def _end_sessions(request: Request, rest: str) -> None:
    """`/后台 注销`: one's own sessions; `/后台 注销 @成员` (or a QQ number): an organizer
    ends someone else's, at once and on every device."""
    runtime = request.runtime
    book = SessionBook(
        runtime.sessions, runtime.contest, runtime.deployment.superusers, runtime.group_roles
    )
    targets = request.mentioned()
    if not targets and rest.strip():
        number = plain_int(rest, QQ_MAX)
        if number is None or number < 1:
            await request.reply(END_WHO)
            return
        targets = [number]
    if not targets:
        count = await book.end_all(request.identity.user_id, runtime.clock())
        await request.reply(ENDED_OWN.format(count=count) if count else NONE_OPEN_OWN)
        return
    if not request.identity.organizer:
        await request.reply(END_OTHERS_ORGANIZERS_ONLY)
        return
    lines = []
    for user_id in targets[:END_MAX]:
        count = await book.end_all(user_id, runtime.clock())
        lines.append(
            ENDED_OTHER.format(who=user_id, count=count)
            if count
            else NONE_OPEN_OTHER.format(who=user_id)
        )
    await request.reply("\n".join(lines))


redact_access_log()
_app = nonebot.get_app()
if isinstance(_app, FastAPI):
    _app.include_router(build_router(current))
    install_handlers(_app)
