"""Assigning entries to judges: coverage, conflicts, balance, determinism, a judge dropping out."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.judging.assign import Assignment, Move, assign, conflicts_of, reassign
from bot.judging.config import Judge

UNITS = ("南湖街道", "建设街道", "区财政局", "区教文体局")


def spread(assignment: Assignment, judges: list[int]) -> int:
    loads = assignment.loads(judges).values()
    return max(loads) - min(loads)


def eligible(judges: list[int], conflicts: dict[int, set[str]], unit: str) -> list[int]:
    return [j for j in judges if unit not in conflicts.get(j, set())]


def test_every_entry_gets_three_of_seven_judges_and_loads_differ_by_at_most_one() -> None:
    entries = [(e, UNITS[e % 4]) for e in range(100)]
    judges = list(range(1, 8))
    result = assign(entries, judges, 3, {})
    assert all(len(set(js)) == 3 for js in result.judges_of.values())
    assert sorted(result.loads(judges).values()) == [42] + [43] * 6
    assert result.short == {}


def test_no_judge_gets_an_entry_of_their_own_unit() -> None:
    entries = [(e, UNITS[e % 4]) for e in range(40)]
    conflicts = {1: {"南湖街道"}, 2: {"南湖街道", "建设街道"}, 3: {"区财政局"}}
    result = assign(entries, [1, 2, 3, 4, 5], 2, conflicts)
    for entry, unit in entries:
        assert not any(unit in conflicts.get(j, set()) for j in result.judges_of[entry])
    assert spread(result, [1, 2, 3, 4, 5]) <= 1


def test_units_are_compared_folded() -> None:
    result = assign([(1, "南湖 街道")], [1, 2], 1, {1: {"南湖街道"}})
    assert result.judges_of == {1: (2,)}


def test_an_entry_with_too_few_eligible_judges_gets_all_of_them_and_is_reported() -> None:
    entries = [(1, "南湖街道"), (2, "区财政局")]
    result = assign(entries, [1, 2, 3], 3, {1: {"南湖街道"}, 2: {"南湖街道"}})
    assert result.judges_of == {1: (3,), 2: (1, 2, 3)}
    assert result.short == {1: 2}


def test_balance_follows_a_chain_when_no_single_move_helps() -> None:
    # Judge 1 may take only 南湖 entries, judge 3 only 区财政局 ones, judge 2 both. Balance needs
    # 南湖 moving from 1 to 2 and 区财政局 from 2 to 3 at once.
    entries = [(e, "南湖街道") for e in range(4)] + [(e, "区财政局") for e in range(4, 6)]
    conflicts = {1: {"区财政局"}, 3: {"南湖街道"}}
    result = assign(entries, [1, 2, 3], 1, conflicts)
    assert result.loads([1, 2, 3]) == {1: 2, 2: 2, 3: 2}


def test_balance_repairs_what_choosing_entry_by_entry_leaves_uneven() -> None:
    # Found by search: the greedy pass alone ends with loads 3, 2, 1 (spread 2); 2, 2, 2 exists.
    entries = [(0, "区教文体局"), (1, "南湖街道"), (2, "南湖街道"), (3, "区教文体局")]
    entries += [(4, "建设街道"), (5, "建设街道")]
    conflicts = {1: {"区教文体局"}, 3: {"南湖街道", "建设街道"}}
    result = assign(entries, [1, 2, 3], 1, conflicts)
    assert result.loads([1, 2, 3]) == {1: 2, 2: 2, 3: 2}


def test_the_same_input_gives_the_same_assignment() -> None:
    entries = [(e, UNITS[e % 3]) for e in range(60)]
    conflicts = {2: {"南湖街道"}}
    assert assign(entries, [5, 2, 9, 4], 2, conflicts) == assign(
        entries, [5, 2, 9, 4], 2, conflicts
    )


def test_pairs_of_judges_vary() -> None:
    entries = [(e, "南湖街道") for e in range(70)]
    result = assign(entries, list(range(1, 8)), 3, {})
    assert len(set(result.judges_of.values())) >= 20


def test_conflicts_come_from_the_judges_units_and_secretary_bindings() -> None:
    judges = [Judge(20001, "沈老师", ("区教文体局",)), Judge(20002, "陆老师")]
    secretaries = {"南湖 街道": [20002, 10001], "区财政局": [10002]}
    assert conflicts_of(judges, secretaries) == {
        20001: frozenset({"区教文体局"}),
        20002: frozenset({"南湖街道"}),
    }


# --------------------------------------------------------------------------------------------
# Properties on small random contests.

contests = st.tuples(
    st.lists(st.sampled_from(UNITS), max_size=7),  # the entries' units
    st.integers(2, 4),  # judges
    st.integers(1, 3),  # per entry
    st.lists(st.sets(st.sampled_from(UNITS), max_size=2), min_size=4, max_size=4),
)


def unpack(
    drawn: tuple[list[str], int, int, list[set[str]]],
) -> tuple[list[tuple[int, str]], list[int], int, dict[int, set[str]]]:
    units, count, per_entry, barred = drawn
    judges = list(range(1, count + 1))
    return list(enumerate(units)), judges, per_entry, dict(zip(judges, barred, strict=False))


@given(contests)
def test_every_entry_gets_as_many_eligible_judges_as_it_can(
    drawn: tuple[list[str], int, int, list[set[str]]],
) -> None:
    entries, judges, per_entry, conflicts = unpack(drawn)
    result = assign(entries, judges, per_entry, conflicts)
    for entry, unit in entries:
        assigned = result.judges_of[entry]
        can = eligible(judges, conflicts, unit)
        assert len(set(assigned)) == len(assigned) == min(per_entry, len(can))
        assert set(assigned) <= set(can)
        assert result.short.get(entry, 0) == per_entry - len(assigned)


def best_spread(
    entries: list[tuple[int, str]],
    judges: list[int],
    per_entry: int,
    conflicts: dict[int, set[str]],
) -> int:
    """The smallest max − min load any assignment with full coverage could have (brute force)."""
    options = [
        list(
            itertools.combinations(
                eligible(judges, conflicts, unit),
                min(per_entry, len(eligible(judges, conflicts, unit))),
            )
        )
        for _, unit in entries
    ]
    best = None
    for choice in itertools.product(*options):
        loads = dict.fromkeys(judges, 0)
        for chosen in choice:
            for judge in chosen:
                loads[judge] += 1
        found = max(loads.values()) - min(loads.values())
        best = found if best is None else min(best, found)
    return best if best is not None else 0


@settings(max_examples=150, deadline=None)
@given(contests)
def test_loads_are_as_even_as_the_conflicts_allow(
    drawn: tuple[list[str], int, int, list[set[str]]],
) -> None:
    entries, judges, per_entry, conflicts = unpack(drawn)
    result = assign(entries, judges, per_entry, conflicts)
    assert spread(result, judges) == best_spread(entries, judges, per_entry, conflicts)


@given(st.lists(st.sampled_from(UNITS), max_size=30), st.integers(1, 7), st.integers(1, 3))
def test_without_conflicts_loads_differ_by_at_most_one(
    units: list[str], count: int, per_entry: int
) -> None:
    judges = list(range(1, count + 1))
    result = assign(list(enumerate(units)), judges, per_entry, {})
    assert spread(result, judges) <= 1


# --------------------------------------------------------------------------------------------
# A judge drops out.


def test_only_the_dropped_judges_entries_move() -> None:
    entries = [(e, UNITS[e % 4]) for e in range(70)]
    judges = list(range(1, 8))
    before = assign(entries, judges, 3, {})
    after, moves = reassign(before, 4, entries, judges, {}, 3)
    theirs = before.entries_of(4)
    assert [m.entry for m in moves] == sorted(theirs)
    assert all(m.from_judge == 4 and m.to_judge is not None for m in moves)
    for entry, assigned in before.judges_of.items():
        kept = set(assigned) - {4}
        assert kept <= set(after.judges_of[entry])
        assert len(after.judges_of[entry]) == 3
    assert after.loads(judges).get(4, 0) == 0
    assert spread(after, [j for j in judges if j != 4]) <= 1


def test_an_entry_nobody_else_may_take_is_reported_short_after_a_drop() -> None:
    entries = [(1, "南湖街道")]
    conflicts = {1: {"南湖街道"}}
    before = assign(entries, [1, 2, 3], 2, conflicts)
    after, moves = reassign(before, 3, entries, [1, 2, 3], conflicts, 2)
    assert moves == [Move(1, 3, None)]
    assert after.judges_of == {1: (2,)}
    assert after.short == {1: 1}


@given(contests, st.integers(1, 4))
def test_a_drop_keeps_coverage_where_judges_remain(
    drawn: tuple[list[str], int, int, list[set[str]]], dropped: int
) -> None:
    entries, judges, per_entry, conflicts = unpack(drawn)
    before = assign(entries, judges, per_entry, conflicts)
    after, moves = reassign(before, dropped, entries, judges, conflicts, per_entry)
    remaining = [j for j in judges if j != dropped]
    assert len(moves) == len(before.entries_of(dropped))
    for entry, unit in entries:
        can = eligible(remaining, conflicts, unit)
        assert len(after.judges_of[entry]) == min(per_entry, len(can))
        assert dropped not in after.judges_of[entry]
