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
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, Combination, CombinationMember, Dimension, Indicator, Partnership, Result
from mel.reports.models import Measurement
from mel.results.base import Scope
from mel.results.series import TOTAL, fold, grouped, index

CHANGE_UNITS = {"count": "count", "percent": "percentage_points", "yes_no": "yes_no"}
TRENDS = ("improved", "worsened", "unchanged", "n/a")


def round1(number: float | None) -> float | None:
    """One decimal, half away from zero as people round by hand (not banker's rounding of a float)."""
    if number is None:
        return None
    return float(Decimal(repr(number)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def clean(number: float | None) -> float | None:
    """Drop float noise (59.4 - 38.5 = 20.899999999999995) without rounding away real decimals."""
    return None if number is None else round(number, 9) + 0.0


@dataclass(frozen=True)
class CategoryRef:
    dimension: str
    code: str
    label_en: str
    label_es: str

    def label(self, lang: str) -> str:
        return self.label_es if lang == "es" else self.label_en


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
    achievement_pct: float | None
    trend: str | None
    suppressed: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def change_unit(self) -> str:
        return CHANGE_UNITS[self.indicator.unit]

    @property
    def comparable(self) -> bool:
        """False when either end is a measurement marked not comparable."""
        return all(p.comparable for p in (self.baseline, self.endline) if p is not None)

    @property
    def categories(self) -> dict[str, str]:
        return {self.category.dimension: self.category.code} if self.category else {}


def trend_of(direction: str, change: float | None) -> str | None:
    """improved | worsened | unchanged by the indicator's direction; n/a when it has none."""
    if direction == "none":
        return "n/a"
    if change is None:
        return None
    if change == 0:
        return "unchanged"
    better = change > 0 if direction == "increase" else change < 0
    return "improved" if better else "worsened"


def figures(
    indicator: Indicator, baseline: float | None, endline: float | None, target: float | None
) -> tuple[float | None, float | None, float | None, str | None]:
    """(change, percent_change, achievement_pct, trend) by DESIGN.md's formulas."""
    change = clean(endline - baseline) if endline is not None and baseline is not None else None
    percent = None
    if indicator.unit == "count" and change is not None and baseline:
        percent = round1(change / baseline * 100)
    achievement = None
    start = baseline if baseline is not None else 0.0
    if endline is not None and target is not None and target != start:
        achievement = round1((endline - start) / (target - start) * 100)
    return change, percent, achievement, trend_of(indicator.direction, change)


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
        )
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .join(Combination, Combination.id == Measurement.combination_id)
        .outerjoin(CombinationMember, member_on)
        .where(Indicator.partnership_id == partnership_id, Measurement.round.in_(("baseline", "endline")), wanted)
    ).all()
    best: dict[tuple[int, int, str], _Measured] = {}
    for iid, cat, rnd, mid, batch, value, date, source, comparable, note, sheet, cell in rows:
        key = (iid, cat or TOTAL, rnd)
        current = best.get(key)
        if current is None or (date, mid) > (current.date, current.id):
            best[key] = _Measured(mid, batch, float(value), date, source, bool(comparable), note, sheet, cell)
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
                    _row(ind, result, categories.get(cat), measured, cells.get((ind.id, cat), []), partner_code, cat)
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
    if end_m is not None:
        endline = _measured_point(end_m)
    elif cells:
        folded = fold(ind, cells)
        if folded.partners:
            codes = tuple(sorted(partner_code.get(pid, str(pid)) for pid in folded.partners))
            endline = Point(
                value=folded.value,
                date=max(folded.periods.values()),
                source="partner reports: " + ", ".join(codes),
                origin="reported",
                partners=codes,
                provisional=folded.provisional,
            )
    target = ind.lop_target if total else None
    b = baseline.value if baseline else None
    e = endline.value if endline else None
    change, percent, achievement, trend = figures(ind, b, e, target)
    return ComparisonRow(ind, result, category, baseline, endline, target, change, percent, achievement, trend)


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
            "suppressed": end.suppressed if end else False,
        },
        "change": _number(row.change),
        "change_unit": row.change_unit,
        "percent_change": row.percent_change,
        "trend": row.trend,
        "target": _number(row.target),
        "achievement_pct": row.achievement_pct,
        "comparable": row.comparable,
        "suppressed": row.suppressed,
    }
