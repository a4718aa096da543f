"""Periodic work spread over its period: twenty contests' watchers and heartbeats do not all
run at the same moment (a member's command arriving then would wait behind all of them)."""

from __future__ import annotations

import itertools

import pytest

from bot.storage.coherence import next_poll, phase_of


def test_timed_polls_keep_their_slots_whatever_wakes_the_watcher() -> None:
    assert next_poll(0.0, base=2.0, interval=5.0) == 2.0  # before the first slot
    assert next_poll(2.0, base=2.0, interval=5.0) == 7.0
    assert next_poll(3.3, base=2.0, interval=5.0) == 7.0  # woken at 3.3: still 7, not 8.3
    assert next_poll(12.0, base=2.0, interval=5.0) == 17.0
    assert next_poll(1.0, base=0.0, interval=0.0) > 1.0  # no busy loop on a zero interval


@pytest.mark.parametrize("count", [2, 5, 20])
def test_phases_spread_over_the_interval(count: int) -> None:
    phases = sorted(phase_of(k, 5.0) for k in range(count))
    assert phases[0] == 0.0
    assert all(0.0 <= p < 5.0 for p in phases)
    gaps = [b - a for a, b in itertools.pairwise(phases)]
    # Golden-ratio steps: no two watchers closer than a third of an even share.
    assert min(gaps) > 5.0 / count / 3


def test_a_rotation_takes_each_contest_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.runtime as runtime_module

    contests: list[object] = []
    monkeypatch.setattr(runtime_module, "runtimes", lambda: contests)
    rotation = runtime_module.Rotation()
    assert rotation.next() is None
    assert runtime_module.spread(10.0) == 10.0
    contests.extend(["a", "b", "c"])
    assert [rotation.next() for _ in range(7)] == ["a", "b", "c", "a", "b", "c", "a"]
    assert runtime_module.spread(10.0) == pytest.approx(10.0 / 3)
