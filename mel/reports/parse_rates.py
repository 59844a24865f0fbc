"""A pooled percent indicator's numerator and denominator, read from one row of the Indicators sheet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mel.core.i18n import t
from mel.reports.messages import report_value
from mel.reports.numbers import plain, read_value
from mel.reports.parse_context import Context
from mel.reports.tables import blank
from mel.workbooks.book import column_letter


@dataclass(frozen=True)
class Rate:
    """A pooled rate's counts as read from a row (None: not given)."""

    numerator: float | None
    denominator: float | None
    ok: bool
    value: float | None = None


def read_rate(
    ctx: Context,
    sheet: str,
    r: int,
    row: list[Any],
    counts: tuple[int | None, int | None],
    given: float | None,
    value_cell: str,
) -> Rate:
    """Numerator and denominator of a percent indicator that pools (REPORT-FORMAT.md v1.1).

    Both whole numbers, the denominator above zero and not below the numerator; a value given as
    well must agree within 0.1. A value alone is accepted and listed as not pooled.
    """
    issues, lang = ctx.issues, ctx.lang
    raw = [row[c] if c is not None else "" for c in counts]
    cells = [f"{column_letter(c)}{r + 1}" if c is not None else value_cell for c in counts]
    if all(blank(x) or x == "" or x is None for x in raw):
        if given is not None:
            issues.info(
                "not_pooled",
                sheet,
                value_cell,
                t(
                    lang,
                    "A percentage without its numerator and denominator is kept, but not pooled with other partners.",
                ),
            )
        return Rate(None, None, True)
    read: list[float | None] = []
    for x, cell in zip(raw, cells, strict=True):
        if blank(x) or x == "" or x is None:
            issues.error(
                "inconsistent_percent",
                sheet,
                cell,
                t(lang, "Write both the numerator and the denominator of this percentage, or neither."),
            )
            return Rate(None, None, False)
        number, code = read_value(x, None, "count")
        if code is not None:
            report_value(issues, code, sheet, cell, x, unit="count")
            return Rate(None, None, False)
        read.append(number)
    num, den = read
    assert num is not None and den is not None
    if den == 0 or num > den:
        issues.error(
            "out_of_range",
            sheet,
            cells[1],
            t(
                lang,
                "The denominator must be above zero and not below the numerator ({numerator} of {denominator}).",
                numerator=plain(num),
                denominator=plain(den),
            ),
        )
        return Rate(None, None, False)
    value = num / den * 100
    if given is not None and abs(given - value) > 0.1:
        issues.error(
            "inconsistent_percent",
            sheet,
            value_cell,
            t(
                lang,
                "{value} % does not match {numerator} of {denominator} ({rate} %): correct the value, or leave it "
                "empty to take the rate.",
                value=plain(given),
                numerator=plain(num),
                denominator=plain(den),
                rate=plain(round(value, 1)),
            ),
        )
        return Rate(num, den, False)
    return Rate(num, den, True, value)
