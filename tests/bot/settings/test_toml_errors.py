"""TOML mistakes an organizer makes on a Chinese keyboard, explained with the line and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.settings.loader import load_contest
from bot.settings.toml_errors import explain


def _explained(content: str) -> tuple[int | None, str]:
    with pytest.raises(tomllib.TOMLDecodeError) as raised:
        tomllib.loads(content)
    return explain(content, str(raised.value))


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("organizers = [10000，10001]\n", 1, ("“，”是中文标点", "“,”")),
        ('a = 1\nname ＝ "南湖"\n', 2, ("“＝”", "“=”")),
        ('name： "南湖"\n', 1, ("“：”", "“=”")),
        ("name = “南湖街道”\n", 1, ("英文双引号", "中文引号")),
        ("deadline = 2027-07-32T18:00:00\n", 1, ("2027-07-32", "不存在")),
        ("a = 1\ndeadline = 2027-13-01\n", 2, ("2027-13-01", "不存在")),
        ("start = 2027-06-24 09:00\n", 1, ("写到秒", "2027-06-24 09:00:00")),
        ("name = 南湖街道\n", 1, ("英文双引号", 'name = "南湖街道"')),
        ('organizers = [10000, 10001\nname = "x"\n', 1, ("方括号没有闭合", "]")),
        ('name = "南湖，街道"\nx = [1\n', 2, ("方括号没有闭合",)),
        ('[contest\nname = "x"\n', 1, ("表头", "[contest]")),
        ("a = 1\na = 2\n", 2, ("写了两次",)),
    ],
)
def test_common_mistakes_are_named_with_their_line_and_fix(
    content: str, line: int, words: tuple[str, ...]
) -> None:
    at, said = _explained(content)
    assert at == line
    for word in words:
        assert word in said, said
    assert "Expected" not in said
    assert "Invalid" not in said


def test_a_full_width_comma_inside_quotes_is_fine(tmp_path: Path) -> None:
    assert tomllib.loads('name = "南湖，街道"\n') == {"name": "南湖，街道"}


def test_check_reports_the_explanation_for_the_file(tmp_path: Path) -> None:
    config = tmp_path / "contest.toml"
    config.write_text('[contest]\nname = "大赛"\norganizers = [10000，10001]\n', encoding="utf-8")

    contest, problems = load_contest(config)

    assert contest is None
    [problem] = problems
    assert "第 3 行" in str(problem)
    assert "中文标点" in str(problem)
