"""`[judging]` and `[[judges]]` in contest.toml: read into the contest, or reported like any key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.judging.config import Judge, JudgingPolicy, Normalization, read_judging
from bot.settings.check import check, format_report
from bot.settings.contest import Contest
from bot.settings.loader import load_contest, load_contest_or_raise
from bot.settings.values import Problem
from tests.bot.settings.test_contest_loader import VALID

ROOT = Path(__file__).parents[3]
SHIPPED = ROOT / "config" / "contest.toml"
EXAMPLE = ROOT / "bot" / "judging" / "example.toml"

JUDGING = """
[judging]
judges_per_entry = 2
normalization = "none"

[[judging.criteria]]
id = "quality"
name = "质量"
weight = 80

[[judging.criteria]]
id = "views"
name = "阅读"
weight = 20
source = "views"
"""

JUDGES = """
[[judges]]
qq = 20001
name = "沈老师"
units = ["南湖"]

[[judges]]
qq = 20002
name = "陆老师"
"""


def load(tmp_path: Path, text: str) -> tuple[Contest | None, list[Problem]]:
    path = tmp_path / "contest.toml"
    path.write_text(text, encoding="utf-8")
    return load_contest(path)


def loaded(tmp_path: Path, text: str) -> Contest:
    contest, problems = load(tmp_path, text)
    assert problems == []
    assert contest is not None
    return contest


def problems_for(tmp_path: Path, text: str) -> dict[str, str]:
    contest, problems = load(tmp_path, text)
    assert contest is None
    assert problems
    return {p.key: p.message for p in problems}


def with_judges_in_contest(qq: str) -> str:
    return VALID.replace("organizers = [10000]\n", f"organizers = [10000]\njudges = [{qq}]\n")


# ---- read into the contest -------------------------------------------------------------------


def test_the_shipped_config_judges_as_the_example_says(tmp_path: Path) -> None:
    contest = load_contest_or_raise(SHIPPED)
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert contest.judging == read_judging(example["judging"])[0]
    assert [(j.qq, j.name, j.units) for j in contest.panel] == [
        (20001, "沈老师", ("区教文体局",)),
        (20002, "陆老师", ()),
        (20003, "褚老师", ("南湖街道",)),
    ]
    assert contest.judges == frozenset({20001, 20002, 20003})


def test_without_a_judging_section_the_defaults_apply(tmp_path: Path) -> None:
    contest = loaded(tmp_path, VALID)
    assert contest.judging == JudgingPolicy()
    assert contest.panel == ()


def test_the_section_is_read_into_the_contest(tmp_path: Path) -> None:
    contest = loaded(tmp_path, VALID + JUDGING)
    assert contest.judging.judges_per_entry == 2
    assert contest.judging.normalization is Normalization.NONE
    assert [c.id for c in contest.judging.criteria] == ["quality", "views"]


def test_the_old_judges_list_still_makes_judges_without_names(tmp_path: Path) -> None:
    contest = loaded(tmp_path, with_judges_in_contest("20001, 20005"))
    assert contest.judges == frozenset({20001, 20005})
    assert contest.panel == (Judge(20001, ""), Judge(20005, ""))
    assert contest.judge(20005) == Judge(20005, "")
    assert contest.judge(10000) is None


def test_named_judges_are_judges_with_their_names_and_units(tmp_path: Path) -> None:
    contest = loaded(tmp_path, VALID + JUDGES)
    assert contest.judges == frozenset({20001, 20002})
    judge = contest.judge(20001)
    assert judge is not None
    assert (judge.name, judge.units, judge.label) == ("沈老师", ("南湖",), "沈老师")


def test_both_forms_together_count_each_judge_once_with_the_name(tmp_path: Path) -> None:
    contest = loaded(tmp_path, with_judges_in_contest("20002, 20009") + JUDGES)
    assert contest.judges == frozenset({20001, 20002, 20009})
    assert [(j.qq, j.name) for j in contest.panel] == [
        (20001, "沈老师"),
        (20002, "陆老师"),
        (20009, ""),
    ]


# ---- problems, reported like every other key --------------------------------------------------


def test_a_problem_names_the_file_the_key_and_the_fix(tmp_path: Path) -> None:
    text = VALID + JUDGING.replace("weight = 20", "weight = 0")
    _, problems = load(tmp_path, text)
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'contest.toml'}: judging.criteria[2].weight: "
        "应大于 0，且不超过 100，现在是 0；请对照 bot/judging/example.toml 的写法修改"
    ]


def test_weights_that_sum_to_zero_are_each_a_problem(tmp_path: Path) -> None:
    text = VALID + JUDGING.replace("weight = 80", "weight = 0").replace("weight = 20", "weight = 0")
    keys = problems_for(tmp_path, text)
    assert set(keys) == {"judging.criteria[1].weight", "judging.criteria[2].weight"}


@pytest.mark.parametrize(
    ("written", "key", "says"),
    [
        ('judges_per_entry = "3"', "judging.judges_per_entry", "去掉引号"),
        ("judges_per_entry = 99999999999999999999999", "judging.judges_per_entry", "1 到 20"),
        ("trim_from = -9223372036854775809", "judging.trim_from", "3 到 50"),
        ("blind = 1", "judging.blind", "true 或 false"),
        ('normalization = "z-score"', "judging.normalization", "zscore"),
    ],
)
def test_wrong_values_in_the_section(tmp_path: Path, written: str, key: str, says: str) -> None:
    keys = problems_for(tmp_path, VALID + f"\n[judging]\n{written}\n")
    assert list(keys) == [key]
    assert says in keys[key]


@pytest.mark.parametrize("weight", ["1e400", "inf", "nan", "-0.0"])
def test_a_weight_that_is_no_usable_number_is_a_problem(tmp_path: Path, weight: str) -> None:
    text = VALID + JUDGING.replace("weight = 20", f"weight = {weight}")
    assert list(problems_for(tmp_path, text)) == ["judging.criteria[2].weight"]


def test_a_tier_count_past_int64_is_a_problem(tmp_path: Path) -> None:
    text = VALID + '\n[[judging.tiers]]\nname = "一等奖"\ncount = 18446744073709551616\n'
    keys = problems_for(tmp_path, text)
    assert "1 到 100000" in keys["judging.tiers[1].count"]


@pytest.mark.parametrize(
    ("judge", "key", "says"),
    [
        ('qq = "20001"\nname = "沈老师"', "judges[1].qq", "去掉引号"),
        ('qq = 18446744073709551616\nname = "沈老师"', "judges[1].qq", "正整数"),
        ('qq = 0\nname = "沈老师"', "judges[1].qq", "正整数"),
        ('qq = true\nname = "沈老师"', "judges[1].qq", "现在是true/false"),
        ("qq = 20001", "judges[1].name", 'name = "王老师"'),
        ('qq = 20001\nname = "沈老师"\nunits = "南湖"', "judges[1].units", "列表"),
        ('qq = 20001\nname = "沈老师"\nunits = [1]', "judges[1].units", "文字"),
        ('qq = 20001\nname = "沈老师"\nunit = ["南湖"]', "judges[1].unit", "units"),
    ],
)
def test_a_wrong_judge_is_a_problem(tmp_path: Path, judge: str, key: str, says: str) -> None:
    keys = problems_for(tmp_path, VALID + f"\n[[judges]]\n{judge}\n")
    assert list(keys) == [key]
    assert says in keys[key]


def test_a_judge_written_twice_is_a_problem(tmp_path: Path) -> None:
    text = VALID + JUDGES + '\n[[judges]]\nqq = 20001\nname = "沈建国"\n'
    keys = problems_for(tmp_path, text)
    assert keys == {"judges[3]": "QQ 20001 与 judges[1] 重复；每位评委只写一次；请删去一项"}


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("沈\\u202e老师", "控制字符"),  # right-to-left override: the name would read backwards
        ("沈\\n老师", "控制字符"),
        ("长" * 31, "不能超过 30 个字"),
        ("   ", "不能为空"),
    ],
)
def test_a_hostile_judge_name_is_a_problem(tmp_path: Path, name: str, says: str) -> None:
    keys = problems_for(tmp_path, VALID + f'\n[[judges]]\nqq = 20001\nname = "{name}"\n')
    assert says in keys["judges[1].name"]


@pytest.mark.parametrize("name", ["[CQ:at,qq=all]", "<script>alert(1)</script>", "=HYPERLINK()"])
def test_markup_in_a_judge_name_is_kept_as_text(tmp_path: Path, name: str) -> None:
    """Names are shown only as text (escaped HTML, text segments, guarded cells)."""
    contest = loaded(tmp_path, VALID + f'\n[[judges]]\nqq = 20001\nname = "{name}"\n')
    assert contest.panel == (Judge(20001, name),)


@pytest.mark.parametrize("criterion", ["质量", "quality score", "1st", "a" * 33, "x'; DROP"])
def test_a_criterion_id_must_be_a_short_english_word(tmp_path: Path, criterion: str) -> None:
    text = VALID + JUDGING.replace('id = "views"', f'id = "{criterion}"')
    keys = problems_for(tmp_path, text)
    assert list(keys) == ["judging.criteria[2].id"]
    assert '"quality"' in keys["judging.criteria[2].id"]


def test_a_criterion_id_is_read_in_lower_case(tmp_path: Path) -> None:
    contest = loaded(tmp_path, VALID + JUDGING.replace('id = "views"', 'id = "Views"'))
    assert contest.judging.criterion("views") is not None


def test_judges_as_one_table_is_a_problem(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID + '\n[judges]\nqq = 20001\nname = "沈老师"\n')
    assert "[[judges]]" in keys["judges"]


def test_a_misspelt_judging_section_gets_a_suggestion(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, VALID + "\n[judgeing]\nblind = true\n")
    assert "[judging]" in keys["judgeing"]


def test_a_judging_key_outside_its_section_says_where_it_goes(tmp_path: Path) -> None:
    keys = problems_for(tmp_path, "blind = false\n" + VALID)
    assert "[judging]" in keys["blind"]


def test_judging_problems_come_with_the_other_sections_problems(tmp_path: Path) -> None:
    no_groups = VALID.replace("groups = [123456789]", "groups = []")
    text = no_groups + JUDGING.replace("entry = 2", "entry = 0")
    keys = problems_for(tmp_path, text)
    assert {"contest.groups", "judging.judges_per_entry"} <= set(keys)


# ---- check: the summary and what is probably not meant ---------------------------------------


def checked(tmp_path: Path, text: str) -> str:
    """`check`'s report of `text`, with the shipped FAQ files."""
    faq = f'[faq]\nfile = "{ROOT / "config" / "faq.yaml"}"\n'
    faq += f'synonyms = "{ROOT / "config" / "synonyms.txt"}"\n\n'
    path = tmp_path / "contest.toml"
    path.write_text(faq + text, "utf-8")
    report = check({}, tmp_path / ".env", path)
    assert report.ok, report.problems
    return format_report(report)


def test_check_summarises_the_shipped_judging(tmp_path: Path) -> None:
    text = format_report(check({}, tmp_path / ".env", SHIPPED))
    assert "评委：3 人\n  沈老师 20001（区教文体局）、陆老师 20002、褚老师 20003（南湖街道）" in (
        text
    )
    assert "评审：每篇作品 3 位评委，匿名评审，按评委标准化后取平均" in text
    assert (
        "评分标准：质量 70%（评委打分）、阅读 20%（阅读量，对数刻度）、"
        "转发 10%（转发量，名次百分位）；综合满分 100"
    ) in text
    assert "一等奖 10 人、二等奖 20 人、三等奖 30 人、优秀奖 参评人数的 5%" in text
    assert "优秀组织奖（完成率 ≥ 100%，平均分 ≥ 60，至多 30 个）、组织奖（完成率 ≥ 100%）" in text
    assert "不在配置文件的单位名单里" not in text


def test_check_shows_weights_as_shares_of_their_sum(tmp_path: Path) -> None:
    text = checked(tmp_path, VALID + JUDGING.replace("weight = 80", "weight = 60"))
    assert "质量 75%（评委打分）、阅读 25%（阅读量，对数刻度）" in text
    assert "个人奖（按最好一篇的得分排名）：未设置" in text


def test_check_warns_about_a_judges_unit_the_config_does_not_list(tmp_path: Path) -> None:
    text = checked(tmp_path, VALID + JUDGES.replace('["南湖"]', '["南湖街", "区教育局"]'))
    assert (
        "注意：评委 沈老师 所在的单位“南湖街”不在配置文件的单位名单里（是否想写“南湖街道”？）"
    ) in text
    assert (
        "单位“区教育局”不在配置文件的单位名单里；若是在群里添加或从表格导入的单位可以不管"
    ) in text


def test_check_warns_when_fewer_judges_than_each_entry_needs(tmp_path: Path) -> None:
    text = checked(tmp_path, VALID + JUDGES)  # the default: 3 judges an entry
    assert "评委只有 2 位，少于每篇作品要分给的评委数（[judging] judges_per_entry = 3）" in text
    assert "评委只有" not in checked(tmp_path, VALID + JUDGING + JUDGES)
