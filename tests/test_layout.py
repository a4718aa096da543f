"""The dependency rule: the contest itself (`bot/<feature>/`) knows nothing of NoneBot or FastAPI.

Only the composition root (bot/__main__.py, bot/cli.py, bot/app.py, bot/runtime.py) may wire
NoneBot, FastAPI and the plugins together; see docs/architecture.md.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = {"bot.__main__", "bot.cli", "bot.app", "bot.runtime"}
# Alembic runs the migrations' environment itself, with its own context.
NOT_IMPORTABLE = {"bot.storage.migrations.env"}
FORBIDDEN = ("nonebot", "fastapi", "starlette", "plugins")

# Imports each module in turn and reports the first one after which a forbidden package is
# loaded, so a failure names the module that broke the rule.
PROBE = """
import importlib, json, sys
forbidden = {forbidden!r}
found = {{}}
for name in {modules!r}:
    importlib.import_module(name)
    loaded = sorted(
        m for m in sys.modules if m.split(".")[0] in forbidden and m.split(".")[0] not in found
    )
    for module in loaded:
        found.setdefault(module.split(".")[0], name)
print(json.dumps(found))
"""


def domain_modules() -> list[str]:
    names = [
        module.name
        for module in pkgutil.walk_packages(bot.__path__, prefix="bot.")
        if module.name not in COMPOSITION_ROOT | NOT_IMPORTABLE
        and not module.name.startswith("bot.storage.migrations.versions.")
    ]
    return sorted(names)


def test_every_domain_package_is_checked() -> None:
    packages = {name.split(".")[1] for name in domain_modules()}
    assert {
        "settings",
        "storage",
        "units",
        "submissions",
        "faq",
        "reminders",
        "messages",
        "judging",
        "demo",
    } <= (packages)
    assert "dashboard" in packages


def test_the_domain_imports_no_adapter() -> None:
    probe = PROBE.format(forbidden=FORBIDDEN, modules=domain_modules())
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    brought_in = json.loads(result.stdout.strip().splitlines()[-1])
    assert brought_in == {}, f"first module that loaded each adapter package: {brought_in}"


def test_the_probe_would_notice_an_adapter_import() -> None:
    probe = PROBE.format(forbidden=FORBIDDEN, modules=["bot.settings.contest", "bot.app"])
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    brought_in = json.loads(result.stdout.strip().splitlines()[-1])
    assert brought_in.get("nonebot") == "bot.app"


def test_the_demo_stays_out_of_production() -> None:
    """NoneBot loads everything under plugins/ in production, so no demo code lives there, and
    neither the plugins nor the production entry points import the demo's server."""
    production = [
        *(ROOT / "plugins").rglob("*.py"),
        ROOT / "bot" / "app.py",
        ROOT / "bot" / "runtime.py",
    ]
    for path in production:
        text = path.read_text(encoding="utf-8")
        assert "bot.demo" not in text, path
        assert "/try" not in text, path
    assert not list((ROOT / "plugins").rglob("*demo*"))
