"""Change between a baseline and an endline: ``change``, ``percent_change``, ``trend`` and ``achieved``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from mel.catalog.models import Indicator
from mel.results.figures import clean, round1


@dataclass(frozen=True)
class Change:
    change: float | None
    change_unit: str
    percent_change: float | None
    trend: str | None
    achieved: bool | None  # yes/no indicators: the endline reads achieved or not


CHANGE_UNITS = {"count": "count", "percent": "percentage_points", "yes_no": "yes_no", "stage": "count"}
"""A stage change counts the levels moved: ``count``, one of the export contract's three change units
(the row's ``unit`` says ``stage``)."""


def change_of(
    indicator: Indicator,
    baseline: float | None,
    endline: float | None,
    *,
    comparable: bool = True,
    margins: Iterable[float | None] = (),
) -> Change:
    """``change`` (percentage points for percents), ``percent_change`` (counts only) and ``trend``.

    The trend is ``not_comparable`` when either end is flagged so (the change is still given),
    ``within_margin`` when the surveys' stated margins of error (combined as √(m₁² + m₂²)) cover
    the change, else improved / worsened / unchanged by the direction. A yes/no indicator has no
    change: it reads achieved or not.
    """
    unit = CHANGE_UNITS[indicator.unit]
    if indicator.unit == "yes_no":
        achieved = None if endline is None else (endline >= 1) == (indicator.direction != "decrease")
        trend = _trend(indicator.direction, None if endline is None or baseline is None else endline - baseline)
        if not comparable and trend not in (None, "n/a"):
            trend = "not_comparable"
        return Change(None, unit, None, trend, achieved)
    change = clean(endline - baseline) if endline is not None and baseline is not None else None
    if indicator.unit == "stage":  # stages moved up (+) or down (−); never a percent change
        trend = _trend(indicator.direction, change)
        return Change(change, unit, None, "not_comparable" if not comparable and trend else trend, None)
    percent = round1(change / baseline * 100) if indicator.unit == "count" and change is not None and baseline else None
    trend = _trend(indicator.direction, change)
    stated = [m for m in margins if m is not None]
    if trend not in (None, "n/a"):
        if not comparable:
            trend = "not_comparable"
        elif stated and change is not None and abs(change) <= math.sqrt(sum(m * m for m in stated)):
            trend = "within_margin"
    return Change(change, unit, percent, trend, None)


def _trend(direction: str, change: float | None) -> str | None:
    if direction == "none":
        return "n/a"
    if change is None:
        return None
    if change == 0:
        return "unchanged"
    better = change > 0 if direction == "increase" else change < 0
    return "improved" if better else "worsened"
