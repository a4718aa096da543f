"""The bare NoneBot baseline for bench/bench_routing.py and tests/e2e/test_harness.py.

One `on_message` matcher: "/echo <text>" is answered with <text>; anything else is ignored.
HOST, PORT, ONEBOT_ACCESS_TOKEN, ONEBOT_WS_URLS and LOG_LEVEL come from the environment,
as in any NoneBot project.

    HOST=127.0.0.1 PORT=8080 python bench/echo_bot.py
"""

import nonebot
from nonebot.adapters.onebot.v11 import Adapter, Bot, MessageEvent, MessageSegment

nonebot.init(driver="~fastapi+~aiohttp")
nonebot.get_driver().register_adapter(Adapter)

PREFIX = "/echo "

echo = nonebot.on_message(priority=1, block=True)


@echo.handle()
async def _(bot: Bot, event: MessageEvent) -> None:
    message = event.get_plaintext()
    if message.startswith(PREFIX):
        await bot.send(event, MessageSegment.text(message[len(PREFIX) :]))


if __name__ == "__main__":
    nonebot.run()
