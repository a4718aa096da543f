"""config/contests/<id>.toml: several contests in one deployment, checked like contest.toml."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings.check import check, format_report
from bot.settings.deployment import load_deployment

SHIPPED = Path(__file__).parents[3] / "config" / "contest.toml"


def _setup(tmp_path: Path, others: dict[str, str]) -> Path:
    """A copy of the shipped contest.toml and `others` as config/contests/<name>."""
    config = tmp_path / "contest.toml"
    config.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "faq.yaml").write_text(
        (SHIPPED.parent / "faq.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "synonyms.txt").write_text(
        (SHIPPED.parent / "synonyms.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    folder = tmp_path / "contests"
    folder.mkdir()
    for name, text in others.items():
        (folder / name).write_text(text, encoding="utf-8")
    return config


def _other(group: int, name: str = "西湖区学习博客大赛") -> str:
    text = SHIPPED.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1)
    text = re.sub(r"(?m)^groups = \[.*\]$", f"groups = [{group}]", text, count=1)
    return text  # its FAQ files are config/'s, as for contest.toml


def test_another_contest_is_loaded_and_summarised(tmp_path: Path) -> None:
    config = _setup(tmp_path, {"xihu.toml": _other(700000222)})
    report = check({}, tmp_path / ".env", config)
    assert report.ok, format_report(report)
    assert [o.id for o in report.others] == ["xihu"]
    assert report.others[0].contest.groups == frozenset({700000222})
    assert "西湖区学习博客大赛" in format_report(report)


def test_a_group_claimed_by_two_contests_is_a_problem(tmp_path: Path) -> None:
    config = _setup(tmp_path, {"xihu.toml": _other(123456789)})
    report = check({}, tmp_path / ".env", config)
    assert not report.ok
    assert any("一个群只能属于一个大赛" in p.message for p in report.problems)


def test_bad_and_reserved_ids_are_problems(tmp_path: Path) -> None:
    config = _setup(
        tmp_path,
        {"Xi-Hu.toml": _other(1), "province.toml": _other(2), "main.toml": _other(3)},
    )
    report = check({}, tmp_path / ".env", config)
    messages = [p.message for p in report.problems]
    assert any("小写字母" in m for m in messages)
    assert sum("保留字" in m for m in messages) == 2
    assert report.others == ()


def test_no_folder_is_a_single_contest_install(tmp_path: Path) -> None:
    report = check({}, tmp_path / ".env", SHIPPED)
    assert report.ok
    assert report.others == ()


def test_province_viewers_come_from_env(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    deployment, problems = load_deployment({"PROVINCE_VIEWERS": '["60000", "60001"]'}, env)
    assert not problems
    assert deployment is not None
    assert deployment.province_viewers == frozenset({60000, 60001})
    _, problems = load_deployment({"PROVINCE_VIEWERS": '["某人"]'}, env)
    assert any(p.key == "PROVINCE_VIEWERS" for p in problems)
