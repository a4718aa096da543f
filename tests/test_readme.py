"""The README's two set-up commands are the ones CI and users actually run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## 快速开始", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick_start)


def test_readme_has_exactly_two_setup_commands() -> None:
    run, test = _commands()
    assert run.endswith("python -m bot")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = _commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_both_commands_install_from_the_lock() -> None:
    for command in _commands():
        assert "pip install -c constraints.txt -e " in command


def test_the_lock_pins_every_direct_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    lock = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    pinned = {
        re.sub(r"[-_.]+", "-", line.split("==", 1)[0]).lower()
        for line in lock.splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    for requirement in wanted:
        name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]
        assert re.sub(r"[-_.]+", "-", name).lower() in pinned, f"{name} is not in constraints.txt"


def test_every_reliability_promise_names_a_test_that_exists() -> None:
    """Each sentence of the README's reliability section names the test proving it."""
    import ast

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## 可靠性", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", section)
    promises = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(named) >= len(promises) >= 10
    for path, name in named:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        defined = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert name in defined, f"{path}::{name}"
    for promise in section.split("\n- ")[1:]:
        assert "::test_" in promise, promise[:40]
