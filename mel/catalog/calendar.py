"""The reporting calendar: which quarters owe a value of an indicator, which a partner's report, and
when a report is late.

* An indicator's ``frequency`` (quarterly, semiannual, annual) and ``reported_in`` (calendar
  quarters, ``Q4`` or ``[Q2, Q4]``) say in which quarters it is due. Without ``reported_in`` an annual
  indicator is due in the quarter that closes the partnership's fiscal year, a semiannual one in that
  quarter and the one two quarters earlier.
* A partner owes reports from the quarter its agreement starts (``starts_on`` in the catalog, else
  the partnership's start) to the quarter it ends, in the quarters where one of its indicators is due.
* A report is due ``report_due_days`` after its quarter ends. It is **late** when it was received
  after that date, or when that date has passed and it has not been received: one definition for
  the portfolio, the data-quality page and ``mel report due``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from mel.core.periods import quarter_end, quarter_of, quarter_start, quarters, split

FREQUENCIES = ("quarterly", "semiannual", "annual")
TIMELINESS = ("on_time", "late", "missing", "pending")
LATE_STATES = frozenset({"late", "missing"})
"""Both count as late: received after the due date, or not received by it."""


def check_frequency(add: Callable[[int, str, str], None], ind: Any, where: str, line: int) -> None:
    """Problems of an indicator's ``frequency`` and ``reported_in``."""
    frequency = ind.get("frequency")
    if frequency is not None and frequency not in FREQUENCIES:
        add(line, f"{where}.frequency", f"{frequency!r} is not one of {', '.join(FREQUENCIES)}")
    if "reported_in" not in ind:
        return
    lines = getattr(ind, "lines", {})
    at = int(lines.get("reported_in", line))
    wanted = reported_quarters(ind["reported_in"])
    if wanted is None:
        add(at, f"{where}.reported_in", "write the calendar quarters it is reported in, as Q4 or [Q2, Q4]")
    elif frequency == "quarterly" or frequency is None:
        add(at, f"{where}.reported_in", "only a semiannual or annual indicator has reporting quarters")
    elif len(wanted) != {"annual": 1, "semiannual": 2}[str(frequency)]:
        count = "one quarter" if frequency == "annual" else "two quarters"
        add(at, f"{where}.reported_in", f"a {frequency} indicator is reported in {count}")


def reported_quarters(value: Any) -> list[int] | None:
    """'Q4' or ['Q2', 'Q4'] -> [4] or [2, 4]; None when it is not that."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        text = str(item).strip().upper()
        if len(text) != 2 or text[0] != "Q" or text[1] not in "1234":
            return None
        out.append(int(text[1]))
    return sorted(set(out)) or None


def stored_quarters(value: Any) -> str | None:
    """The ``reported_in`` column: 'Q2,Q4'."""
    found = reported_quarters(value) if value is not None else None
    return ",".join(f"Q{q}" for q in found) if found else None


def due_quarters(frequency: str | None, reported_in: str | None, fy_start: int) -> frozenset[int]:
    """The calendar quarters (1-4) in which an indicator is due."""
    if frequency not in ("annual", "semiannual"):
        return frozenset({1, 2, 3, 4})
    if reported_in:
        return frozenset(int(q.strip()[1]) for q in reported_in.split(","))
    closing = (fy_start - 2) % 12 // 3 + 1  # the quarter holding the month before the fiscal year starts
    if frequency == "annual":
        return frozenset({closing})
    return frozenset({closing, (closing + 1) % 4 + 1})


def is_due(frequency: str | None, reported_in: str | None, fy_start: int, period: str) -> bool:
    return split(period)[1] in due_quarters(frequency, reported_in, fy_start)


def reporting_span(
    partnership_starts: dt.date, partnership_ends: dt.date, starts_on: dt.date | None, ends_on: dt.date | None
) -> list[str]:
    """The quarters a partner reports: its agreement's, within the partnership's."""
    first = quarter_of(max(partnership_starts, starts_on or partnership_starts))
    last = quarter_of(min(partnership_ends, ends_on or partnership_ends))
    return list(quarters(first, last))


def due_date(period: str, due_days: int) -> dt.date:
    return quarter_end(period) + dt.timedelta(days=due_days)


def timeliness(received: dt.date | None, due: dt.date, today: dt.date) -> str:
    """on_time | late (received after the due date) | missing (not received, due date passed) | pending."""
    if received is not None:
        return "on_time" if received <= due else "late"
    return "missing" if today > due else "pending"


def days_late(received: dt.date | None, due: dt.date, today: dt.date) -> int:
    """Days past the due date when it arrived (or until ``today`` when it has not)."""
    return max(0, ((received or today) - due).days)


def last_ended_quarter(today: dt.date) -> str:
    """The last quarter that has ended by ``today``: the one a partner reports on now."""
    return quarter_of(quarter_start(quarter_of(today)) - dt.timedelta(days=1))


def ended(periods: Iterable[str], today: dt.date) -> list[str]:
    """The quarters that have ended by ``today``: a quarter under way owes no report yet."""
    last = last_ended_quarter(today)
    return [q for q in periods if q <= last]
