"""Figures: the one engine behind every number a page, export or chart shows about an indicator.

DESIGN.md, "Figures", names the measures; this module and its ``figure_*`` siblings are their only
implementation:

* ``fold`` turns the counted values of one bucket (a quarter, a fiscal year, the life of the
  partnership) into the ``actual``: sums add up, ``latest`` takes each partner's most recent value
  (carried at most four quarters, with its ``as_of``), counts add up across partners, and a percent
  stored as numerator and denominator pools (Σ numerator / Σ denominator × 100) over the partners
  and the quarters in range (for a ``latest`` rate, the last four quarters of the bucket: a fiscal
  year's tests, or the latest survey), never averages;
* ``measures`` gives ``pct_of_target``, ``progress_pct``, ``expected_pct``, ``status`` and
  ``deviation`` for an actual against its target and baseline;
* ``change_of`` (``mel.results.figure_change``) gives a comparison's ``change``, ``percent_change``,
  ``trend`` and ``achieved``;
* ``target_for`` (``mel.results.figure_targets``) gives the target in force for a bucket, and
  ``mel.results.figure_periods`` the quarters a figure covers.

Views (dashboard, indicator page, IPTT, comparison, exports, IATI) call these and compute none of
them themselves, so that one name always means one formula.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from operator import attrgetter
from typing import Protocol

from mel.catalog.models import Indicator

ON_TRACK = 0.9
"""On track: at least 90 % of the progress expected by now."""
BEHIND = 0.7
"""Behind: at least 70 %; below that, off track."""
DEVIATION_BAND = 10.0
"""A period's % of target outside 100 ± 10 asks for an explanation (IPTT practice)."""
CARRY_QUARTERS = 4
"""A ``latest`` value is carried forward at most this many quarters (the quarter itself included)."""


def round1(number: float | None) -> float | None:
    """One decimal, half away from zero as people round by hand (not banker's rounding of a float)."""
    if number is None:
        return None
    return float(Decimal(repr(number)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def clean(number: float | None) -> float | None:
    """Drop float noise (59.4 - 38.5 = 20.899999999999995) without rounding away real decimals."""
    return None if number is None else round(number, 9) + 0.0


def whole(number: float | None) -> float | None:
    """A count target pro-rated over time is a whole number of people or cases (half up)."""
    if number is None:
        return None
    return float(Decimal(repr(number)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


# -- actual ----------------------------------------------------------------------------------


class Counted(Protocol):
    """One partner's value of one quarter (``mel.results.series.Cell``)."""

    partner_id: int
    period: str
    value: float
    provisional: bool
    numerator: float | None
    denominator: float | None


@dataclass(slots=True)
class Folded:
    """The actual of one bucket: all partners (None when it cannot be combined) and per partner.

    ``numerator``/``denominator`` are the pooled counts of a rate; ``as_of`` the oldest quarter a
    ``latest`` actual carries forward from, when older than the bucket's last quarter.
    """

    value: float | None
    provisional: bool
    partners: dict[int, float]
    periods: dict[int, str]
    numerator: float | None = None
    denominator: float | None = None
    as_of: str | None = None
    hidden: str | None = None  # set by the disclosure gate: small | secondary (the value is then None)
    hidden_partners: dict[int, str] = field(default_factory=dict)


def empty() -> Folded:
    return Folded(None, False, {}, {})


@cache
def carried_from(end: str) -> str:
    """The oldest quarter a ``latest`` value of a bucket ending in ``end`` may come from."""
    year, q = int(end[:4]), int(end[5])
    index = year * 4 + (q - 1) - (CARRY_QUARTERS - 1)
    return f"{index // 4}Q{index % 4 + 1}"


@dataclass(frozen=True, slots=True)
class Rule:
    """What folding needs of an indicator, read once: a table folds thousands of cells per indicator."""

    aggregation: str
    unit: str
    direction: str
    pooled: bool


def rule_of(indicator: Indicator | Rule) -> Rule:
    if isinstance(indicator, Rule):
        return indicator
    return Rule(indicator.aggregation, indicator.unit, indicator.direction, indicator.pooled)


def fold(
    indicator: Indicator | Rule,
    cells: Iterable[Counted],
    periods: Collection[str] | None = None,
    *,
    end: str | None = None,
    align: Mapping[int, str] | None = None,
) -> Folded:
    """The actual of ``indicator`` over the cells (of one category) within ``periods``.

    ``end`` is the bucket's last quarter: a ``latest`` value older than four quarters before it is
    not carried. ``align`` (partner → quarter) makes a category of a ``latest`` indicator come from
    the same quarter as the partner's total, never from another one (a partner that reported no
    total keeps its category's latest quarter).
    """
    r = rule_of(indicator)
    latest = r.aggregation == "latest"
    if periods is None and isinstance(cells, list):
        chosen: list[Counted] = cells  # not changed below: the filters build new lists
    else:
        chosen = [c for c in cells if periods is None or c.period in periods]
    if latest:
        if end:  # a latest value (or a latest rate's counts) reaches back four quarters at most
            oldest = carried_from(end)
            chosen = [c for c in chosen if c.period >= oldest]
        if align is not None:  # partners without a total keep their category's own latest quarter
            chosen = [c for c in chosen if align.get(c.partner_id, c.period) == c.period]
    if not chosen:
        return empty()
    if r.pooled:
        return _pooled(chosen, end)
    if len(chosen) == 1:  # most quarter cells: one partner's one value
        c = chosen[0]
        as_of = c.period if latest and end is not None and c.period < end else None
        return Folded(c.value, c.provisional, {c.partner_id: c.value}, {c.partner_id: c.period}, as_of=as_of)
    partners: dict[int, float] = {}
    last: dict[int, str] = {}
    pending = False
    if not latest:
        for c in chosen:
            pid = c.partner_id
            partners[pid] = partners.get(pid, 0.0) + c.value
            if c.period > last.get(pid, ""):
                last[pid] = c.period
            pending = pending or c.provisional
    else:
        provisional: dict[int, bool] = {}
        for c in sorted(chosen, key=attrgetter("period")):
            partners[c.partner_id] = c.value
            last[c.partner_id] = c.period
            provisional[c.partner_id] = c.provisional
        pending = any(provisional.values())
    if r.unit == "count":
        value: float | None = sum(partners.values())
    else:
        value = next(iter(partners.values())) if len(partners) == 1 else None
    return Folded(value, pending, partners, last, as_of=_as_of(latest, last, end))


def _as_of(latest: bool, last: Mapping[int, str], end: str | None) -> str | None:
    if not latest or not last:
        return None
    oldest = min(last.values())
    return oldest if end is not None and oldest < end else None


def _pooled(chosen: list[Counted], end: str | None) -> Folded:
    """A rate pooled over partners and quarters; one without its counts stands for its partner only
    (its latest value)."""
    num: dict[int, float] = {}
    den: dict[int, float] = {}
    last: dict[int, str] = {}
    loose: dict[int, float] = {}  # values given without numerator and denominator: not pooled
    pending = False
    for c in sorted(chosen, key=attrgetter("period")):
        pid = c.partner_id
        last[pid] = c.period
        pending = pending or c.provisional
        if c.numerator is not None and c.denominator:
            num[pid] = num.get(pid, 0.0) + c.numerator
            den[pid] = den.get(pid, 0.0) + c.denominator
        else:
            loose[pid] = c.value
    partners = {pid: num[pid] / den[pid] * 100 for pid in num if pid not in loose}
    partners.update(loose)
    if loose:
        value = next(iter(partners.values())) if len(partners) == 1 else None
        return Folded(value, pending, partners, last, as_of=_as_of(True, last, end))
    numerator, denominator = sum(num.values()), sum(den.values())
    return Folded(
        numerator / denominator * 100 if denominator else None,
        pending,
        partners,
        last,
        numerator=numerator,
        denominator=denominator,
    )


# -- measures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measures:
    """The named measures of one actual against its target (DESIGN.md, "Figures")."""

    pct_of_target: float | None
    progress_pct: float | None
    expected_pct: float | None
    status: str
    deviation: str | None


def start_of(indicator: Indicator, baseline: float | None) -> float:
    """Where progress starts: a flow's running total starts at zero (its baseline is a yearly
    level, compared like for like on the comparison page); a stock starts at its baseline, 0 when
    none is known."""
    return 0.0 if indicator.aggregation == "sum" else (baseline or 0.0)


def pct_of_target(indicator: Indicator, actual: float | None, target: float | None) -> float | None:
    """actual ÷ target × 100, for direction ``increase`` only (a falling indicator has no such ratio,
    nor has a stage: its numbers are ranks)."""
    if indicator.unit == "stage":
        return None
    return pct_of(indicator.direction, actual, target)


def pct_of(direction: str, actual: float | None, target: float | None) -> float | None:
    """``pct_of_target`` from the indicator's direction alone (for rows that carry only that)."""
    if direction != "increase" or actual is None or not target:
        return None
    return actual / target * 100


def progress_pct(
    indicator: Indicator, actual: float | None, baseline: float | None, target: float | None
) -> float | None:
    """(actual − start) ÷ (target − start) × 100: the share of the way from baseline to target."""
    if actual is None or target is None or indicator.unit == "stage":
        return None
    start = start_of(indicator, baseline)
    if target == start:
        return None
    return (actual - start) / (target - start) * 100


def deviation(pct: float | None) -> str | None:
    """over | under when a period's % of target is outside 100 ± 10; None inside or without one."""
    if pct is None:
        return None
    if pct > 100 + DEVIATION_BAND:
        return "over"
    if pct < 100 - DEVIATION_BAND:
        return "under"
    return None


def stage_status(actual: float | None, target: float | None) -> str:
    """A stage indicator's status: ``reached`` when its stage is at or beyond the target stage."""
    if target is None:
        return "no_target"
    if actual is None:
        return "no_data"
    return "reached" if actual >= target else "not_reached"


def status_of(indicator: Indicator, actual: float | None, baseline: float | None, expected: float | None) -> str:
    """on_track / behind / off_track: the share of the progress expected by now that was made."""
    if indicator.unit == "stage":
        return stage_status(actual, expected)
    if indicator.direction == "none":
        return "not_applicable"
    if expected is None:
        return "no_target"
    if actual is None:
        return "no_data"
    start = start_of(indicator, baseline)
    sign = -1.0 if indicator.direction == "decrease" else 1.0
    way = sign * (expected - start)
    done = sign * (actual - start)
    if way <= 0:
        return "on_track" if done >= way else "off_track"
    ratio = done / way
    return "on_track" if ratio >= ON_TRACK else "behind" if ratio >= BEHIND else "off_track"


def measures(
    indicator: Indicator,
    actual: float | None,
    *,
    baseline: float | None,
    target: float | None,
    expected: float | None = None,
) -> Measures:
    """Every measure of ``actual``; ``expected`` is the value the target's path asks for by now
    (None: the period is judged against its own target, as the IPTT does)."""
    if indicator.unit == "stage":  # ranks: no ratio, no path, only whether the target stage is reached
        return Measures(None, None, None, stage_status(actual, target), None)
    path = target if expected is None else expected
    return Measures(
        pct_of_target=pct_of_target(indicator, actual, target),
        progress_pct=progress_pct(indicator, actual, baseline, target),
        expected_pct=progress_pct(indicator, expected, baseline, target) if expected is not None else None,
        status=status_of(indicator, actual, baseline, path),
        deviation=deviation(pct_of_target(indicator, actual, target)),
    )
