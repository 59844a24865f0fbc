"""The data-quality rules on their edges: short history, zeros, constant series, real jumps."""

from __future__ import annotations

import pytest

from mel.reports.plausibility import decreased, looks_cumulative, outlier


def test_short_history_never_flags() -> None:
    assert outlier([10, 11, 12], 1000, k=5, min_history=4) is None
    assert outlier([], 1000, k=5, min_history=0) is None


def test_typical_series() -> None:
    history = [40, 42, 38, 45, 41]
    # median 41, |dev| = [1, 1, 3, 4, 0] -> MAD 1 -> scaled 1.4826; k=5 -> 41 ± 7.413
    assert outlier(history, 48, k=5, min_history=4) is None
    flagged = outlier(history, 49, k=5, min_history=4)
    assert flagged is not None
    assert flagged.median == 41
    assert flagged.high == pytest.approx(41 + 5 * 1.4826)
    assert outlier(history, 33, k=5, min_history=4) is not None
    assert outlier(history, 34, k=5, min_history=4) is None


def test_constant_series_uses_ten_percent_floor() -> None:
    history = [100, 100, 100, 100]
    assert outlier(history, 150, k=5, min_history=4) is None  # 100 ± 5 × 10
    assert outlier(history, 151, k=5, min_history=4) is not None
    assert outlier(history, 49, k=5, min_history=4) is not None


def test_zero_series_uses_one_unit_floor() -> None:
    history = [0, 0, 0, 0, 0]
    assert outlier(history, 5, k=5, min_history=4) is None
    assert outlier(history, 6, k=5, min_history=4) is not None
    assert outlier(history, 0, k=5, min_history=4) is None


def test_threshold_is_configurable() -> None:
    history = [40, 42, 38, 45, 41]
    assert outlier(history, 49, k=10, min_history=4) is None


def test_looks_cumulative() -> None:
    assert looks_cumulative([10, 12, 9], 31)  # 10+12+9 = 31: a running total
    assert not looks_cumulative([10, 12, 9], 30)
    assert not looks_cumulative([10, 0, 9], 40)  # too few reported quarters to judge
    assert not looks_cumulative([], 5)


def test_decreased() -> None:
    assert decreased(8, 7)
    assert not decreased(8, 8)
    assert not decreased(None, 0)


def test_history_of_exactly_min_history_is_judged() -> None:
    assert outlier([10, 10, 10, 10], 1000, k=5, min_history=4) is not None
    assert outlier([10, 10, 10], 1000, k=5, min_history=4) is None


def test_mad_zero_with_one_different_value_still_uses_the_floor() -> None:
    # median 50, deviations [0, 0, 0, 0, 40] -> MAD 0: the scale falls back to 10 % of 50 = 5
    history = [50, 50, 50, 50, 90]
    assert outlier(history, 75, k=5, min_history=4) is None
    flagged = outlier(history, 76, k=5, min_history=4)
    assert flagged is not None and (flagged.low, flagged.high) == (25, 75)
