"""From judges' scores and reach figures to one total per entry, with every number explained.

What this module guarantees:
- Every criterion ends on the same 1–10 scale. A judged criterion is the mean of the entry's
  judges' scores after the configured normalisation; a reach figure is placed within this
  contest's figures (`scale_reach`). An entry with no figure gets 1.0 (the floor) and its line
  says 无数据; an entry no judge has scored yet has no total.
- Each part is rounded half up to one decimal first, and the total is computed from the rounded
  parts: total = 10 × Σ(weight × part) ÷ Σ weight, rounded half up to one decimal (10–100). So
  anyone can recompute the total from the explanation line and `formula`, with a calculator.
- The same inputs give the same results, in any order.

Normalisation (`Normalization`):
- none: the plain mean.
- zscore: each score becomes M + S × (score − the judge's mean) ÷ the judge's spread, kept within
  1–10, where M is the mean of every score on the criterion and S the judges' typical spread (the
  pooled within-judge standard deviation). A lenient and a harsh judge who order entries alike
  end up giving alike scores, and the scale stays the one judges used. A judge whose scores on a
  criterion are all equal (one score, or all 10) tells nothing about order: each of their scores
  becomes M, and they do not count towards S. Spreads are population standard deviations.
- trim: with at least `trim_from` scores, one highest and one lowest are dropped before the mean.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.judging.config import Criterion, JudgingPolicy, Normalization, Scale, Source

LOW, HIGH = 1.0, 10.0
MIDDLE = (LOW + HIGH) / 2


def round_half_up(value: float, digits: int = 1) -> float:
    """`value` rounded as people round (8.25 → 8.3), not to even."""
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Score:
    """One judge's 1–10 score for one entry on one judged criterion."""

    entry: int
    judge: int
    criterion: str
    value: float


@dataclass(frozen=True)
class Combined:
    """An entry's score on one judged criterion, from `judges` scores, `dropped` of them unused."""

    value: float
    judges: int
    dropped: int = 0


# --------------------------------------------------------------------------------------------
# Judges' scores.


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _spread(values: list[float], mean: float) -> float:
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def zscore_rescaled(scores: Iterable[Score]) -> list[tuple[Score, float]]:
    """Each score with its value normalised per judge (see the module's doc), for one criterion."""
    given = list(scores)
    if not given:
        return []
    by_judge: dict[int, list[float]] = defaultdict(list)
    for score in given:
        by_judge[score.judge].append(score.value)
    centre = _mean([s.value for s in given])
    stats: dict[int, tuple[float, float]] = {}
    pooled: list[float] = []  # each judge's squared deviations, if the judge has any spread
    for judge, values in by_judge.items():
        mean = _mean(values)
        spread = _spread(values, mean)
        stats[judge] = (mean, spread)
        if spread > 0:
            pooled += [(v - mean) ** 2 for v in values]
    typical = math.sqrt(math.fsum(pooled) / len(pooled)) if pooled else 0.0
    rescaled: list[tuple[Score, float]] = []
    for score in given:
        mean, spread = stats[score.judge]
        z = (score.value - mean) / spread if spread > 0 else 0.0
        rescaled.append((score, min(HIGH, max(LOW, centre + typical * z))))
    return rescaled


def _trimmed(values: list[float], trim_from: int) -> tuple[float, int]:
    if len(values) < trim_from:
        return _mean(values), 0
    kept = sorted(values)[1:-1]
    return _mean(kept), 2


def normalize(
    scores: Iterable[Score], method: Normalization, *, trim_from: int = 5
) -> dict[tuple[int, str], Combined]:
    """(entry, criterion) → the entry's score on that judged criterion, by `method`."""
    by_criterion: dict[str, list[Score]] = defaultdict(list)
    for score in scores:
        by_criterion[score.criterion].append(score)
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    for criterion, given in by_criterion.items():
        if method is Normalization.ZSCORE:
            for score, value in zscore_rescaled(given):
                values[score.entry, criterion].append(value)
        else:
            for score in given:
                values[score.entry, criterion].append(score.value)
    combined: dict[tuple[int, str], Combined] = {}
    for key, found in values.items():
        if method is Normalization.TRIM:
            value, dropped = _trimmed(found, trim_from)
        else:
            value, dropped = _mean(found), 0
        combined[key] = Combined(value, len(found), dropped)
    return combined


# --------------------------------------------------------------------------------------------
# Reach figures.


def scale_reach(figures: Mapping[int, int | None], scale: Scale) -> dict[int, float]:
    """entry → 1–10 from its figure among this contest's figures (None: no figure, 1.0).

    log: log(1 + figure) placed linearly between the smallest and largest present. rank: 1 + 9 ×
    the share of the other entries with a smaller figure, an equal figure counting half. When all
    present figures are equal (or only one is present), each gets the middle, 5.5.
    """
    present = sorted(max(0, v) for v in figures.values() if v is not None)
    scaled: dict[int, float] = {}
    low = math.log1p(present[0]) if present else 0.0
    width = (math.log1p(present[-1]) - low) if present else 0.0
    for entry, figure in figures.items():
        if figure is None:
            scaled[entry] = LOW
        elif scale is Scale.LOG:
            share = (math.log1p(max(0, figure)) - low) / width if width > 0 else 0.5
            scaled[entry] = LOW + (HIGH - LOW) * share
        else:
            scaled[entry] = _rank_score(present, max(0, figure))
    return scaled


def _rank_score(present: list[int], figure: int) -> float:
    others = len(present) - 1
    if others == 0:
        return MIDDLE
    below = bisect_left(present, figure)
    equal = bisect_right(present, figure) - below - 1  # not counting this entry
    return LOW + (HIGH - LOW) * (below + equal / 2) / others


# --------------------------------------------------------------------------------------------
# Totals.


@dataclass(frozen=True)
class Part:
    """An entry's score on one criterion, rounded to one decimal (None: not scored yet)."""

    criterion: Criterion
    score: float | None
    judges: int = 0
    dropped: int = 0
    figure: int | None = None

    def explain(self, normalization: Normalization) -> str:
        name = self.criterion.name
        if self.criterion.source.is_reach:
            shown = "无数据" if self.figure is None else f"{self.figure:,}"
            return f"{name} {shown}（{self.score:.1f} 分）"
        if self.score is None:
            return f"{name} 未评分"
        if self.dropped:
            how = "去掉最高和最低"
        elif normalization is Normalization.ZSCORE:
            how = "标准化后"
        else:
            how = "平均"
        return f"{name} {self.score:.1f}（{self.judges} 位评委，{how}）"


@dataclass(frozen=True)
class EntryResult:
    """An entry's parts and total (10–100; None until every judged criterion has a score)."""

    entry: int
    parts: tuple[Part, ...]
    total: float | None
    normalization: Normalization

    def explain(self) -> str:
        """One line tracing every number, for example
        质量 8.4（4 位评委，标准化后）· 阅读 12,300（7.9 分）· 转发 85（6.0 分）→ 综合 86.2
        """
        first, *rest = [part.explain(self.normalization) for part in self.parts]
        line = first
        for shown in rest:
            line = _joined(line, "· ", shown)
        total = "暂无（尚未评分）" if self.total is None else f"{self.total:.1f}"
        return _joined(line, "→ ", f"综合 {total}")


def _joined(before: str, mark: str, after: str) -> str:
    """`before`, `mark`, `after`, with a space before the mark unless a full-width bracket ends
    `before` (it carries its own space): "（标准化后）· 阅读", "12,300 · 转发"."""
    return f"{before}{'' if before.endswith('）') else ' '}{mark}{after}"


def _number(value: float) -> str:
    return f"{value:g}"


def formula(policy: JudgingPolicy) -> str:
    """How a total is made, for the results page: "综合 = (质量×70 + 阅读×30) ÷ 100 × 10"."""
    terms = " + ".join(f"{c.name}×{_number(c.weight)}" for c in policy.criteria)
    weights = _number(math.fsum(c.weight for c in policy.criteria))
    return f"综合 = ({terms}) ÷ {weights} × 10，各项都是 1–10 分，满分 100"


def total(parts: Iterable[Part]) -> float | None:
    """10 × the weighted mean of the parts' (rounded) scores, rounded; None if one is missing."""
    weighted, weights = 0.0, 0.0
    for part in parts:
        if part.score is None:
            return None
        weighted += part.criterion.weight * part.score
        weights += part.criterion.weight
    return round_half_up(10 * weighted / weights) if weights else None


def results(
    entries: Iterable[int],
    scores: Iterable[Score],
    figures: Mapping[int, Mapping[Source, int]],
    policy: JudgingPolicy,
) -> dict[int, EntryResult]:
    """entry → its result, for every entry in `entries` (the contest's judged entries).

    `figures`: entry → its latest reach figures; an entry or a figure not there has no data.
    Reach is scaled among `entries` only. Scores for entries not in `entries`, or for criteria
    that are not judged ones, are ignored.
    """
    entry_ids = list(dict.fromkeys(entries))
    wanted = set(entry_ids)
    judged = {c.id for c in policy.judged}
    combined = normalize(
        (s for s in scores if s.entry in wanted and s.criterion in judged),
        policy.normalization,
        trim_from=policy.trim_from,
    )
    reach: dict[str, dict[int, float]] = {}
    for criterion in policy.criteria:
        if criterion.source.is_reach:
            found = {e: figures.get(e, {}).get(criterion.source) for e in entry_ids}
            reach[criterion.id] = scale_reach(found, criterion.scale)
    found_results: dict[int, EntryResult] = {}
    for entry in entry_ids:
        parts = tuple(_part(c, entry, combined, reach, figures) for c in policy.criteria)
        found_results[entry] = EntryResult(entry, parts, total(parts), policy.normalization)
    return found_results


def _part(
    criterion: Criterion,
    entry: int,
    combined: Mapping[tuple[int, str], Combined],
    reach: Mapping[str, Mapping[int, float]],
    figures: Mapping[int, Mapping[Source, int]],
) -> Part:
    if criterion.source.is_reach:
        figure = figures.get(entry, {}).get(criterion.source)
        return Part(criterion, round_half_up(reach[criterion.id][entry]), figure=figure)
    found = combined.get((entry, criterion.id))
    if found is None:
        return Part(criterion, None)
    return Part(criterion, round_half_up(found.value), found.judges, found.dropped)
