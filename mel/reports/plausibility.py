"""Data-quality rules on one partner's series of quarterly values: pure functions, tested on their edges.

Outliers use a robust rule: a value is flagged when it lies more than ``k`` scaled median
absolute deviations (MAD × 1.4826, comparable to a standard deviation for normal data) from the
median of the same partner's previous quarters. A series with no spread (all equal, all zeros)
has MAD 0; the scale then falls back to 10 % of the median, and never below one unit, so a
constant series flags a real jump but not rounding noise. Fewer than ``min_history`` previous
quarters: nothing is flagged (too little to judge).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Outlier:
    value: float
    median: float
    low: float
    high: float


def outlier(history: list[float], value: float, *, k: float, min_history: int) -> Outlier | None:
    """An ``Outlier`` when ``value`` is far from ``history`` (the previous quarters), else None."""
    if len(history) < max(min_history, 1):
        return None
    center = median(history)
    mad = median(abs(x - center) for x in history) * MAD_SCALE
    scale = mad if mad > 0 else max(abs(center) * 0.1, 1.0)
    low, high = center - k * scale, center + k * scale
    if low <= value <= high:
        return None
    return Outlier(value=value, median=center, low=low, high=high)


def looks_cumulative(history: list[float], value: float, *, min_history: int = 3) -> bool:
    """A quarterly (summed) value that reaches the running total of all previous quarters.

    Partners sometimes report "people trained to date" where the indicator asks for the quarter's
    new people: the value then keeps climbing and equals or exceeds everything reported before.
    """
    positive = [x for x in history if x > 0]
    if len(positive) < min_history:
        return False
    return value >= sum(history) and value > max(history)


def decreased(previous: float | None, value: float) -> bool:
    """A running total (a cumulative indicator) that went down: it cannot."""
    return previous is not None and value < previous
