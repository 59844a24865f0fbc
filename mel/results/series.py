"""Values per partner, quarter and category in one grouped query, folded into any period bucket.

The IPTT, the indicator chart and the disaggregation explorer all need the same numbers at
different granularities (a quarter, a fiscal year, the life of the partnership), so SQL groups the
counted values once by indicator, partner, quarter and category, and ``fold`` applies DESIGN.md's
aggregation rules to whichever quarters a bucket holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from operator import attrgetter

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, CombinationMember, Dimension, Indicator
from mel.reports.models import Submission, Value
from mel.results.base import Scope, submission_filter

TOTAL = 0
"""The category id under which totals are grouped."""
ALL_PARTNERS = 0
"""The partner id of cells already added up across partners (``grouped(..., combine_partners=True)``)."""


@dataclass(slots=True)
class Cell:
    indicator_id: int
    partner_id: int
    period: str
    category_id: int  # TOTAL for the total
    value: float
    provisional: bool


@dataclass(slots=True)
class Folded:
    """A number for one bucket: the all-partner value (None when it cannot be combined) and per partner."""

    value: float | None
    provisional: bool
    partners: dict[int, float]
    periods: dict[int, str]
    hidden: str | None = None  # set by the disclosure gate: small | secondary (the value is then None)
    hidden_partners: dict[int, str] = field(default_factory=dict)


def grouped(
    session: Session,
    scope: Scope,
    *,
    partnership_id: int,
    indicator_ids: Collection[int] | None = None,
    dimension_ids: Collection[int] | None = None,
    combine_partners: bool = False,
    breakdown_ids: Collection[int] | None = None,
) -> list[Cell]:
    """Counted totals and one-dimension breakdowns (of ``dimension_ids`` when given), grouped in SQL.

    ``breakdown_ids`` limits the breakdowns to those indicators (totals still come for all): the
    breakdown cells are most of the rows, and a page that shows them on demand need not read them.

    The counted submissions are a small subquery, so the value rows are read from the covering
    index ``ix_value_progress`` alone (indicator, combination, period, partner, submission, value),
    never joined row by row to their submission. With ``combine_partners`` the breakdown cells of
    ``sum`` indicators are added up across partners in SQL (partner ``ALL_PARTNERS``): far fewer
    rows for the pages that only show the all-partner breakdown.
    """
    counted = select(Submission.id).where(submission_filter(scope))
    pending = select(Submission.id).where(submission_filter(scope), Submission.status == "submitted")
    flag = func.max(case((Value.submission_id.in_(pending), 1), else_=0)) if scope.include_provisional else literal(0)
    total_id = session.scalar(select(Combination.id).where(Combination.key == TOTAL_KEY))
    indicators = select(Indicator.id, Indicator.aggregation).where(Indicator.partnership_id == partnership_id)
    if indicator_ids is not None:
        indicators = indicators.where(Indicator.id.in_(list(indicator_ids) or [-1]))
    aggregation: dict[int, str] = {i: a for i, a in session.execute(indicators)}
    if not aggregation:
        return []
    ids = list(aggregation)
    out: list[Cell] = []
    conn = session.connection()  # plain rows: no ORM result processing for thousands of tuples
    if total_id is not None:
        totals = (
            select(Value.indicator_id, Value.partner_id, Value.period, func.sum(Value.value), flag)
            .where(Value.indicator_id.in_(ids), Value.combination_id == total_id, Value.submission_id.in_(counted))
            .group_by(Value.indicator_id, Value.partner_id, Value.period)
        )
        out += [Cell(i, p, q, TOTAL, float(v), bool(f)) for i, p, q, v, f in conn.execute(totals)]
    if dimension_ids is not None and not dimension_ids:
        return out
    members = (
        select(CombinationMember.combination_id, CombinationMember.category_id)
        .join(Combination, Combination.id == CombinationMember.combination_id)
        .join(Dimension, Dimension.id == CombinationMember.dimension_id)
        .where(Combination.size == 1, Dimension.partnership_id == partnership_id)
    )
    if dimension_ids is not None:
        members = members.where(CombinationMember.dimension_id.in_(list(dimension_ids)))
    category_of: dict[int, int] = {c: k for c, k in session.execute(members)}
    if not category_of:
        return out
    combos = list(category_of)
    broken_down = ids if breakdown_ids is None else [i for i in ids if i in set(breakdown_ids)]
    summed = [i for i in broken_down if aggregation[i] == "sum"] if combine_partners else []
    by_partner = [i for i in broken_down if i not in set(summed)]
    if summed:
        query = (
            select(Value.indicator_id, Value.combination_id, Value.period, func.sum(Value.value), flag)
            .where(Value.indicator_id.in_(summed), Value.combination_id.in_(combos), Value.submission_id.in_(counted))
            .group_by(Value.indicator_id, Value.combination_id, Value.period)
        )
        out += [Cell(i, ALL_PARTNERS, q, category_of[c], float(v), bool(f)) for i, c, q, v, f in conn.execute(query)]
    if by_partner:
        query = (
            select(
                Value.indicator_id, Value.combination_id, Value.period, Value.partner_id, func.sum(Value.value), flag
            )
            .where(
                Value.indicator_id.in_(by_partner), Value.combination_id.in_(combos), Value.submission_id.in_(counted)
            )
            .group_by(Value.indicator_id, Value.combination_id, Value.period, Value.partner_id)
        )
        out += [Cell(i, p, q, category_of[c], float(v), bool(f)) for i, c, q, p, v, f in conn.execute(query)]
    return out


def index(cells: Iterable[Cell]) -> dict[tuple[int, int], list[Cell]]:
    """Cells by (indicator id, category id)."""
    out: dict[tuple[int, int], list[Cell]] = defaultdict(list)
    for cell in cells:
        out[(cell.indicator_id, cell.category_id)].append(cell)
    return out


def fold(indicator: Indicator, cells: Iterable[Cell], periods: Collection[str] | None = None) -> Folded:
    """Apply the aggregation rules to the cells of one indicator and category within ``periods``.

    Sum: everything in the bucket adds up. Latest: each partner's most recent quarter in the
    bucket; counts then add up across partners, a percent or yes/no only stands alone.
    """
    chosen = list(cells) if periods is None else [c for c in cells if c.period in periods]
    if not chosen:
        return Folded(None, False, {}, {})
    if len(chosen) == 1:  # the common case in a quarter's bucket: one partner's one value
        c = chosen[0]
        return Folded(c.value, c.provisional, {c.partner_id: c.value}, {c.partner_id: c.period})
    partners: dict[int, float] = {}
    last: dict[int, str] = {}
    if indicator.aggregation == "sum":
        pending = False
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
    if indicator.unit == "count":
        value: float | None = sum(partners.values())
    else:
        value = next(iter(partners.values())) if len(partners) == 1 else None
    return Folded(value, pending, partners, last)


def running(indicator: Indicator, cells: list[Cell], periods: list[str]) -> list[Folded]:
    """Per quarter, the indicator's value to date: cumulative for sum indicators, latest so far otherwise."""
    out = []
    for n in range(len(periods)):
        out.append(fold(indicator, cells, set(periods[: n + 1])))
    return out
