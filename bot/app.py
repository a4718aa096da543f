"""The NoneBot side of the entry point: the only module in `bot/` that imports NoneBot."""

from __future__ import annotations

import gc
import pkgutil
import sys
from collections.abc import Sequence

import nonebot
import nonebot.log as nonebot_log
from loguru import logger
from nonebot.adapters.onebot.v11 import Adapter as OneBotV11Adapter

import plugins
from bot.runtime import start
from bot.settings.contest import Contest
from bot.settings.contests import OtherContest
from bot.settings.deployment import Deployment


def _redact_secrets(deployment: Deployment) -> None:
    """NoneBot logs its whole config at DEBUG; keep the access token out of every log line.

    The redaction sits in the sink, on the formatted line, so no logger call can bypass it.
    """
    token = deployment.access_token
    if not token:
        return

    def write(line: str) -> None:
        sys.stdout.write(line.replace(token, "***"))

    logger.remove(nonebot_log.logger_id)
    nonebot_log.logger_id = logger.add(
        write,
        level=0,
        diagnose=False,
        filter=nonebot_log.default_filter,
        format=nonebot_log.default_format,
    )


def init(
    deployment: Deployment,
    contest: Contest,
    log_level: str = "INFO",
    others: Sequence[OtherContest] = (),
) -> None:
    """Initialise NoneBot with the deployment settings and load the bot's plugins."""
    _redact_secrets(deployment)
    nonebot.init(
        _env_file=(str(deployment.env_file),) if deployment.env_file.is_file() else (),
        driver="~fastapi+~aiohttp",
        host=deployment.host,
        port=deployment.port,
        superusers={str(user) for user in deployment.superusers},
        nickname={contest.bot.nickname},
        command_start={"/", "／"},
        log_level=log_level,
        onebot_access_token=deployment.access_token,
        onebot_ws_urls=set(deployment.ws_urls),
        fastapi_openapi_url=None,
        fastapi_docs_url=None,
        fastapi_redoc_url=None,
    )
    driver = nonebot.get_driver()
    driver.register_adapter(OneBotV11Adapter)

    # Registered before the plugins load, so it runs before their start-up hooks: the router
    # finds the runtime open (it opens one itself only under other entry points, `nb run`).
    @driver.on_startup
    async def _open() -> None:
        await start(deployment, contest, others=others)

    for module in pkgutil.iter_modules(plugins.__path__):
        nonebot.require(f"plugins.{module.name}")

    # After every start-up hook (registered last): what start-up built — settings, FAQ indexes,
    # unit directories, one set per contest — lives as long as the process. Frozen, the
    # collector's full passes no longer walk it (with twenty contests, a pause of its own).
    @driver.on_startup
    async def _settle() -> None:
        gc.collect()
        gc.freeze()


def run(
    deployment: Deployment,
    contest: Contest,
    log_level: str = "INFO",
    others: Sequence[OtherContest] = (),
) -> None:
    init(deployment, contest, log_level, others)
    nonebot.run()
