"""Paired, interleaved timing: the way every benchmark here turns noisy seconds into a verdict.

A and B run alternately (A, B, A, B, ...), so drift on a shared machine (another process, thermal
throttling, a neighbour VM) hits both alike; each pair gives one ratio B / A. The ratio reported
is the median of those, with a distribution-free ~95% confidence interval for the median (order
statistics of the binomial(n, 1/2)); with 5 pairs that interval is the whole min-max range. A
goal is "met" only when the whole interval satisfies it, "missed" only when none of it does,
else "not resolved": more pairs narrow the interval."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """[x_(k), x_(n+1-k)] with the largest k whose coverage P(k <= Binom(n, 1/2) <= n-k) stays >= confidence;
    k = 1 (min-max) when no narrower interval reaches it."""
    ordered = sorted(values)
    n = len(ordered)
    below = lambda k: sum(math.comb(n, i) for i in range(k)) / 2**n  # P(Binom < k)
    k = 1
    while k + 1 <= n // 2 and 1 - 2 * below(k + 1) >= confidence:
        k += 1
    return ordered[k - 1], ordered[n - k]


def summary(ratios: list[float]) -> dict:
    low, high = median_interval(ratios)
    return {"pairs": len(ratios), "ratios": ratios, "median": median(ratios), "low": low, "high": high}


def verdict(low: float, high: float, goal: float) -> str:
    """For a goal "ratio <= goal"."""
    if high <= goal:
        return "met"
    if low > goal:
        return "missed"
    return "not resolved"


def interleaved(a: Callable[[], float], b: Callable[[], float], pairs: int, warmup: int = 1) -> dict:
    """Runs a, b alternately `pairs` times (after `warmup` untimed rounds); each returns its own
    seconds. The ratio of a pair is b / a."""
    for _ in range(warmup):
        a(), b()
    a_seconds, b_seconds = [], []
    for i in range(pairs):
        first, second = (a, b) if i % 2 == 0 else (b, a)  # alternate who goes first: no order bias
        x, y = first(), second()
        ta, tb = (x, y) if i % 2 == 0 else (y, x)
        a_seconds.append(ta)
        b_seconds.append(tb)
    return {"a_seconds": a_seconds, "b_seconds": b_seconds, **summary([tb / ta for ta, tb in zip(a_seconds, b_seconds)])}


def timed(fn: Callable[[], object], synchronize: Callable[[], None] = lambda: None) -> float:
    synchronize()
    start = time.perf_counter()
    fn()
    synchronize()
    return time.perf_counter() - start
