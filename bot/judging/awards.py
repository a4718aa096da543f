"""Award lists from entry totals: individuals by tiers, units by completion and mean score.

What this module guarantees:
- A person is (unit, author name) folded with `bot.names.name_key`: "张 三" and "张三" of one unit
  are one person, namesakes in two units are two. An entry with no author (empty or 未署名) is
  nobody's: it is listed in `IndividualAwards.unnamed` for organizers to fix, never awarded.
- A person's score comes from their judged entries (`[judging] aggregate`): the best total, the
  mean total (rounded half up to one decimal, like totals), or how many. Entries without a total
  do not count; a person with none is not ranked.
- Ranking is standard competition ranking on the score as shown: equal scores share a rank and
  the next rank skips (1, 2, 2, 4). Awards are drawn on ranks: with tiers of 1 and 2 places, a
  tier covers ranks up to its line (1, then 3).
- The tie rule (`[judging] ties`) decides a tie across a line. "share": everyone tied gets the
  higher award, and the places they take beyond the line come out of the next award's (ranks 1,
  1, 3: two 一等奖, one 二等奖); only a tie across the last line adds awards. "cap": awards are
  filled in turn and none exceeds its places; a tie that does not fit in what is left of an
  award moves down, whole, to the next award it fits in, and the places it leaves stay empty.
- Order is deterministic: by rank, then unit and name as folded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from bot.judging.config import Aggregate, JudgingPolicy, TieRule, UnitAward
from bot.judging.scoring import round_half_up
from bot.names import name_key

T = TypeVar("T")
UNNAMED = "未署名"


@dataclass(frozen=True)
class Entrant:
    """An accepted entry as awards see it: whose it is and its total (None: not judged)."""

    entry: int
    unit: str
    author: str
    total: float | None


@dataclass(frozen=True)
class Person:
    """One author of one unit, with the judged entries that make their score."""

    unit: str
    author: str
    """As written on their first entry."""
    entries: tuple[int, ...]
    score: float

    @property
    def key(self) -> tuple[str, str]:
        return person_key(self.unit, self.author)


@dataclass(frozen=True)
class Placed(Generic[T]):
    """Someone ranked: their score, competition rank and award (None: ranked, no award)."""

    who: T
    score: float
    rank: int
    award: str | None


def person_key(unit: str, author: str) -> tuple[str, str]:
    return name_key(unit), name_key(author)


def is_unnamed(author: str) -> bool:
    return name_key(author) in ("", name_key(UNNAMED))


# --------------------------------------------------------------------------------------------
# Ranking and placing.


def place(
    scored: Iterable[tuple[T, float]],
    places: Sequence[tuple[str, int]],
    ties: TieRule,
    order: Callable[[T], object],
) -> list[Placed[T]]:
    """Everyone in `scored` ranked, best first, with the award each gets.

    `places`: (award, how many), best first. `order`: how equal scores are listed (display
    only; they share the rank and the award either way).
    """
    ordered = sorted(scored, key=lambda item: (-item[1], order(item[0])))
    groups: list[list[tuple[T, float]]] = []
    for item in ordered:
        if groups and groups[-1][0][1] == item[1]:
            groups[-1].append(item)
        else:
            groups.append([item])
    award_of = _shared(groups, places) if ties is TieRule.SHARE else _capped(groups, places)
    placed: list[Placed[T]] = []
    for group, award in zip(groups, award_of, strict=True):
        rank = len(placed) + 1
        placed += [Placed(who, score, rank, award) for who, score in group]
    return placed


def _shared(
    groups: Sequence[Sequence[object]], places: Sequence[tuple[str, int]]
) -> list[str | None]:
    """Awards drawn on ranks: a group gets the first award whose line its rank is within."""
    lines: list[tuple[str, int]] = []
    for award, count in places:
        lines.append((award, (lines[-1][1] if lines else 0) + count))
    awards: list[str | None] = []
    rank = 1
    for group in groups:
        awards.append(next((award for award, line in lines if rank <= line), None))
        rank += len(group)
    return awards


def _capped(
    groups: Sequence[Sequence[object]], places: Sequence[tuple[str, int]]
) -> list[str | None]:
    """Awards filled in turn: a group that does not fit in what is left of one moves down, whole;
    the places it leaves stay empty, so no award exceeds its places."""
    awards: list[str | None] = []
    tier, left = 0, places[0][1] if places else 0
    for group in groups:
        while tier < len(places) and len(group) > left:
            tier += 1
            left = places[tier][1] if tier < len(places) else 0
        if tier < len(places):
            awards.append(places[tier][0])
            left -= len(group)
        else:
            awards.append(None)
    return awards


# --------------------------------------------------------------------------------------------
# Individuals.


@dataclass(frozen=True)
class IndividualAwards:
    placed: tuple[Placed[Person], ...]
    unnamed: tuple[int, ...]
    """Entries without an author: nobody's, so not in the ranking."""

    @property
    def winners(self) -> tuple[Placed[Person], ...]:
        return tuple(p for p in self.placed if p.award is not None)


def _aggregate(totals: list[float], aggregate: Aggregate) -> float:
    if aggregate is Aggregate.BEST:
        return max(totals)
    if aggregate is Aggregate.MEAN:
        return round_half_up(math.fsum(totals) / len(totals))
    return float(len(totals))


def people(
    entrants: Iterable[Entrant], aggregate: Aggregate
) -> tuple[list[Person], tuple[int, ...]]:
    """The people with at least one judged entry, and the entries without an author."""
    mine: dict[tuple[str, str], list[Entrant]] = defaultdict(list)
    unnamed: list[int] = []
    for entrant in sorted(entrants, key=lambda e: e.entry):
        if is_unnamed(entrant.author):
            unnamed.append(entrant.entry)
        else:
            mine[person_key(entrant.unit, entrant.author)].append(entrant)
    found: list[Person] = []
    for own in mine.values():
        judged = [e for e in own if e.total is not None]
        if judged:
            totals = [e.total for e in judged if e.total is not None]
            first = own[0]
            entries = tuple(e.entry for e in judged)
            found.append(Person(first.unit, first.author, entries, _aggregate(totals, aggregate)))
    return found, tuple(unnamed)


def individual_awards(entrants: Iterable[Entrant], policy: JudgingPolicy) -> IndividualAwards:
    """Every person ranked by their score, with the `[[judging.tiers]]` award each gets."""
    found, unnamed = people(entrants, policy.aggregate)
    places = [(tier.name, tier.places(len(found))) for tier in policy.tiers]
    placed = place(((p, p.score) for p in found), places, policy.ties, lambda p: p.key)
    return IndividualAwards(tuple(placed), unnamed)


# --------------------------------------------------------------------------------------------
# Units.


@dataclass(frozen=True)
class UnitStanding:
    """A unit at the end of submissions: its quota and how many entries were accepted."""

    unit: str
    quota: int
    accepted: int

    @property
    def completion(self) -> float:
        """Accepted over quota (a unit without a quota has met it)."""
        return self.accepted / self.quota if self.quota > 0 else 1.0


@dataclass(frozen=True)
class UnitResult:
    """A unit's figures and the unit award it gets (None: none)."""

    unit: str
    completion: float
    mean: float | None
    """Mean total of its judged entries, rounded half up to one decimal; None: none judged."""
    judged: int
    award: str | None = None
    rank: int | None = None
    """Rank among the units that qualified for `award`."""


def _unit_means(entrants: Iterable[Entrant]) -> dict[str, list[float]]:
    totals: dict[str, list[float]] = defaultdict(list)
    for entrant in entrants:
        if entrant.total is not None:
            totals[name_key(entrant.unit)].append(entrant.total)
    return totals


def _qualifies(result: UnitResult, award: UnitAward) -> bool:
    if result.award is not None or result.completion < award.min_completion:
        return False
    if result.mean is None:
        return award.min_mean == 0
    return result.mean >= award.min_mean


def unit_awards(
    standings: Iterable[UnitStanding], entrants: Iterable[Entrant], policy: JudgingPolicy
) -> list[UnitResult]:
    """Every unit with its completion, mean and award; awarded first, in the order of
    `[[judging.unit_awards]]`, each by rank; then the rest by mean, best first."""
    totals = _unit_means(entrants)
    results: dict[str, UnitResult] = {}
    for standing in standings:
        own = totals.get(name_key(standing.unit), [])
        mean = round_half_up(math.fsum(own) / len(own)) if own else None
        results[name_key(standing.unit)] = UnitResult(
            standing.unit, standing.completion, mean, len(own)
        )
    awarded: list[UnitResult] = []
    for award in policy.unit_awards:
        qualified = [r for r in results.values() if _qualifies(r, award)]
        count = award.count if award.count is not None else len(qualified)
        scored = ((r, r.mean if r.mean is not None else 0.0) for r in qualified)
        for placed in place(scored, [(award.name, count)], policy.ties, _unit_order):
            if placed.award is not None:
                result = replace(placed.who, award=placed.award, rank=placed.rank)
                results[name_key(result.unit)] = result
                awarded.append(result)
    rest = sorted(
        (r for r in results.values() if r.award is None),
        key=lambda r: (r.mean is None, -(r.mean or 0.0), _unit_order(r)),
    )
    return awarded + rest


def _unit_order(result: UnitResult) -> str:
    return name_key(result.unit)
