"""Baseline against endline: the evaluators' comparison, one row per indicator (and category).

DESIGN.md's rules: the baseline is the evaluator's baseline measurement (the latest if several),
else the catalog baseline; the endline is the endline measurement, else the actual computed from
reported results (``mel.results.series.fold``: counts add up across partners, percents and
yes/no never do). Percent units change in percentage points, never percent change. A measurement
marked not comparable carries its flag on the row. Small-cell suppression is the disclosure gate's
(``mel.results.disclosure.comparison``), never inside the numbers themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, Combination, CombinationMember, Dimension, Indicator, Partnership, Result
from mel.core.i18n import in_language
from mel.core.periods import parse_quarter
from mel.reports.models import Measurement
from mel.results.counting import Scope
from mel.results.figure_change import CHANGE_UNITS, change_of
from mel.results.figure_periods import baseline_span, latest_quarter, quarter_of_date, span_ending
from mel.results.figure_targets import target_for
from mel.results.figures import fold, measures, round1
from mel.results.series import TOTAL, grouped, index

TRENDS = ("improved", "worsened", "unchanged", "n/a")


@dataclass(frozen=True)
class CategoryRef:
    dimension: str
    code: str
    label_en: str
    label_es: str

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_en, self.label_es)


@dataclass(frozen=True)
class Point:
    """A baseline or endline value and where it came from.

    ``origin`` is measurement | catalog (baselines) | reported (endlines from partners' reports).
    Measurement points keep the row's id, batch, sheet and cell; reported points keep the partners
    and the last quarter in the number.
    """

    value: float | None
    date: str | None
    source: str | None
    origin: str
    comparable: bool = True
    note: str | None = None
    measurement_id: int | None = None
    batch_id: int | None = None
    sheet: str | None = None
    cell: str | None = None
    partners: tuple[str, ...] = ()
    provisional: bool = False
    suppressed: bool = False
    hidden: str | None = None  # small | secondary, set by the disclosure gate
    sample_size: int | None = None  # a survey measurement's
    margin_of_error: float | None = None  # percentage points at 95 %
    span: tuple[str, str] | None = None  # the quarters a flow's reported endline adds up


@dataclass(frozen=True)
class ComparisonRow:
    indicator: Indicator
    result: Result
    category: CategoryRef | None
    baseline: Point | None
    endline: Point | None
    target: float | None
    change: float | None
    percent_change: float | None
    progress_pct: float | None
    trend: str | None
    suppressed: bool = False
    notes: tuple[str, ...] = field(default=())
    pct_of_target: float | None = None
    achieved: bool | None = None  # yes/no indicators
    reported: float | None = None  # partners' reports beside an evaluator's endline: why the two differ
    reported_period: str | None = None

    @property
    def change_unit(self) -> str:
        return CHANGE_UNITS[self.indicator.unit]

    @property
    def achievement_pct(self) -> float | None:
        """The name ``progress_pct`` had before the figures engine (kept in exports as an alias)."""
        return self.progress_pct

    @property
    def comparable(self) -> bool:
        """False when either end is a measurement marked not comparable."""
        return all(p.comparable for p in (self.baseline, self.endline) if p is not None)

    @property
    def categories(self) -> dict[str, str]:
        return {self.category.dimension: self.category.code} if self.category else {}


@dataclass(frozen=True)
class _Measured:
    id: int
    batch_id: int
    value: float
    date: str
    source: str | None
    comparable: bool
    note: str | None
    sheet: str
    cell: str
    sample_size: int | None = None
    margin_of_error: float | None = None


def _measurements(
    session: Session, partnership_id: int, dimension_id: int | None
) -> dict[tuple[int, int, str], _Measured]:
    """Per (indicator, category or TOTAL, round), the latest baseline or endline measurement.

    Totals and, for ``dimension_id``, single-category combinations of that dimension.
    """
    member_on = CombinationMember.combination_id == Combination.id
    wanted = Combination.size == 0
    if dimension_id is not None:
        member_on = and_(member_on, CombinationMember.dimension_id == dimension_id)
        wanted = or_(wanted, and_(Combination.size == 1, CombinationMember.category_id.is_not(None)))
    rows = session.execute(
        select(
            Measurement.indicator_id,
            CombinationMember.category_id,
            Measurement.round,
            Measurement.id,
            Measurement.batch_id,
            Measurement.value,
            Measurement.date,
            Measurement.source,
            Measurement.comparable,
            Measurement.note,
            Measurement.sheet,
            Measurement.cell,
            Measurement.sample_size,
            Measurement.margin_of_error,
        )
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .join(Combination, Combination.id == Measurement.combination_id)
        .outerjoin(CombinationMember, member_on)
        .where(Indicator.partnership_id == partnership_id, Measurement.round.in_(("baseline", "endline")), wanted)
    ).all()
    best: dict[tuple[int, int, str], _Measured] = {}
    for iid, cat, rnd, mid, batch, value, date, source, comparable, note, sheet, cell, n, moe in rows:
        key = (iid, cat or TOTAL, rnd)
        current = best.get(key)
        if current is None or (date, mid) > (current.date, current.id):
            best[key] = _Measured(mid, batch, float(value), date, source, bool(comparable), note, sheet, cell, n, moe)
    return best


def _measured_point(m: _Measured) -> Point:
    return Point(
        value=m.value,
        date=m.date,
        source=m.source,
        origin="measurement",
        comparable=m.comparable,
        note=m.note,
        measurement_id=m.id,
        batch_id=m.batch_id,
        sheet=m.sheet,
        cell=m.cell,
        sample_size=m.sample_size,
        margin_of_error=m.margin_of_error,
    )


def dimension_of(session: Session, partnership_id: int, code: str | None) -> Dimension | None:
    if not code:
        return None
    return session.scalars(
        select(Dimension).where(Dimension.partnership_id == partnership_id, Dimension.code == code)
    ).one_or_none()


def comparison(
    session: Session,
    partnership: Partnership,
    *,
    scope: Scope | None = None,
    dimension: str | None = None,
    pillar: str | None = None,
    level: str | None = None,
) -> list[ComparisonRow]:
    """The comparison rows of ``partnership``, framework order; with ``dimension``, its categories too.

    ``partnership`` should come from ``mel.results.progress.load_partnership`` (results, indicators
    and targets loaded). ``scope`` governs the reported values only (approved unless provisional);
    measurements always count. ``pillar`` '-' selects cross-cutting results (no pillar).
    """
    scope = scope or Scope()
    dim = dimension_of(session, partnership.id, dimension)
    categories: dict[int, CategoryRef] = {}
    if dim is not None:
        for found in session.scalars(select(Category).where(Category.dimension_id == dim.id)):
            categories[found.id] = CategoryRef(dim.code, found.code, found.label_en, found.label_es)
    measured = _measurements(session, partnership.id, dim.id if dim else None)
    cells = index(
        grouped(session, scope, partnership_id=partnership.id, dimension_ids=[dim.id] if dim is not None else [])
    )
    partner_code = {p.id: p.code for p in partnership.partners}
    order = {cid: n for n, cid in enumerate(categories)}
    rows: list[ComparisonRow] = []
    for result in partnership.results:
        if level and result.level != level:
            continue
        if pillar and (result.pillar or "-") != pillar:
            continue
        for ind in result.indicators:
            keys = {TOTAL} | {k[1] for k in measured if k[0] == ind.id} | {k[1] for k in cells if k[0] == ind.id}
            for cat in sorted(keys, key=lambda c: -1 if c == TOTAL else order.get(c, 10**9)):
                if cat != TOTAL and cat not in categories:
                    continue
                rows.append(
                    _row(
                        ind,
                        result,
                        categories.get(cat),
                        measured,
                        cells.get((ind.id, cat), []),
                        partner_code,
                        cat,
                    )
                )
    return rows


def _row(
    ind: Indicator,
    result: Result,
    category: CategoryRef | None,
    measured: dict[tuple[int, int, str], _Measured],
    cells: list[Any],
    partner_code: dict[int, str],
    cat: int,
) -> ComparisonRow:
    total = cat == TOTAL
    base_m = measured.get((ind.id, cat, "baseline"))
    baseline: Point | None = None
    if base_m is not None:
        baseline = _measured_point(base_m)
    elif total and ind.baseline_value is not None:
        year = str(ind.baseline_year) if ind.baseline_year is not None else None
        baseline = Point(ind.baseline_value, year, ind.baseline_source, "catalog")
    end_m = measured.get((ind.id, cat, "endline"))
    endline: Point | None = None
    reported = fold(ind, cells, end=latest_quarter(cells)) if cells else None
    if end_m is not None:
        endline = _measured_point(end_m)
    elif cells:
        endline = _reported_endline(ind, cells, partner_code, baseline)
        reported = None
    # a flow's endline over a span (a year against a yearly baseline) has no life-of-partnership target
    stamp = str(endline.date) if endline and endline.date else None
    when = (parse_quarter(stamp) or quarter_of_date(stamp)) if stamp else None  # the target then in force
    scope = None if total else cat
    target = None if endline and endline.span else target_for(ind, "", at=when, category_id=scope)
    b = baseline.value if baseline else None
    e = endline.value if endline else None
    comparable = all(p.comparable for p in (baseline, endline) if p is not None)
    margins = [p.margin_of_error for p in (baseline, endline) if p is not None]
    moved = change_of(ind, b, e, comparable=comparable, margins=margins)
    m = measures(ind, e, baseline=b, target=target)
    return ComparisonRow(
        ind,
        result,
        category,
        baseline,
        endline,
        target,
        moved.change,
        moved.percent_change,
        round1(m.progress_pct),
        moved.trend,
        pct_of_target=round1(m.pct_of_target),
        achieved=moved.achieved,
        reported=reported.value if reported else None,
        reported_period=max(reported.periods.values(), default=None) if reported else None,
    )


def _reported_endline(
    ind: Indicator, cells: list[Any], partner_code: dict[int, str], baseline: Point | None
) -> Point | None:
    """The endline from partners' reports: a stock's latest value, or a flow over the same span as
    its baseline ending at the last reported quarter (like for like: a year against a year)."""
    span = baseline_span(ind, baseline.date if baseline else None)
    last = max((c.period for c in cells), default=None)
    if last is None:
        return None
    periods = set(span_ending(last, span)) if span else None
    folded = fold(ind, cells, periods, end=last)  # the endline is dated by its last report
    if not folded.partners:
        return None
    codes = tuple(sorted(partner_code.get(pid, str(pid)) for pid in folded.partners))
    chosen = sorted(periods) if periods else None
    return Point(
        value=folded.value,
        date=max(folded.periods.values()),
        source="partner reports: " + ", ".join(codes),
        origin="reported",
        partners=codes,
        provisional=folded.provisional,
        span=(chosen[0], chosen[-1]) if chosen else None,
    )


def _number(value: float | None) -> float | int | None:
    """Plain JSON numbers: whole values as integers."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def as_json(row: ComparisonRow) -> dict[str, Any]:
    """The ``mel export comparison --format json`` object of one row (pass it through the disclosure gate first)."""
    ind = row.indicator
    base = row.baseline
    end = row.endline
    return {
        "indicator": ind.code,
        "name": ind.name,
        "level": row.result.level,
        "pillar": row.result.pillar,
        "unit": ind.unit,
        "direction": ind.direction,
        "categories": row.categories,
        "baseline": {
            "value": _number(base.value) if base else None,
            "date": base.date if base else None,
            "source": base.source if base else None,
            "from": base.origin if base else None,
            "comparable": base.comparable if base else None,
            "sample_size": base.sample_size if base else None,
            "margin_of_error": base.margin_of_error if base else None,
            "suppressed": base.suppressed if base else False,
        },
        "endline": {
            "value": _number(end.value) if end else None,
            "date": end.date if end else None,
            "source": end.source if end else None,
            "comparable": end.comparable if end else None,
            "from": end.origin if end else None,
            "partners": list(end.partners) if end else [],
            "provisional": end.provisional if end else False,
            "note": end.note if end else None,
            "sample_size": end.sample_size if end else None,
            "margin_of_error": end.margin_of_error if end else None,
            "span": list(end.span) if end and end.span else None,
            "suppressed": end.suppressed if end else False,
        },
        "change": _number(row.change),
        "change_unit": row.change_unit,
        "percent_change": row.percent_change,
        "trend": row.trend,
        "target": _number(row.target),
        "progress_pct": row.progress_pct,
        "achievement_pct": row.progress_pct,
        "pct_of_target": row.pct_of_target,
        "achieved": row.achieved,
        "reported_actual": _number(row.reported),
        "reported_period": row.reported_period,
        "comparable": row.comparable,
        "suppressed": row.suppressed,
    }
