"""`nb run`: NoneBot's own entry point, which knows nothing of `python -m bot`, still runs the bot.

nb-cli (no bot.py in the project) generates a script from pyproject.toml's [tool.nonebot]: init
NoneBot, register the adapters, load the plugins, run. The router plugin then opens the runtime
itself from .env and contest.toml. nb-cli is not a dependency, so this runs the same script.
"""

from __future__ import annotations

import sys
import tomllib

from bot.demo.onebot import FakeOneBot

from .conftest import GROUP_ID, ORGANIZER_ID, REPO_ROOT, AppStarter

MEMBER_ID = 30_001


def nb_cli_script() -> str:
    """What `nb run` generates from pyproject.toml (nb-cli's run template, without reload)."""
    nonebot = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "nonebot"
    ]
    lines = ["import nonebot"]
    for index, adapter in enumerate(nonebot["adapters"]):
        lines.append(f"from {adapter['module_name']} import Adapter as Adapter{index}")
    lines += ["nonebot.init()", "driver = nonebot.get_driver()"]
    lines += [f"driver.register_adapter(Adapter{i})" for i in range(len(nonebot["adapters"]))]
    lines += ['nonebot.load_from_toml("pyproject.toml")', "nonebot.run()"]
    return "\n".join(lines)


async def test_nb_run_answers_in_the_group(start_app: AppStarter, onebot: FakeOneBot) -> None:
    app = await start_app(command=(sys.executable, "-c", nb_cli_script()))
    await onebot.connect(app.ws_url)

    await onebot.post_group_message(GROUP_ID, MEMBER_ID, "/帮助")
    member = await onebot.wait_sent(group_id=GROUP_ID)
    await onebot.post_group_message(GROUP_ID, ORGANIZER_ID, "/单位 列表")
    organizer = await onebot.wait_sent(group_id=GROUP_ID)

    assert member.text.startswith("可用指令：")
    assert organizer.text.startswith("共 ")
    assert "南湖街道" in organizer.text
