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

from bot.dashboard.auth import LoginLinks, grant_for
from bot.runtime import current
from bot.units.roles import Need
from plugins.dashboard.errors import install_handlers
from plugins.dashboard.web import build_router, redact_access_log
from plugins.router import Request, command

__plugin_meta__ = PluginMetadata(
    name="网页后台",
    description="组织者和评委在私聊中获取网页后台的一次性登录链接",
    usage="私聊机器人发送 /后台",
)

ONLY_PRIVATE = "为保护登录链接，/后台 只能在私聊中使用：请私聊机器人发送 /后台。"
NOT_ALLOWED = "抱歉，网页后台仅限组织者和评委使用。"
LINK = (
    "网页后台登录链接（{minutes} 分钟内有效，只能使用一次，请勿转发）：\n{url}\n"
    "打开后点击“登录后台”按钮即可；登录后 {hours} 小时内无需再次登录。"
)


@command(
    "后台",
    "dashboard",
    need=Need.JUDGE,
    summary="获取网页后台的一次性登录链接（仅私聊）",
    example="/后台",
    order=95,
)
async def _dashboard(request: Request) -> None:
    if request.group_id is not None:
        await request.reply(ONLY_PRIVATE)
        return
    grant = grant_for(request.identity)
    if grant is None:
        await request.reply(NOT_ALLOWED)
        return
    runtime = request.runtime
    links = LoginLinks(runtime.sessions)
    token = await links.issue(grant, runtime.clock())
    deployment = runtime.deployment
    await request.reply(
        LINK.format(
            minutes=int(links.ttl.total_seconds() // 60),
            url=f"{deployment.dashboard_url}/dashboard/login?t={token}",
            hours=deployment.dashboard_session_hours,
        )
    )


redact_access_log()
_app = nonebot.get_app()
if isinstance(_app, FastAPI):
    _app.include_router(build_router(current))
    install_handlers(_app)
