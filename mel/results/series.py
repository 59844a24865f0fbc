"""Values per partner, quarter and category in one grouped query, folded into any period bucket.

The IPTT, the indicator chart and the disaggregation explorer all need the same numbers at
different granularities (a quarter, a fiscal year, the life of the partnership), so SQL groups the
counted values once by indicator, partner, quarter and category, and ``fold`` applies DESIGN.md's
aggregation rules to whichever quarters a bucket holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, CombinationMember, Dimension, Indicator, pooled_rate
from mel.reports.models import Submission, Value
from mel.results.counting import Scope, submission_filter

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
    numerator: float | None = None  # pooled rates (``Indicator.pooled``)
    denominator: float | None = None


def _counted(
    session: Session,
    scope: Scope,
    partnership_id: int,
    indicator_ids: Collection[int] | None,
    dimension_ids: Collection[int] | None,
    combine_partners: bool,
    breakdown_ids: Collection[int] | None,
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


def _attach_counts(session: Session, scope: Scope, indicator_ids: list[int], cells: list[Cell]) -> None:
    """Numerators and denominators of pooled rates: few rows, read beside the covering index."""
    counted = select(Submission.id).where(submission_filter(scope))
    members = dict(
        session.execute(
            select(CombinationMember.combination_id, CombinationMember.category_id)
            .join(Combination, Combination.id == CombinationMember.combination_id)
            .where(Combination.size == 1)
        ).all()
    )
    total_id = session.scalar(select(Combination.id).where(Combination.key == TOTAL_KEY))
    query = (
        select(
            Value.indicator_id,
            Value.partner_id,
            Value.period,
            Value.combination_id,
            func.sum(Value.numerator),
            func.sum(Value.denominator),
            func.count(Value.numerator),
            func.count(),
        )
        .where(Value.indicator_id.in_(indicator_ids), Value.submission_id.in_(counted))
        .group_by(Value.indicator_id, Value.partner_id, Value.period, Value.combination_id)
    )
    counts: dict[tuple[int, int, str, int], tuple[float, float]] = {}
    for iid, pid, period, combo, num, den, with_counts, rows in session.connection().execute(query):
        category = TOTAL if combo == total_id else members.get(combo)
        if category is not None and with_counts == rows and num is not None and den:
            counts[(iid, pid, period, category)] = (float(num), float(den))
    for cell in cells:
        found = counts.get((cell.indicator_id, cell.partner_id, cell.period, cell.category_id))
        if found is not None:
            cell.numerator, cell.denominator = found


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
    """Counted totals and one-dimension breakdowns, grouped in SQL (``_counted``), with the
    numerators and denominators of pooled rates attached to their cells."""
    cells = _counted(session, scope, partnership_id, indicator_ids, dimension_ids, combine_partners, breakdown_ids)
    wanted = None if indicator_ids is None else set(indicator_ids)
    pooled = [
        i
        for i, unit, num, den in session.execute(
            select(Indicator.id, Indicator.unit, Indicator.numerator_label, Indicator.denominator_label).where(
                Indicator.partnership_id == partnership_id
            )
        )
        if pooled_rate(unit, num, den) and (wanted is None or i in wanted)
    ]
    if pooled:
        _attach_counts(session, scope, pooled, [c for c in cells if c.indicator_id in set(pooled)])
    return cells


def partner_cells(session: Session, scope: Scope, *, partnership_id: int) -> list[Cell]:
    """Each partner's totals already reduced in SQL, for whole-range figures (the dashboard).

    ``fold`` gives the same actual from these as from every quarter's cells: a ``sum`` indicator's
    cell is the partner's sum (dated by its latest quarter), a ``latest`` indicator's is the
    partner's latest quarter. Two grouped queries over the covering index ``ix_value_progress``
    instead of one row per quarter; pooled rates, which need every quarter's counts, come by quarter.
    """
    total_id = session.scalar(select(Combination.id).where(Combination.key == TOTAL_KEY))
    if total_id is None:
        return []
    kinds = {
        i: (aggregation, pooled_rate(unit, num, den))
        for i, aggregation, unit, num, den in session.execute(
            select(
                Indicator.id,
                Indicator.aggregation,
                Indicator.unit,
                Indicator.numerator_label,
                Indicator.denominator_label,
            ).where(Indicator.partnership_id == partnership_id)
        )
    }
    pooled = [i for i, (_a, rate) in kinds.items() if rate]
    sums = [i for i, (a, rate) in kinds.items() if a == "sum" and not rate]
    latest = [i for i, (a, rate) in kinds.items() if a == "latest" and not rate]
    counted = select(Submission.id).where(submission_filter(scope))
    pending = select(Submission.id).where(submission_filter(scope), Submission.status == "submitted")
    flag = case((Value.submission_id.in_(pending), 1), else_=0) if scope.include_provisional else literal(0)
    conn = session.connection()
    out: list[Cell] = []
    if sums:
        summed = (
            select(Value.indicator_id, Value.partner_id, func.max(Value.period), func.sum(Value.value), func.max(flag))
            .where(Value.indicator_id.in_(sums), Value.combination_id == total_id, Value.submission_id.in_(counted))
            .group_by(Value.indicator_id, Value.partner_id)
        )
        out += [Cell(i, p, q, TOTAL, float(v), bool(f)) for i, p, q, v, f in conn.execute(summed)]
    if latest:
        rank = (
            func.row_number()
            .over(partition_by=(Value.indicator_id, Value.partner_id), order_by=Value.period.desc())
            .label("rank")
        )
        ranked = (
            select(Value.indicator_id, Value.partner_id, Value.period, Value.value, flag.label("flag"), rank)
            .where(Value.indicator_id.in_(latest), Value.combination_id == total_id, Value.submission_id.in_(counted))
            .subquery()
        )
        rows = conn.execute(
            select(ranked.c.indicator_id, ranked.c.partner_id, ranked.c.period, ranked.c.value, ranked.c.flag).where(
                ranked.c.rank == 1
            )
        )
        out += [Cell(i, p, q, TOTAL, float(v), bool(f)) for i, p, q, v, f in rows]
    if pooled:
        out += grouped(session, scope, partnership_id=partnership_id, indicator_ids=pooled, dimension_ids=[])
    return out
