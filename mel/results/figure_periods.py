"""The quarters a figure covers: where a whole-range figure stands, spans ending at a quarter, a
baseline's span and a measurement date's quarter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from mel.catalog.models import Indicator
from mel.core.periods import quarter_of, quarters
from mel.results.figures import Counted


def latest_quarter(cells: Iterable[Counted]) -> str | None:
    """Where a whole-range figure of an indicator stands: its most recent reported quarter.

    A partner whose own latest value is more than four quarters older is not carried to it.
    """
    return max((c.period for c in cells), default=None)


def span_ending(end: str, length: int, first: str | None = None) -> list[str]:
    """The ``length`` quarters ending with ``end`` (not before ``first``)."""
    year, q = int(end[:4]), int(end[5])
    index = year * 4 + (q - 1) - (length - 1)
    start = f"{index // 4}Q{index % 4 + 1}"
    if first and start < first:
        start = first
    return list(quarters(start, end))


def baseline_span(indicator: Indicator, date: str | None) -> int | None:
    """Quarters a flow indicator's baseline covers: the catalog's, else a year when dated by year."""
    if indicator.aggregation != "sum":
        return None
    if indicator.baseline_quarters:
        return indicator.baseline_quarters
    if date and len(date) == 4 and date.isdigit():
        return 4
    if date and len(date) >= 7:  # a dated baseline of a flow counts the year up to that date
        return 4
    return None


def quarter_of_date(date: str) -> str | None:
    """The quarter a measurement's date falls in (a year: its last quarter)."""
    try:
        if len(date) == 4:
            return f"{int(date)}Q4"
        return quarter_of(dt.date.fromisoformat(date[:10]))
    except ValueError:
        return None
