"""Helpers shared by the benchmarks: percentiles, rounds and their spread, the machine's load.

A benchmark repeats its measurement in several rounds and reports, per case, the median of the
rounds' p95 and their spread (lowest to highest), so that one noisy round does not make the
number; it prints the load average at the start and end of each round, so that a reader can tell
a busy machine from a slow program.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any


def percentile(times: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of ``times`` (p in 0..1)."""
    ordered = sorted(times)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p * len(ordered)) - 1))]


def load() -> str:
    """The 1, 5 and 15 minute load averages and the number of cores."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def busy() -> bool:
    """Whether other work competes for the CPUs (one-minute load above half the cores)."""
    return hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1) / 2


def timed(call: Callable[[], Any], repeat: int, *, check: Callable[[Any], None] | None = None) -> list[float]:
    """Milliseconds of ``repeat`` calls (after one warm-up call)."""
    call()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        out.append((time.perf_counter() - start) * 1000)
        if check is not None:
            check(result)
    return out


class Rounds:
    """p50 and p95 per case and round; ``summary`` gives the median p95 and its spread."""

    def __init__(self) -> None:
        self.p50: dict[str, list[float]] = defaultdict(list)
        self.p95: dict[str, list[float]] = defaultdict(list)
        self.loads: list[str] = []

    def add(self, case: str, times: Sequence[float]) -> tuple[float, float]:
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        self.p50[case].append(p50)
        self.p95[case].append(p95)
        return p50, p95

    def summary(self, case: str) -> tuple[float, float, float, float]:
        """(median p50, median p95, lowest p95, highest p95) over the rounds."""
        p95s = self.p95[case]
        return statistics.median(self.p50[case]), statistics.median(p95s), min(p95s), max(p95s)

    def line(self, case: str, *, target: float | None = None, baseline: str = "", width: int = 40) -> str:
        p50, p95, low, high = self.summary(case)
        rounds = len(self.p95[case])
        verdict = ""
        if target is not None:
            verdict = f"  target <= {target:g} ms: {'met' if p95 <= target else 'MISSED'}"
        before = f"  (issue 18: {baseline})" if baseline else ""
        return (
            f"{case:{width}} p50 {p50:7.1f}  p95 {p95:7.1f} ms  spread {low:.1f}-{high:.1f} over {rounds} rounds"
            f"{verdict}{before}"
        )
