"""Indicator progress: actuals against targets, pro-rated for the time elapsed, per indicator.

Numbers follow DESIGN.md's rules. Over periods, ``sum`` indicators add up (life-of-partnership
actual) and ``latest`` indicators take each partner's most recent value. Across partners counts
add up; percents and yes/no values are never added: with several partners the combined actual is
left empty and the page shows each partner's value. Indicators no partner reports (institutional
statistics) take the evaluator's latest measurement of the total.

Status compares the actual with the target pro-rated for the time elapsed (see ``expected``):
at least 90 % of the expected progress is on track, at least 70 % behind, less is off track.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from mel.catalog.models import Combination, Dimension, Indicator, Partner, Partnership, Result
from mel.periods import fiscal, quarter_end, quarter_of, quarters
from mel.reports.models import Measurement, Submission, Value
from mel.results.base import TOTAL_KEY, Scope, submission_filter

ON_TRACK = 0.9
BEHIND = 0.7
STATUSES = ("on_track", "behind", "off_track", "no_target", "no_data", "not_applicable")
PILLAR_ORDER = ("prosecution", "protection", "prevention", None)
ROUND_ORDER = {"baseline": 0, "midline": 1, "endline": 2}


@dataclass
class PartnerValue:
    """One partner's contribution to a number: its value, the last quarter in it, provisional or not."""

    partner_id: int
    value: float | None
    period: str
    provisional: bool
    hidden: str | None = None  # set by the disclosure gate (the value is then None)


@dataclass
class Timeline:
    """The partnership's quarters and how many of them count as elapsed on ``today``."""

    periods: list[str]
    elapsed: int
    fy_start: int

    @property
    def share(self) -> float:
        return self.elapsed / len(self.periods) if self.periods else 0.0

    @property
    def as_of(self) -> str | None:
        return self.periods[self.elapsed - 1] if self.elapsed else None


@dataclass
class Progress:
    """One indicator's line on the dashboard."""

    indicator: Indicator
    baseline: float | None
    target: float | None
    actual: float | None
    actual_period: str | None
    source: str | None  # "reports" | "measurement" | None
    provisional: bool
    partners: list[PartnerValue]
    expected: float | None
    status: str
    bar: float | None  # share of the way from baseline to the life-of-partnership target, 0-100
    expected_bar: float | None
    measurement: tuple[str, str, str | None] | None = None  # round, date, source
    actual_hidden: str | None = None  # set by the disclosure gate (the actual and the bar are then None)
    baseline_hidden: str | None = None

    @property
    def code(self) -> str:
        return self.indicator.code


@dataclass
class ResultProgress:
    result: Result
    indicators: list[Progress]
    outputs: list[ResultProgress] = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst(p.status for p in self.indicators)


def worst(statuses: Iterable[str]) -> str:
    """The status of a group: its worst judged status, else no data."""
    found = set(statuses)
    for status in ("off_track", "behind", "on_track"):
        if status in found:
            return status
    return "no_data" if found else "no_indicator"


def timeline(partnership: Partnership, *, today: dt.date, due_days: int, last_reported: str | None = None) -> Timeline:
    """Elapsed quarters: those whose report is due by ``today`` (or already reported), within the partnership."""
    periods = list(quarters(quarter_of(partnership.starts_on), quarter_of(partnership.ends_on)))
    elapsed = sum(1 for p in periods if quarter_end(p) + dt.timedelta(days=due_days) <= today)
    if last_reported and last_reported in periods:
        elapsed = max(elapsed, periods.index(last_reported) + 1)
    return Timeline(periods=periods, elapsed=elapsed, fy_start=partnership.fiscal_year_start)


def fy_targets(indicator: Indicator) -> dict[int, float]:
    return {int(t.period[2:]): t.value for t in indicator.targets if t.period.startswith("FY")}


def expected(indicator: Indicator, baseline: float | None, time: Timeline, elapsed: int | None = None) -> float | None:
    """The value the indicator should have reached after ``elapsed`` quarters (default: the timeline's).

    Sum indicators: the life-of-partnership target times the share of quarters elapsed, or, when
    the catalog has fiscal-year targets, each fiscal year's target times the share of its quarters
    elapsed. Latest indicators: a straight path from the baseline (0 when unknown) to the target,
    or between consecutive fiscal-year targets.
    """
    n = time.elapsed if elapsed is None else elapsed
    target = indicator.lop_target
    by_fy = fy_targets(indicator)
    if target is None and not by_fy:
        return None
    periods = time.periods
    if indicator.aggregation == "sum":
        if not by_fy:
            return target * n / len(periods) if periods and target is not None else None
        total = 0.0
        for year, value in by_fy.items():
            in_year = [i for i, p in enumerate(periods) if fiscal(p, time.fy_start)[0] == year]
            if in_year:
                total += value * sum(1 for i in in_year if i < n) / len(in_year)
        return total
    start = baseline or 0.0
    if not by_fy:
        return start + (target - start) * n / len(periods) if periods and target is not None else None
    if n == 0:
        return start
    year = fiscal(periods[n - 1], time.fy_start)[0]
    previous = [v for y, v in sorted(by_fy.items()) if y < year]
    begin = previous[-1] if previous else start
    goal = by_fy.get(year, target if target is not None else begin)
    in_year = [i for i, p in enumerate(periods) if fiscal(p, time.fy_start)[0] == year]
    done = sum(1 for i in in_year if i < n)
    return begin + (goal - begin) * done / len(in_year)


def judge(indicator: Indicator, actual: float | None, start: float, goal: float | None) -> str:
    """on_track / behind / off_track: the share of the expected way from ``start`` to ``goal`` covered."""
    if indicator.direction == "none":
        return "not_applicable"
    if goal is None:
        return "no_target"
    if actual is None:
        return "no_data"
    sign = -1.0 if indicator.direction == "decrease" else 1.0
    way = sign * (goal - start)
    done = sign * (actual - start)
    if way <= 0:
        return "on_track" if done >= way else "off_track"
    ratio = done / way
    return "on_track" if ratio >= ON_TRACK else "behind" if ratio >= BEHIND else "off_track"


def bar(indicator: Indicator, value: float | None, baseline: float | None) -> float | None:
    """Where ``value`` stands between the baseline (0 %) and the life-of-partnership target (100 %)."""
    target = indicator.lop_target
    if value is None or target is None:
        return None
    start = 0.0 if indicator.aggregation == "sum" else baseline or 0.0
    if target == start:
        return 100.0 if value >= target else 0.0
    return max(0.0, min(100.0, (value - start) / (target - start) * 100))


def partner_actuals(session: Session, partnership_id: int, scope: Scope) -> dict[int, list[PartnerValue]]:
    """Per indicator, each partner's actual: the sum over quarters or the latest quarter's value.

    Two grouped queries over the counted totals, read from the covering index ``ix_value_progress``
    (the counted submissions are a small subquery, not a row-by-row join): a GROUP BY for sum
    indicators and a window (the latest quarter per indicator and partner) for latest indicators.
    """
    total_id = session.scalar(select(Combination.id).where(Combination.key == TOTAL_KEY))
    if total_id is None:
        return {}
    aggregation = {
        i: a
        for i, a in session.execute(
            select(Indicator.id, Indicator.aggregation).where(Indicator.partnership_id == partnership_id)
        )
    }
    counted = select(Submission.id).where(submission_filter(scope))
    pending = select(Submission.id).where(submission_filter(scope), Submission.status == "submitted")
    is_pending = case((Value.submission_id.in_(pending), 1), else_=0) if scope.include_provisional else literal(0)
    conn = session.connection()
    sum_ids = [i for i, a in aggregation.items() if a == "sum"]
    latest_ids = [i for i, a in aggregation.items() if a == "latest"]
    out: dict[int, list[PartnerValue]] = defaultdict(list)
    if sum_ids:
        summed = conn.execute(
            select(
                Value.indicator_id,
                Value.partner_id,
                func.sum(Value.value),
                func.max(Value.period),
                func.max(is_pending),
            )
            .where(Value.indicator_id.in_(sum_ids), Value.combination_id == total_id, Value.submission_id.in_(counted))
            .group_by(Value.indicator_id, Value.partner_id)
        )
        for iid, pid, total, period, flag in summed:
            out[iid].append(PartnerValue(pid, float(total), period, bool(flag)))
    if latest_ids:
        rank = (
            func.row_number()
            .over(partition_by=(Value.indicator_id, Value.partner_id), order_by=Value.period.desc())
            .label("rank")
        )
        ranked = (
            select(Value.indicator_id, Value.partner_id, Value.value, Value.period, is_pending.label("flag"), rank)
            .where(
                Value.indicator_id.in_(latest_ids), Value.combination_id == total_id, Value.submission_id.in_(counted)
            )
            .subquery()
        )
        latest = conn.execute(
            select(ranked.c.indicator_id, ranked.c.partner_id, ranked.c.value, ranked.c.period, ranked.c.flag).where(
                ranked.c.rank == 1
            )
        )
        for iid, pid, value, period, flag in latest:
            out[iid].append(PartnerValue(pid, float(value), period, bool(flag)))
    for values in out.values():
        values.sort(key=lambda v: v.partner_id)
    return out


def combine(indicator: Indicator, values: list[PartnerValue]) -> float | None:
    """The all-partner number: counts add up; a percent or yes/no only when one partner reports it."""
    if not values:
        return None
    if indicator.unit == "count":
        return sum(v.value or 0 for v in values)
    return values[0].value if len(values) == 1 else None


def latest_measurements(session: Session, partnership_id: int) -> dict[int, tuple[float, str, str, str | None]]:
    """Per indicator, the evaluator's most recent measurement of the total: value, round, date, source."""
    rows = session.execute(
        select(Measurement.indicator_id, Measurement.value, Measurement.round, Measurement.date, Measurement.source)
        .join(Combination, Combination.id == Measurement.combination_id)
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .where(Indicator.partnership_id == partnership_id, Combination.key == TOTAL_KEY)
    ).all()
    best: dict[int, tuple[float, str, str, str | None]] = {}
    for iid, value, rnd, date, source in rows:
        current = best.get(iid)
        if current is None or (date, ROUND_ORDER[rnd]) > (current[2], ROUND_ORDER[current[1]]):
            best[iid] = (float(value), rnd, date, source)
    return best


def baseline_measurements(session: Session, partnership_id: int) -> dict[int, float]:
    """Per indicator, the evaluator's baseline of the total, which overrides the catalog's.

    With several baseline measurements the latest dated one counts, as on the comparison page.
    """
    rows = session.execute(
        select(Measurement.indicator_id, Measurement.value, Measurement.date)
        .join(Combination, Combination.id == Measurement.combination_id)
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .where(
            Indicator.partnership_id == partnership_id,
            Combination.key == TOTAL_KEY,
            Measurement.round == "baseline",
        )
        .order_by(Measurement.date)
    ).all()
    return {iid: float(value) for iid, value, _date in rows}


def load_partnership(session: Session, code: str) -> Partnership | None:
    return session.scalars(
        select(Partnership)
        .where(Partnership.code == code)
        .options(
            selectinload(Partnership.partners),
            selectinload(Partnership.results).selectinload(Result.contributes_to),
            selectinload(Partnership.results).selectinload(Result.indicators).selectinload(Indicator.targets),
            selectinload(Partnership.results).selectinload(Result.indicators).selectinload(Indicator.partners),
            selectinload(Partnership.results)
            .selectinload(Result.indicators)
            .selectinload(Indicator.dimensions)
            .selectinload(Dimension.categories),
        )
    ).one_or_none()


def reported_by_partners(indicator: Indicator) -> bool:
    return bool(indicator.partners)


def indicator_progress(
    session: Session, partnership: Partnership, scope: Scope, *, today: dt.date, due_days: int
) -> dict[int, Progress]:
    """Every indicator's progress under ``scope``, keyed by indicator id."""
    actuals = partner_actuals(session, partnership.id, scope)
    measured = latest_measurements(session, partnership.id)
    baselines = baseline_measurements(session, partnership.id)
    last = max((v.period for vs in actuals.values() for v in vs), default=None)
    time = timeline(partnership, today=today, due_days=due_days, last_reported=last)
    out: dict[int, Progress] = {}
    for result in partnership.results:
        for ind in result.indicators:
            base = baselines.get(ind.id, ind.baseline_value)
            values = actuals.get(ind.id, [])
            actual = combine(ind, values)
            period = max((v.period for v in values), default=None)
            source = "reports" if values else None
            measurement = None
            if not reported_by_partners(ind) and ind.id in measured:
                actual, rnd, date, msource = measured[ind.id]
                source, period, measurement = "measurement", None, (rnd, date, msource)
            goal = expected(ind, base, time)
            start = 0.0 if ind.aggregation == "sum" else base or 0.0
            if actual is None and len(values) > 1:
                statuses = [judge(ind, v.value, start, goal) for v in values]
                status = worst(statuses)
            else:
                status = judge(ind, actual, start, goal)
            out[ind.id] = Progress(
                indicator=ind,
                baseline=base,
                target=ind.lop_target,
                actual=actual,
                actual_period=period,
                source=source,
                provisional=any(v.provisional for v in values),
                partners=values,
                expected=goal,
                status=status,
                bar=bar(ind, actual, base),
                expected_bar=bar(ind, goal, base),
                measurement=measurement,
            )
    return out


@dataclass
class PillarGroup:
    pillar: str | None
    outcomes: list[ResultProgress]
    loose_outputs: list[ResultProgress] = field(default_factory=list)


def dashboard(
    progress: dict[int, Progress], partnership: Partnership
) -> tuple[list[ResultProgress], list[PillarGroup]]:
    """(impact results, pillar groups of outcomes with their outputs) for the dashboard."""

    def node(result: Result) -> ResultProgress:
        return ResultProgress(result, [progress[i.id] for i in result.indicators if i.id in progress])

    results = list(partnership.results)
    impacts = [node(r) for r in results if r.level == "impact"]
    outcomes = {r.id: node(r) for r in results if r.level == "outcome"}
    placed: set[int] = set()
    for r in results:
        if r.level != "output":
            continue
        parent = next((t for t in r.contributes_to if t.id in outcomes), None)
        if parent is not None:
            outcomes[parent.id].outputs.append(node(r))
            placed.add(r.id)
    groups = []
    for pillar in PILLAR_ORDER:
        members = [o for o in outcomes.values() if o.result.pillar == pillar]
        loose = [node(r) for r in results if r.level == "output" and r.id not in placed and r.pillar == pillar]
        if members or loose:
            groups.append(PillarGroup(pillar, members, loose))
    return impacts, groups


def on_track_share(progress: dict[int, Progress]) -> tuple[int, int]:
    """(indicators on track, indicators with a judged status)."""
    judged = [p for p in progress.values() if p.status in ("on_track", "behind", "off_track")]
    return sum(1 for p in judged if p.status == "on_track"), len(judged)


def partner_codes(partnership: Partnership) -> dict[int, Partner]:
    return {p.id: p for p in partnership.partners}
