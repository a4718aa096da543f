"""Award lists: who is a person, tiers by count or share, the tie rule, unit awards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.judging.awards import (
    Entrant,
    UnitStanding,
    individual_awards,
    people,
    place,
    unit_awards,
)
from bot.judging.config import Aggregate, JudgingPolicy, Tier, TieRule, UnitAward

TIERS = (Tier("一等奖", count=1), Tier("二等奖", count=2), Tier("三等奖", count=3))


def awarded(
    scores: dict[str, float], ties: TieRule, tiers: tuple[Tier, ...] = TIERS
) -> dict[str, tuple[int, str | None]]:
    places = [(t.name, t.places(len(scores))) for t in tiers]
    placed = place(scores.items(), places, ties, lambda name: name)
    return {p.who: (p.rank, p.award) for p in placed}


# --------------------------------------------------------------------------------------------
# Ties.


def test_ranks_skip_after_a_tie() -> None:
    ranks = awarded({"甲": 90, "乙": 90, "丙": 80, "丁": 70}, TieRule.SHARE)
    assert [rank for rank, _ in ranks.values()] == [1, 1, 3, 4]


def test_shared_ties_take_the_higher_award_and_places_from_the_next() -> None:
    found = awarded(
        {"甲": 90, "乙": 90, "丙": 80, "丁": 70, "戊": 60, "己": 50, "庚": 40}, TieRule.SHARE
    )
    assert found == {
        "甲": (1, "一等奖"),
        "乙": (1, "一等奖"),
        "丙": (3, "二等奖"),
        "丁": (4, "三等奖"),
        "戊": (5, "三等奖"),
        "己": (6, "三等奖"),
        "庚": (7, None),
    }


def test_a_shared_tie_across_the_last_line_adds_awards() -> None:
    found = awarded(
        {"甲": 9, "乙": 8, "丙": 7, "丁": 6, "戊": 5, "己": 4, "庚": 4, "辛": 3}, TieRule.SHARE
    )
    assert [found[name][1] for name in ("己", "庚", "辛")] == ["三等奖", "三等奖", None]


def test_capped_ties_move_down_whole_and_leave_their_places_empty() -> None:
    found = awarded(
        {"甲": 90, "乙": 90, "丙": 80, "丁": 70, "戊": 60, "己": 50, "庚": 40}, TieRule.CAP
    )
    assert found == {
        "甲": (1, "二等奖"),
        "乙": (1, "二等奖"),
        "丙": (3, "三等奖"),
        "丁": (4, "三等奖"),
        "戊": (5, "三等奖"),
        "己": (6, None),
        "庚": (7, None),
    }


def test_a_capped_tie_too_big_for_every_award_stops_the_awards() -> None:
    found = awarded({"甲": 9, "乙": 9, "丙": 9, "丁": 9, "戊": 1}, TieRule.CAP)
    assert {award for _, award in found.values()} == {None}


names = st.sampled_from("甲乙丙丁戊己庚辛壬癸子丑寅卯")
scores_drawn = st.dictionaries(names, st.integers(1, 6).map(float), max_size=14)


@given(scores_drawn, st.sampled_from(list(TieRule)))
def test_equal_scores_always_share_rank_and_award(scores: dict[str, float], ties: TieRule) -> None:
    found = awarded(scores, ties)
    for a in scores:
        for b in scores:
            if scores[a] == scores[b]:
                assert found[a] == found[b]
            if scores[a] > scores[b]:
                assert found[a][0] < found[b][0]


@given(scores_drawn)
def test_capped_awards_never_exceed_their_places(scores: dict[str, float]) -> None:
    found = awarded(scores, TieRule.CAP)
    for tier in TIERS:
        assert sum(award == tier.name for _, award in found.values()) <= (tier.count or 0)


@given(scores_drawn)
def test_shared_awards_exceed_the_places_only_by_a_tie_at_the_last_line(
    scores: dict[str, float],
) -> None:
    found = awarded(scores, TieRule.SHARE)
    places = sum(t.count or 0 for t in TIERS)
    winners = [name for name, (_, award) in found.items() if award is not None]
    if len(winners) > places:
        last = min(scores[name] for name in winners)
        assert sum(scores[name] > last for name in winners) < places


# --------------------------------------------------------------------------------------------
# People.


def test_an_author_written_two_ways_in_one_unit_is_one_person() -> None:
    found, _ = people(
        [
            Entrant(1, "南湖街道", "张三", 80.0),
            Entrant(2, "南湖 街道", "张 三", 90.0),
            Entrant(3, "区财政局", "张三", 70.0),
        ],
        Aggregate.BEST,
    )
    assert [(p.unit, p.author, p.entries, p.score) for p in found] == [
        ("南湖街道", "张三", (1, 2), 90.0),
        ("区财政局", "张三", (3,), 70.0),
    ]


def test_a_persons_score_aggregates_their_judged_entries() -> None:
    mine = [Entrant(1, "南湖街道", "张三", 80.0), Entrant(2, "南湖街道", "张三", 85.5)]
    mine.append(Entrant(3, "南湖街道", "张三", None))
    scores = {a: people(mine, a)[0][0].score for a in Aggregate}
    assert scores == {Aggregate.BEST: 85.5, Aggregate.MEAN: 82.8, Aggregate.COUNT: 2.0}


def test_unnamed_entries_are_listed_for_organizers_and_never_awarded() -> None:
    entrants = [
        Entrant(1, "南湖街道", "", 99.0),
        Entrant(2, "南湖街道", "未署名", 98.0),
        Entrant(3, "南湖街道", "李四", 50.0),
    ]
    result = individual_awards(entrants, JudgingPolicy(tiers=TIERS))
    assert result.unnamed == (1, 2)
    assert [(p.who.author, p.award) for p in result.placed] == [("李四", "一等奖")]


def test_a_person_with_no_judged_entry_is_not_ranked() -> None:
    result = individual_awards([Entrant(1, "南湖街道", "张三", None)], JudgingPolicy(tiers=TIERS))
    assert result.placed == ()


def test_tiers_by_share_count_the_people_ranked() -> None:
    entrants = [Entrant(i, "南湖街道", f"作者{i}", float(100 - i)) for i in range(20)]
    policy = JudgingPolicy(tiers=(Tier("一等奖", share=0.1), Tier("优秀奖", share=0.25)))
    result = individual_awards(entrants, policy)
    assert [p.award for p in result.winners] == ["一等奖"] * 2 + ["优秀奖"] * 5


# --------------------------------------------------------------------------------------------
# Units.

ORGANISING = UnitAward("优秀组织奖", min_completion=1.0, min_mean=60.0, count=2)
TAKING_PART = UnitAward("组织奖", min_completion=1.0)


def unit_entrants(totals: dict[str, list[float | None]]) -> list[Entrant]:
    found: list[Entrant] = []
    for unit, values in totals.items():
        found += [Entrant(len(found) + i, unit, f"作者{i}", v) for i, v in enumerate(values)]
    return found


def test_unit_awards_need_the_quota_met_and_the_mean_then_go_by_mean() -> None:
    standings = [
        UnitStanding("南湖街道", quota=2, accepted=2),
        UnitStanding("建设街道", quota=2, accepted=3),
        UnitStanding("区财政局", quota=2, accepted=2),
        UnitStanding("区教文体局", quota=2, accepted=1),
        UnitStanding("新丰镇", quota=2, accepted=2),
    ]
    entrants = unit_entrants(
        {
            "南湖街道": [70.0, 80.0],  # 75.0
            "建设街道": [90.0, 60.0, None],  # 75.0, a tie
            "区财政局": [55.0, 60.0],  # 57.5: under min_mean
            "区教文体局": [99.0],  # quota not met
            "新丰镇": [88.0, 89.0],  # 88.5
        }
    )
    policy = JudgingPolicy(unit_awards=(ORGANISING, TAKING_PART))
    found = [(r.unit, r.award, r.rank, r.mean) for r in unit_awards(standings, entrants, policy)]
    assert found == [
        ("新丰镇", "优秀组织奖", 1, 88.5),
        ("南湖街道", "优秀组织奖", 2, 75.0),  # the tie for 2nd shares the award
        ("建设街道", "优秀组织奖", 2, 75.0),
        ("区财政局", "组织奖", 1, 57.5),
        ("区教文体局", None, None, 99.0),
    ]


def test_unit_figures_count_accepted_entries_against_the_quota() -> None:
    standings = [UnitStanding("建设街道", quota=4, accepted=3), UnitStanding("区委办", 0, 0)]
    entrants = unit_entrants({"建设街道": [90.0, None, None]})
    found = {
        r.unit: (r.completion, r.judged, r.mean)
        for r in unit_awards(standings, entrants, JudgingPolicy())
    }
    assert found == {"建设街道": (0.75, 1, 90.0), "区委办": (1.0, 0, None)}


def test_a_unit_with_nothing_judged_gets_only_an_award_without_a_mean_threshold() -> None:
    standings = [UnitStanding("区委办", quota=0, accepted=0)]
    policy = JudgingPolicy(unit_awards=(ORGANISING, TAKING_PART))
    (result,) = unit_awards(standings, [], policy)
    assert result.award == "组织奖"
