"""Timing for the benchmarks: repeated runs in milliseconds, percentiles, one figure line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    """The sample at fraction `q` of the sorted samples (0.99: p99), no interpolation."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(fn: Callable[[], Awaitable[Any]], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds each of `runs` awaits of `fn()` took, after `warmup` untimed ones."""
    for _ in range(warmup):
        await fn()
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def line(label: str, samples: list[float], width: int = 34, digits: int = 2) -> str:
    """`label` and the p50, p99 and max of `samples` (milliseconds) on one line."""
    return (
        f"{label:<{width}} p50 {statistics.median(samples):8.{digits}f} ms   "
        f"p99 {percentile(samples, 0.99):8.{digits}f} ms   "
        f"max {max(samples):8.{digits}f} ms   (n={len(samples)})"
    )
