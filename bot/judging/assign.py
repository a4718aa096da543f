"""Which judges score which entries: each entry to N judges, loads balanced, conflicts kept out.

What this module guarantees:
- An entry never goes to a judge in conflict with its unit: a judge listed with the unit
  (`[[judges]] units`) or bound as its secretary (`conflicts_of`). Units compare folded.
- Each entry gets N different judges, or every eligible judge when fewer than N are: such an
  entry is reported in `Assignment.short` with how many it lacks, never silently.
- Loads are balanced: no chain of moves (an entry from judge a to judge b, one from b to c, …)
  could take one entry off a judge and give it to a judge with at least two fewer. That is the
  lexicographically balanced assignment: the busiest judge has as few entries and the least
  busy as many as the conflicts allow, so max − min ≤ 1 wherever that is possible at all.
- The same entries, judges and conflicts give the same assignment.
- `reassign` after a judge drops out moves that judge's entries only (no fewer moves can keep
  coverage), and balances as far as moving those alone allows.

Greedy first: the most constrained entries (fewest eligible judges) choose first, each taking the
least loaded eligible judges, ties broken by a fixed mix of entry and judge so that which judges
meet on an entry varies. Then `_balance` follows chains of moves until none improves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.judging.config import Judge
from bot.names import name_key


@dataclass(frozen=True)
class Assignment:
    """entry → its judges (in the order judges were listed), and the entries short of N."""

    judges_of: Mapping[int, tuple[int, ...]]
    short: Mapping[int, int] = field(default_factory=dict)
    """entry → how many judges it lacks (too few eligible judges)."""

    def loads(self, judges: Iterable[int] = ()) -> dict[int, int]:
        """judge → entries assigned; `judges` listed with 0 if they have none."""
        counted = dict.fromkeys(judges, 0)
        for assigned in self.judges_of.values():
            for judge in assigned:
                counted[judge] = counted.get(judge, 0) + 1
        return counted

    def entries_of(self, judge: int) -> tuple[int, ...]:
        return tuple(e for e, assigned in self.judges_of.items() if judge in assigned)


@dataclass(frozen=True)
class Move:
    """An entry taken from one judge and given to another (None: nobody eligible was left)."""

    entry: int
    from_judge: int
    to_judge: int | None


def _mix(entry: int, position: int) -> int:
    """A fixed pseudo-random number for (entry, judge): the same in every run and process."""
    return ((entry + 1) * 2_654_435_761 ^ (position + 1) * 40_503) % 4_294_967_291


def conflicts_of(
    judges: Iterable[Judge], secretaries: Mapping[str, Iterable[int]]
) -> dict[int, frozenset[str]]:
    """judge → the units (folded) they may not judge: those they belong to and those they are a
    secretary of. `secretaries`: unit name → its secretaries' QQ numbers."""
    found = {judge.qq: {name_key(u) for u in judge.units} for judge in judges}
    for unit, qqs in secretaries.items():
        for qq in qqs:
            if qq in found:
                found[qq].add(name_key(unit))
    return {qq: frozenset(units) for qq, units in found.items()}


class _Board:
    """The assignment being built: who has what, and who may take what."""

    def __init__(
        self,
        entries: Sequence[tuple[int, str]],
        judges: Sequence[int],
        conflicts: Mapping[int, Collection[str]],
    ) -> None:
        self.judges = list(dict.fromkeys(judges))
        self.position = {judge: i for i, judge in enumerate(self.judges)}
        barred = {j: {name_key(u) for u in conflicts.get(j, ())} for j in self.judges}
        self.eligible: dict[int, list[int]] = {}
        by_unit: dict[str, list[int]] = {}
        for entry, unit in entries:
            key = name_key(unit)
            if key not in by_unit:
                by_unit[key] = [j for j in self.judges if key not in barred[j]]
            self.eligible[entry] = by_unit[key]
        self.judges_of: dict[int, list[int]] = {entry: [] for entry in self.eligible}
        # Insertion-ordered (dict, not set) so that every run walks them alike.
        self.entries_of: dict[int, dict[int, None]] = {j: {} for j in self.judges}
        # (entry, judge) pairs balancing may move; None: all of them.
        self.movable: set[tuple[int, int]] | None = None

    def load(self, judge: int) -> int:
        return len(self.entries_of[judge])

    def give(self, entry: int, judge: int) -> None:
        self.judges_of[entry].append(judge)
        self.entries_of[judge][entry] = None

    def take(self, entry: int, judge: int) -> None:
        self.judges_of[entry].remove(judge)
        del self.entries_of[judge][entry]

    def can_take(self, judge: int, entry: int) -> bool:
        return judge in self.eligible[entry] and judge not in self.judges_of[entry]

    def move(self, entry: int, from_judge: int, to_judge: int) -> None:
        self.take(entry, from_judge)
        self.give(entry, to_judge)
        if self.movable is not None:
            self.movable.discard((entry, from_judge))
            self.movable.add((entry, to_judge))

    def may_move(self, entry: int, judge: int) -> bool:
        return self.movable is None or (entry, judge) in self.movable

    def least_loaded(self, entry: int) -> list[int]:
        """The eligible judges not on `entry`, least loaded first; ties broken by a mix of entry
        and judge, so that which judges meet on an entry varies (all pairs get compared)."""
        free = [j for j in self.eligible[entry] if j not in self.judges_of[entry]]
        return sorted(free, key=lambda j: (self.load(j), _mix(entry, self.position[j])))

    def constrained_first(self, entries: Iterable[int]) -> list[int]:
        return sorted(entries, key=lambda e: (len(self.eligible[e]), e))

    def result(self, per_entry: int) -> Assignment:
        judges_of = {
            e: tuple(sorted(assigned, key=self.position.__getitem__))
            for e, assigned in sorted(self.judges_of.items())
        }
        short = {e: per_entry - len(js) for e, js in judges_of.items() if len(js) < per_entry}
        return Assignment(judges_of, short)


def assign(
    entries: Sequence[tuple[int, str]],
    judges: Sequence[int],
    per_entry: int,
    conflicts: Mapping[int, Collection[str]],
) -> Assignment:
    """Each of `entries` ((entry, unit name)) to `per_entry` of `judges`, balanced."""
    board = _Board(entries, judges, conflicts)
    for entry in board.constrained_first(board.eligible):
        for judge in board.least_loaded(entry)[:per_entry]:
            board.give(entry, judge)
    _balance(board)
    return board.result(per_entry)


def _witness(board: _Board, source: int, target: int) -> int | None:
    """An entry of `source` that `target` could take instead."""
    return next(
        (
            e
            for e in board.entries_of[source]
            if board.may_move(e, source) and board.can_take(target, e)
        ),
        None,
    )


def _improving_chain(board: _Board, source: int) -> list[tuple[int, int, int]] | None:
    """Moves (entry, from, to) passing one entry's worth of load from `source` to a judge with
    at least two fewer, or None if there is no such chain. Breadth first: the shortest."""
    came_from: dict[int, tuple[int, int] | None] = {source: None}
    queue = deque([source])
    while queue:
        judge = queue.popleft()
        for other in board.judges:
            if other in came_from:
                continue
            entry = _witness(board, judge, other)
            if entry is None:
                continue
            came_from[other] = (judge, entry)
            if board.load(other) <= board.load(source) - 2:
                chain: list[tuple[int, int, int]] = []
                step = came_from[other]
                at = other
                while step is not None:
                    previous, moved = step
                    chain.append((moved, previous, at))
                    at, step = previous, came_from[previous]
                return chain[::-1]
            queue.append(other)
    return None


def _balance(board: _Board) -> None:
    """Apply improving chains, from the busiest judge down, until there are none."""
    while board.judges:
        least = min(board.load(j) for j in board.judges)
        busiest = sorted(board.judges, key=lambda j: (-board.load(j), board.position[j]))
        chain = None
        for source in busiest:
            if board.load(source) < least + 2:
                break
            chain = _improving_chain(board, source)
            if chain is not None:
                break
        if chain is None:
            return
        for entry, from_judge, to_judge in chain:
            board.move(entry, from_judge, to_judge)


def reassign(
    assignment: Assignment,
    dropped: int,
    entries: Sequence[tuple[int, str]],
    judges: Sequence[int],
    conflicts: Mapping[int, Collection[str]],
    per_entry: int,
) -> tuple[Assignment, list[Move]]:
    """`assignment` without the judge `dropped`: only that judge's entries move, each to the
    least loaded eligible judge not already on it; an entry nobody can take is reported short."""
    board = _Board(entries, [j for j in judges if j != dropped], conflicts)
    theirs: list[int] = []
    for entry, assigned in assignment.judges_of.items():
        for judge in assigned:
            if judge == dropped:
                theirs.append(entry)
            elif entry in board.judges_of and judge in board.entries_of:
                board.give(entry, judge)
    board.movable = set()
    for entry in board.constrained_first(e for e in theirs if e in board.eligible):
        free = board.least_loaded(entry)
        if free:
            board.give(entry, free[0])
            board.movable.add((entry, free[0]))
    # Balance with the moved assignments only: they may still change hands among themselves.
    _balance(board)
    moved_to = dict(board.movable)
    moves = [Move(e, dropped, moved_to.get(e)) for e in sorted(theirs) if e in board.eligible]
    return board.result(per_entry), moves
