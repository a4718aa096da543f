"""The [judging] section and the judges as organizers write them: accepted, or what to fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.judging.config import (
    Aggregate,
    ConfigProblem,
    Criterion,
    JudgingPolicy,
    Normalization,
    Scale,
    Source,
    Tier,
    TieRule,
    read_judges,
    read_judging,
)
from bot.settings.loader import load_contest_or_raise

ROOT = Path(__file__).parents[3]
EXAMPLE = ROOT / "bot" / "judging" / "example.toml"
SHIPPED = ROOT / "config" / "contest.toml"

QUALITY = {"id": "quality", "name": "质量", "weight": 70}
VIEWS = {"id": "views", "name": "阅读", "weight": 30, "source": "views", "scale": "log"}


def problems_of(table: Any) -> list[ConfigProblem]:
    policy, found = read_judging(table)
    assert policy is None
    assert found
    return found


def keys(found: list[ConfigProblem]) -> list[str]:
    return [p.key for p in found]


def test_the_shipped_example_is_accepted() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    policy, found = read_judging(data["judging"])
    assert found == []
    assert policy is not None
    assert [c.id for c in policy.criteria] == ["quality", "views", "reposts"]
    assert policy.criterion("views") == Criterion("views", "阅读", 20.0, Source.VIEWS, Scale.LOG)
    assert [t.name for t in policy.tiers] == ["一等奖", "二等奖", "三等奖", "优秀奖"]
    assert policy.normalization is Normalization.ZSCORE
    assert policy.unit_awards[0].name == "优秀组织奖"


def test_the_example_judges_belong_to_units_of_the_shipped_contest() -> None:
    contest = load_contest_or_raise(SHIPPED)
    names = [u.name for u in contest.units] + [a for u in contest.units for a in u.aliases]
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    judges, found = read_judges(data["judges"], units=names)
    assert found == []
    assert judges is not None
    assert [(j.qq, j.name) for j in judges] == [
        (20001, "沈老师"),
        (20002, "陆老师"),
        (20003, "褚老师"),
    ]


def test_no_judging_section_means_the_defaults_quality_alone() -> None:
    policy, found = read_judging(None)
    assert found == []
    assert policy == JudgingPolicy()
    assert [c.source for c in policy.criteria] == [Source.JUDGES]


def test_a_small_section_reads_its_values() -> None:
    policy, found = read_judging(
        {
            "criteria": [QUALITY, VIEWS],
            "normalization": "trim",
            "judges_per_entry": 5,
            "aggregate": "mean",
            "ties": "cap",
            "tiers": [{"name": "一等奖", "count": 2}, {"name": "优秀奖", "share": 0.1}],
        }
    )
    assert found == []
    assert policy is not None
    assert policy.normalization is Normalization.TRIM
    assert policy.aggregate is Aggregate.MEAN
    assert policy.ties is TieRule.CAP
    assert policy.judged == (Criterion("quality", "质量", 70.0),)


def test_a_weight_out_of_bounds_names_the_criterion_by_its_place() -> None:
    found = problems_of({"criteria": [QUALITY, {**VIEWS, "weight": 0}]})
    assert keys(found) == ["judging.criteria[2].weight"]
    assert "应大于 0" in found[0].message


def test_a_misspelt_source_gets_a_suggestion_and_the_choices() -> None:
    (found,) = problems_of({"criteria": [QUALITY, {**VIEWS, "source": "view"}]})
    assert found.key == "judging.criteria[2].source"
    assert found.message == "不认识“view”"
    assert "是否想写“views”" in found.fix
    assert '"reposts"（转发量）' in found.fix


def test_an_unknown_key_is_reported_with_the_close_one() -> None:
    (found,) = problems_of({"judges_per_entri": 3})
    assert found.key == "judging.judges_per_entri"
    assert "judges_per_entry" in found.message


def test_a_scale_on_a_judged_criterion_is_a_problem() -> None:
    (found,) = problems_of({"criteria": [{**QUALITY, "scale": "log"}]})
    assert found.key == "judging.criteria[1].scale"
    assert "删去" in found.fix


def test_criteria_without_a_judged_one_are_a_problem() -> None:
    (found,) = problems_of({"criteria": [VIEWS]})
    assert found.key == "judging.criteria"
    assert "评委打分" in found.message


def test_criterion_ids_must_differ() -> None:
    (found,) = problems_of({"criteria": [QUALITY, {**VIEWS, "id": "Quality"}]})
    assert found.key == "judging.criteria[2].id"
    assert "第 1 项" in found.message


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ({"name": "一等奖", "count": 3, "share": 0.1}, "count 和 share 都写了"),
        ({"name": "一等奖"}, "没写这个奖给多少人"),
    ],
)
def test_a_tier_says_either_a_count_or_a_share(tier: dict[str, Any], message: str) -> None:
    (found,) = problems_of({"tiers": [tier]})
    assert (found.key, found.message) == ("judging.tiers[1]", message)
    assert "share = 0.05" in found.fix


def test_criteria_written_as_one_table_are_a_problem() -> None:
    (found,) = problems_of({"criteria": QUALITY})
    assert found.key == "judging.criteria"
    assert "[[judging.criteria]]" in found.fix


def test_trimming_that_can_never_happen_is_a_problem() -> None:
    (found,) = problems_of({"normalization": "trim", "judges_per_entry": 3, "trim_from": 5})
    assert found.key == "judging.normalization"
    assert "judges_per_entry 改为至少 5" in found.fix


def test_a_problem_reads_as_the_loader_reports_it() -> None:
    found = ConfigProblem("judging.trim_from", "应在 3 到 50 之间，现在是 2", "请改为 5")
    assert str(found.in_file("config/contest.toml")) == (
        "config/contest.toml: judging.trim_from: 应在 3 到 50 之间，现在是 2；请改为 5"
    )


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of(
        {"criteria": [{**QUALITY, "weight": -1}], "blind": "yes", "tiers": [{"name": "一等奖"}]}
    )
    assert sorted(keys(found)) == [
        "judging.blind",
        "judging.criteria[1].weight",
        "judging.tiers[1]",
    ]


@pytest.mark.parametrize(
    ("share", "ranked", "places"), [(0.05, 1103, 55), (0.1, 25, 3), (0.5, 5, 3)]
)
def test_a_share_of_places_rounds_half_up(share: float, ranked: int, places: int) -> None:
    assert Tier("优秀奖", share=share).places(ranked) == places


# --------------------------------------------------------------------------------------------
# Judges.


def test_the_old_list_of_judges_still_reads() -> None:
    judges, found = read_judges([20001, 20002])
    assert found == []
    assert judges is not None
    assert [(j.qq, j.units, j.label) for j in judges] == [
        (20001, (), "评委 20001"),
        (20002, (), "评委 20002"),
    ]


def test_judges_tables_read_name_and_units() -> None:
    judges, found = read_judges(
        [{"qq": 20001, "name": "沈老师", "units": ["区教文体局", "教文体局"]}],
        units=["区教文体局", "教文体局"],
    )
    assert found == []
    assert judges is not None
    assert judges[0].label == "沈老师"


def test_a_judge_without_a_name_is_told_how_to_write_it() -> None:
    judges, found = read_judges([{"qq": 20001}])
    assert judges is None
    assert [(p.key, p.message, p.fix) for p in found] == [
        ("judges[1].name", "缺少此项", '请写 name = "王老师"')
    ]


def test_a_quoted_qq_number_is_told_to_drop_the_quotes() -> None:
    _, found = read_judges([20001, "20002"])
    assert [(p.key, p.fix) for p in found] == [("judges[2]", "请去掉引号：20002")]


def test_a_judge_listed_twice_is_a_problem() -> None:
    _, found = read_judges([20001, {"qq": 20001, "name": "沈老师"}])
    assert keys(found) == ["judges[2]"]
    assert "重复" in found[0].message


def test_a_judges_unknown_unit_gets_the_closest_name() -> None:
    _, found = read_judges(
        [{"qq": 20001, "name": "沈老师", "units": ["南湖街"]}], units=["南湖街道", "区财政局"]
    )
    assert [(p.key, p.fix) for p in found] == [("judges[1].units", "是否想写“南湖街道”？")]


def test_judges_written_as_one_number_are_a_problem() -> None:
    judges, found = read_judges(20001)
    assert judges is None
    assert keys(found) == ["judges"]
