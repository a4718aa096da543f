"""Scores into totals: hand-worked normalisation, reach scaling, totals and their explanations."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.judging.config import Criterion, JudgingPolicy, Normalization, Scale, Source
from bot.judging.scoring import (
    Combined,
    Score,
    formula,
    normalize,
    results,
    round_half_up,
    scale_reach,
    zscore_rescaled,
)

QUALITY = Criterion("quality", "质量", 70)
VIEWS = Criterion("views", "阅读", 20, Source.VIEWS, Scale.LOG)
REPOSTS = Criterion("reposts", "转发", 10, Source.REPOSTS, Scale.RANK)
LENIENT, HARSH, THIRD = 20001, 20002, 20003


def scores(judge: int, by_entry: dict[int, float], criterion: str = "quality") -> list[Score]:
    return [Score(entry, judge, criterion, value) for entry, value in by_entry.items()]


def values(combined: dict[tuple[int, str], Combined]) -> dict[int, float]:
    return {entry: round(c.value, 4) for (entry, _), c in sorted(combined.items())}


def test_rounding_is_half_up_as_people_round() -> None:
    assert [round_half_up(v) for v in (8.25, 0.15, 7.75, 86.249)] == [8.3, 0.2, 7.8, 86.2]


# --------------------------------------------------------------------------------------------
# Normalisation.


def test_without_normalisation_an_entry_gets_its_judges_mean() -> None:
    given_scores = scores(LENIENT, {1: 10, 2: 9}) + scores(HARSH, {1: 5, 2: 4})
    assert values(normalize(given_scores, Normalization.NONE)) == {1: 7.5, 2: 6.5}


def test_zscore_puts_a_lenient_and_a_harsh_judge_on_one_scale() -> None:
    # The lenient judge scored entries 1-2 (10, 9), the harsh one entries 3-4 (5, 3).
    # M = 27/4 = 6.75; spreads 0.5 and 1; S = sqrt((2 × 0.25 + 2 × 1) / 4) = 0.790569.
    # Each judge's better entry is 1 spread above the judge's mean: 6.75 + 0.790569 = 7.540569.
    given_scores = scores(LENIENT, {1: 10, 2: 9}) + scores(HARSH, {3: 5, 4: 3})
    combined = normalize(given_scores, Normalization.ZSCORE)
    assert values(combined) == {1: 7.5406, 2: 5.9594, 3: 7.5406, 4: 5.9594}
    assert values(normalize(given_scores, Normalization.NONE)) == {1: 10, 2: 9, 3: 5, 4: 3}


def test_zscore_gives_a_judge_who_scores_everything_10_no_say_in_the_order() -> None:
    # The all-10 judge has no spread: each of their scores becomes M = (30 + 9) / 6 = 6.5, and S
    # is the harsh judge's spread alone, sqrt(2/3). Harsh 2, 4, 3 are z = -1.22, 1.22, 0, so
    # 5.5, 7.5, 6.5; the entries' means are 6.0, 7.0, 6.5.
    given_scores = scores(LENIENT, {1: 10, 2: 10, 3: 10}) + scores(HARSH, {1: 2, 2: 4, 3: 3})
    assert values(normalize(given_scores, Normalization.ZSCORE)) == {1: 6.0, 2: 7.0, 3: 6.5}


def test_zscore_with_only_judges_without_spread_keeps_the_common_level() -> None:
    given_scores = scores(LENIENT, {1: 7, 2: 7}) + scores(HARSH, {3: 4})
    assert values(normalize(given_scores, Normalization.ZSCORE)) == {1: 6.0, 2: 6.0, 3: 6.0}


def test_zscore_normalises_each_criterion_on_its_own() -> None:
    given_scores = scores(LENIENT, {1: 10, 2: 8}) + scores(LENIENT, {1: 1, 2: 3}, "theme")
    combined = normalize(given_scores, Normalization.ZSCORE)
    assert combined[1, "quality"].value > combined[2, "quality"].value
    assert combined[1, "theme"].value < combined[2, "theme"].value


def test_trimming_drops_the_highest_and_lowest_from_five_judges() -> None:
    given_scores = [Score(1, judge, "quality", v) for judge, v in enumerate([2, 7, 8, 8, 10])]
    (combined,) = normalize(given_scores, Normalization.TRIM, trim_from=5).values()
    assert (round(combined.value, 4), combined.judges, combined.dropped) == (7.6667, 5, 2)


def test_trimming_leaves_four_judges_alone() -> None:
    given_scores = [Score(1, judge, "quality", v) for judge, v in enumerate([2, 7, 8, 10])]
    (combined,) = normalize(given_scores, Normalization.TRIM, trim_from=5).values()
    assert (combined.value, combined.dropped) == (6.75, 0)


judge_scores = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(1, 10)), min_size=1, max_size=40
)


@given(judge_scores)
def test_zscore_stays_within_1_to_10_and_keeps_each_judges_order(
    drawn: list[tuple[int, int, int]],
) -> None:
    unique = {(judge, entry): value for judge, entry, value in drawn}
    given_scores = [Score(entry, judge, "quality", v) for (judge, entry), v in unique.items()]
    rescaled = zscore_rescaled(given_scores)
    assert all(1 <= value <= 10 for _, value in rescaled)
    for a, av in rescaled:
        for b, bv in rescaled:
            if a.judge == b.judge and a.value < b.value:
                assert av <= bv


@given(st.lists(st.integers(3, 10), min_size=2, max_size=12), st.integers(1, 2))
def test_zscore_makes_a_judge_and_a_stricter_copy_agree(raw: list[int], strictness: int) -> None:
    given_scores = scores(LENIENT, dict(enumerate(raw))) + scores(
        HARSH, {entry + 100: v - strictness for entry, v in enumerate(raw)}
    )
    combined = normalize(given_scores, Normalization.ZSCORE)
    for entry in range(len(raw)):
        assert combined[entry, "quality"].value == pytest.approx(
            combined[entry + 100, "quality"].value
        )


@given(judge_scores, st.randoms())
def test_normalising_does_not_depend_on_the_order_of_the_scores(
    drawn: list[tuple[int, int, int]], rng: random.Random
) -> None:
    unique = {(judge, entry): value for judge, entry, value in drawn}
    given_scores = [Score(entry, judge, "quality", v) for (judge, entry), v in unique.items()]
    shuffled = list(given_scores)
    rng.shuffle(shuffled)
    for method in Normalization:
        assert normalize(given_scores, method) == normalize(shuffled, method)


# --------------------------------------------------------------------------------------------
# Reach.


def test_log_scale_gives_each_tenfold_the_same_step() -> None:
    scaled = scale_reach({1: 0, 2: 9, 3: 99, 4: 999}, Scale.LOG)
    assert {e: round(v, 6) for e, v in scaled.items()} == {1: 1.0, 2: 4.0, 3: 7.0, 4: 10.0}


def test_rank_scale_counts_ties_half_and_gives_a_missing_figure_the_floor() -> None:
    scaled = scale_reach({1: 0, 2: 10, 3: 10, 4: 1000, 5: None}, Scale.RANK)
    assert scaled == {1: 1.0, 2: 5.5, 3: 5.5, 4: 10.0, 5: 1.0}


def test_one_viral_post_moves_nobody_elses_rank_score() -> None:
    before = scale_reach({1: 5, 2: 50, 3: 500}, Scale.RANK)
    after = scale_reach({1: 5, 2: 50, 3: 5_000_000}, Scale.RANK)
    assert before == after


@pytest.mark.parametrize("scale", list(Scale))
@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ({1: 300, 2: 300}, {1: 5.5, 2: 5.5}),
        ({1: 0}, {1: 5.5}),
        ({1: None, 2: None}, {1: 1.0, 2: 1.0}),
        ({}, {}),
    ],
)
def test_figures_that_tell_nothing_apart_get_the_middle(
    scale: Scale, figures: dict[int, int | None], expected: dict[int, float]
) -> None:
    assert scale_reach(figures, scale) == expected


# --------------------------------------------------------------------------------------------
# Totals and explanations.

POLICY = JudgingPolicy(criteria=(QUALITY, VIEWS, REPOSTS), normalization=Normalization.NONE)


def nanhu_results() -> dict[int, str]:
    given_scores = scores(LENIENT, {1: 8, 2: 6, 3: 10}) + scores(HARSH, {1: 9, 2: 7, 3: 10})
    figures = {
        1: {Source.VIEWS: 12_300, Source.REPOSTS: 85},
        2: {Source.VIEWS: 0, Source.REPOSTS: 85},
        3: {Source.REPOSTS: 3},
    }
    found = results([1, 2, 3], given_scores, figures, POLICY)
    return {entry: result.explain() for entry, result in found.items()}


def test_an_entry_explains_every_number_of_its_total() -> None:
    # Views on the log scale: 12,300 is the largest (10.0) and 0 the smallest (1.0). Reposts by
    # rank among 3, 85, 85: the tied 85s have one smaller and one equal, (1 + 0.5) / 2 → 7.75.
    # Total: 10 × (70 × 8.5 + 20 × 10.0 + 10 × 7.8) / 100 = 87.3.
    assert nanhu_results()[1] == (
        "质量 8.5（2 位评委，平均）· 阅读 12,300（10.0 分）· 转发 85（7.8 分）→ 综合 87.3"
    )


def test_a_zero_figure_and_a_missing_one_both_score_the_floor_and_say_which() -> None:
    lines = nanhu_results()
    assert "阅读 0（1.0 分）" in lines[2]
    assert lines[2].endswith("→ 综合 55.3")  # 10 × (70 × 6.5 + 20 + 78) / 100
    assert "阅读 无数据（1.0 分）" in lines[3]
    assert lines[3].endswith("→ 综合 73.0")  # 10 × (700 + 20 + 10) / 100


def test_the_total_is_recomputed_from_the_rounded_parts() -> None:
    found = results([1, 2, 3], scores(LENIENT, {1: 8, 2: 6, 3: 10}), {}, POLICY)
    for result in found.values():
        parts = sum(p.criterion.weight * (p.score or 0) for p in result.parts)
        assert result.total == round_half_up(10 * parts / 100)


def test_normalised_scores_say_so_and_count_their_judges() -> None:
    policy = JudgingPolicy(criteria=(QUALITY,), normalization=Normalization.ZSCORE)
    given_scores = scores(LENIENT, {1: 10, 2: 9}) + scores(HARSH, {3: 5, 4: 3})
    found = results([1, 2, 3, 4], given_scores, {}, policy)
    assert found[3].explain() == "质量 7.5（1 位评委，标准化后）→ 综合 75.0"


def test_trimmed_scores_say_what_was_dropped() -> None:
    policy = JudgingPolicy(criteria=(QUALITY,), normalization=Normalization.TRIM)
    given_scores = [Score(1, judge, "quality", v) for judge, v in enumerate([2, 7, 8, 8, 10])]
    (result,) = results([1], given_scores, {}, policy).values()
    assert result.explain() == "质量 7.7（5 位评委，去掉最高和最低）→ 综合 77.0"


def test_an_unscored_entry_has_no_total_yet() -> None:
    found = results([1, 2], scores(LENIENT, {1: 8}), {2: {Source.VIEWS: 40}}, POLICY)
    assert found[2].total is None
    assert found[2].explain().startswith("质量 未评分 · ")
    assert found[2].explain().endswith("→ 综合 暂无（尚未评分）")


def test_scores_for_other_entries_and_unknown_criteria_are_ignored() -> None:
    policy = JudgingPolicy(criteria=(QUALITY,), normalization=Normalization.NONE)
    given_scores = [Score(1, LENIENT, "quality", 6), Score(9, LENIENT, "quality", 1)]
    given_scores += [Score(1, LENIENT, "views", 1), Score(1, HARSH, "theme", 1)]
    assert results([1], given_scores, {}, policy)[1].total == 60.0


def test_the_formula_names_every_weight() -> None:
    assert (
        formula(POLICY)
        == "综合 = (质量×70 + 阅读×20 + 转发×10) ÷ 100 × 10，各项都是 1–10 分，满分 100"
    )
