"""Calendar quarters ('2021Q3'), as files write them, and their fiscal-year labels, as partnerships read them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

_PATTERNS = [
    re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*[QT](?P<q>[1-4])$"),
    re.compile(r"^[QT](?P<q>[1-4])\s*[-/ ]?\s*(?P<y>\d{4})$"),
]


def today() -> dt.date:
    """The day figures and pages are for. One clock: the stored figures, the stored pages and every "has
    this quarter ended" read the day here, so they agree (and a test moves them together)."""
    return dt.date.today()


def parse_quarter(text: object) -> str | None:
    """'2021Q3', '2021-Q3', '2021 Q3', 'Q3 2021', 'Q3-2021', 'T3 2021', '2021-T3' -> '2021Q3'; else None."""
    if text is None:
        return None
    cleaned = str(text).strip().upper()
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            return f"{match['y']}Q{match['q']}"
    return None


def split(period: str) -> tuple[int, int]:
    return int(period[:4]), int(period[5])


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_start(period: str) -> dt.date:
    year, q = split(period)
    return dt.date(year, 3 * (q - 1) + 1, 1)


def quarter_end(period: str) -> dt.date:
    year, q = split(period)
    if q == 4:
        return dt.date(year, 12, 31)
    return dt.date(year, 3 * q + 1, 1) - dt.timedelta(days=1)


def next_quarter(period: str) -> str:
    year, q = split(period)
    return f"{year + 1}Q1" if q == 4 else f"{year}Q{q + 1}"


def quarters(first: str, last: str) -> Iterator[str]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    current = first
    while current <= last:
        yield current
        current = next_quarter(current)


def fiscal(period: str, fy_start_month: int) -> tuple[int, int]:
    """(fiscal year, fiscal quarter) of a calendar quarter.

    A fiscal year is named by the calendar year in which it ends: with October as the first
    month, Oct-Dec 2020 is FY2021 Q1 and Jul-Sep 2021 (2021Q3) is FY2021 Q4.
    """
    year, q = split(period)
    first_month = 3 * (q - 1) + 1
    offset = (first_month - fy_start_month) % 12
    fiscal_year = year + (1 if fy_start_month > 1 and first_month >= fy_start_month else 0)
    return fiscal_year, offset // 3 + 1


def fiscal_label(period: str, fy_start_month: int) -> str:
    fiscal_year, fq = fiscal(period, fy_start_month)
    return f"FY{fiscal_year} Q{fq}"


def fiscal_year_label(period: str, fy_start_month: int) -> str:
    return f"FY{fiscal(period, fy_start_month)[0]}"
