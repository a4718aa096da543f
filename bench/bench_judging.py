"""Judging benchmark: 10,000 entries, 7 judges, 3 judges per entry (issue 13).

Run by hand from the repository root:

    .venv/bin/python bench/bench_judging.py              # about 10 s
    .venv/bin/python bench/bench_judging.py --entries 20000 --runs 3

Builds 10,000 entries over 200 units (a tenth of them without an author, a fifth without
reach figures), 7 judges of whom 3 belong to a unit or are its secretary, then times
- assignment: `assign` of every entry to 3 judges, conflicts kept out (target ≤ 2 s);
- results: normalisation (z-score), reach scaling, totals with their explanation lines, and the
  individual and unit awards, from 30,000 scores (target ≤ 2 s);
- a judge dropping out: `reassign`, for scale.
Each is run `--runs` times; the best and the worst are printed with the machine's core count.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.judging.assign import assign, reassign
from bot.judging.awards import Entrant, UnitStanding, individual_awards, unit_awards
from bot.judging.config import (
    Criterion,
    JudgingPolicy,
    Normalization,
    Scale,
    Source,
    Tier,
    UnitAward,
)
from bot.judging.scoring import Score, results

POLICY = JudgingPolicy(
    criteria=(
        Criterion("quality", "质量", 70),
        Criterion("views", "阅读", 20, Source.VIEWS, Scale.LOG),
        Criterion("reposts", "转发", 10, Source.REPOSTS, Scale.RANK),
    ),
    judges_per_entry=3,
    normalization=Normalization.ZSCORE,
    tiers=(
        Tier("一等奖", count=10),
        Tier("二等奖", count=20),
        Tier("三等奖", count=30),
        Tier("优秀奖", share=0.05),
    ),
    unit_awards=(UnitAward("优秀组织奖", 1.0, 60.0, 30), UnitAward("组织奖", 1.0)),
)
JUDGES = [20001, 20002, 20003, 20004, 20005, 20006, 20007]


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    samples: list[float] = []
    value: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        samples.append(time.perf_counter() - started)
    return samples, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(20270701)

    units = [f"单位{u:03d}" for u in range(args.units)]
    entries = [(e, rng.choice(units)) for e in range(1, args.entries + 1)]
    authors = {
        e: ("" if rng.random() < 0.1 else f"作者{rng.randrange(args.entries // 2)}")
        for e, _ in entries
    }
    conflicts = {20001: {units[0]}, 20002: {units[1], units[2]}, 20003: {units[0]}}
    figures = {
        e: {Source.VIEWS: int(rng.lognormvariate(6, 1.5)), Source.REPOSTS: rng.randrange(200)}
        for e, _ in entries
        if rng.random() > 0.2
    }
    bias = {j: rng.uniform(-2, 2) for j in JUDGES}

    assign_times, assignment = timed(lambda: assign(entries, JUDGES, 3, conflicts), args.runs)
    scores = [
        Score(e, j, "quality", float(min(10, max(1, round(rng.gauss(6.5 + bias[j], 1.5))))))
        for e, js in assignment.judges_of.items()
        for j in js
    ]
    unit_of = dict(entries)
    standings = [
        UnitStanding(u, quota=50 if i < 20 else 5, accepted=sum(1 for _, x in entries if x == u))
        for i, u in enumerate(units)
    ]

    def results_and_awards() -> tuple[int, int, int]:
        found = results(unit_of, scores, figures, POLICY)
        lines = [r.explain() for r in found.values()]
        entrants = [Entrant(e, unit_of[e], authors[e], r.total) for e, r in found.items()]
        people = individual_awards(entrants, POLICY)
        by_unit = unit_awards(standings, entrants, POLICY)
        return len(lines), len(people.winners), sum(r.award is not None for r in by_unit)

    results_times, (lines, winners, awarded_units) = timed(results_and_awards, args.runs)
    drop_times, (_, moves) = timed(
        lambda: reassign(assignment, 20004, entries, JUDGES, conflicts, 3), args.runs
    )

    loads = assignment.loads(JUDGES)
    print(f"{args.entries:,} entries, {args.units} units, {len(JUDGES)} judges × 3 per entry")

    def row(label: str, samples: list[float], target: str = "") -> None:
        print(f"{label:<44} {min(samples):7.2f}s {max(samples):7.2f}s   {target}")

    print(f"{'figure':<44} {'best':>8} {'worst':>8}   target")
    row("assignment", assign_times, "≤ 2 s")
    row("results (normalise, reach, totals, awards)", results_times, "≤ 2 s")
    row("a judge drops out (reassign)", drop_times)
    print(
        f"loads {min(loads.values())}–{max(loads.values())}, short {len(assignment.short)}, "
        f"{len(scores):,} scores, {lines:,} explanation lines, {winners} individual awards, "
        f"{awarded_units} unit awards, {len(moves)} moves after a drop"
    )
    print(
        f"runs {args.runs}; {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )


if __name__ == "__main__":
    main()
