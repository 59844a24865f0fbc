"""Indicator progress: the dashboard's line per indicator, from the figures engine.

The actual and every measure come from ``mel.results.figures`` (one grouped query per partnership,
folded by the engine), so the dashboard says what the IPTT, the indicator page and the exports
say. Indicators no partner reports (institutional statistics) take the evaluator's latest
measurement of the total.

Status compares the actual with the target pro-rated for the time elapsed (see ``expected``):
at least 90 % of the expected progress is on track, at least 70 % behind, less is off track.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, Dimension, Indicator, Partner, Partnership, Result
from mel.catalog.targets import targets_at
from mel.core.periods import fiscal, quarter_end, quarter_of, quarters
from mel.reports.models import Measurement
from mel.results.counting import Scope
from mel.results.figure_periods import latest_quarter
from mel.results.figure_targets import target_for
from mel.results.figures import BEHIND, ON_TRACK, fold, measures, whole
from mel.results.series import Cell, partner_cells

__all__ = ["BEHIND", "ON_TRACK"]

STATUSES = ("on_track", "behind", "off_track", "no_target", "no_data", "not_applicable", "reached", "not_reached")
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
    bar: float | None  # progress_pct shown as a bar: 0-100
    expected_bar: float | None
    measurement: tuple[str, str, str | None] | None = None  # round, date, source
    actual_hidden: str | None = None  # set by the disclosure gate (the actual and the bar are then None)
    baseline_hidden: str | None = None
    pct_of_target: float | None = None
    progress_pct: float | None = None  # from the baseline (a flow: from zero) to the target
    expected_pct: float | None = None  # the progress the target's path asks for by now
    as_of: str | None = None  # a latest value carried from an earlier quarter
    numerator: float | None = None  # a pooled rate's counts
    denominator: float | None = None

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
    """The status of a group: its worst judged status; else "no data" when an indicator lacks data,
    else what its indicators share (no target: an impact measured by the evaluators, say)."""
    stages = {"reached": "on_track", "not_reached": "off_track"}  # a stage indicator counts as reached or not
    found = {stages.get(s, s) for s in statuses}
    for status in ("off_track", "behind", "on_track", "no_data"):
        if status in found:
            return status
    for status in ("no_target", "not_applicable"):
        if status in found:
            return status
    return "no_indicator"


def timeline(partnership: Partnership, *, today: dt.date, due_days: int, last_reported: str | None = None) -> Timeline:
    """Elapsed quarters: those whose report is due by ``today`` (or already reported), within the partnership."""
    periods = list(quarters(quarter_of(partnership.starts_on), quarter_of(partnership.ends_on)))
    elapsed = sum(1 for p in periods if quarter_end(p) + dt.timedelta(days=due_days) <= today)
    if last_reported and last_reported in periods:
        elapsed = max(elapsed, periods.index(last_reported) + 1)
    return Timeline(periods=periods, elapsed=elapsed, fy_start=partnership.fiscal_year_start)


def fy_targets(indicator: Indicator, at: str | None = None) -> dict[int, float]:
    """Fiscal year -> the indicator's target for it, as in force in quarter ``at`` (None: the latest)."""
    return {int(k[2:]): v for k, v in targets_at(indicator, at).items() if k.startswith("FY")}


def expected(indicator: Indicator, baseline: float | None, time: Timeline, elapsed: int | None = None) -> float | None:
    """The value the target's path asks for after ``elapsed`` quarters; whole people or cases for counts.
    A stage has no path between ranks: the stage to reach is its target itself."""
    if indicator.unit == "stage":
        return _stage_target(indicator, time, elapsed)
    value = _expected(indicator, baseline, time, elapsed)
    return whole(value) if indicator.unit == "count" else value


def _stage_target(indicator: Indicator, time: Timeline, elapsed: int | None) -> float | None:
    """The fiscal year's target stage when the catalog gives one, else the life-of-partnership one."""
    n = time.elapsed if elapsed is None else elapsed
    if not time.periods:
        return target_for(indicator, "")
    at = time.periods[max(n, 1) - 1]
    by_fy = fy_targets(indicator, at)
    return by_fy.get(fiscal(at, time.fy_start)[0], target_for(indicator, "", at=at))


def _expected(indicator: Indicator, baseline: float | None, time: Timeline, elapsed: int | None = None) -> float | None:
    """The value the indicator should have reached after ``elapsed`` quarters (default: the timeline's).

    Sum indicators: the life-of-partnership target times the share of quarters elapsed, or, when
    the catalog has fiscal-year targets, each fiscal year's target times the share of its quarters
    elapsed. Latest indicators: a straight path from the baseline (0 when unknown) to the target,
    or between consecutive fiscal-year targets.
    """
    n = time.elapsed if elapsed is None else elapsed
    periods = time.periods
    at = periods[max(n, 1) - 1] if periods else None  # the targets in force at that quarter
    target = target_for(indicator, "", at=at)
    by_fy = fy_targets(indicator, at)
    if target is None and not by_fy:
        return None
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


def partner_values(indicator: Indicator, cells: list[Cell], *, end: str) -> list[PartnerValue]:
    """Each partner's own actual, by the same fold as the all-partner one."""
    by_partner: dict[int, list[Cell]] = defaultdict(list)
    for c in cells:
        by_partner[c.partner_id].append(c)
    out = []
    for pid in sorted(by_partner):
        f = fold(indicator, by_partner[pid], end=end)
        if f.partners:
            out.append(PartnerValue(pid, f.partners[pid], f.periods[pid], f.provisional))
    return out


def indicator_progress(
    session: Session, partnership: Partnership, scope: Scope, *, today: dt.date, due_days: int
) -> dict[int, Progress]:
    """Every indicator's dashboard line under ``scope``, keyed by indicator id, from the figures engine."""
    cells: dict[int, list[Cell]] = defaultdict(list)
    for c in partner_cells(session, scope, partnership_id=partnership.id):
        cells[c.indicator_id].append(c)
    measured = latest_measurements(session, partnership.id)
    baselines = baseline_measurements(session, partnership.id)
    last = max((c.period for cs in cells.values() for c in cs), default=None)
    time = timeline(partnership, today=today, due_days=due_days, last_reported=last)
    out: dict[int, Progress] = {}
    for result in partnership.results:
        for ind in result.indicators:
            base = baselines.get(ind.id, ind.baseline_value)
            mine = cells.get(ind.id, [])
            end = latest_quarter(mine)
            folded = fold(ind, mine, end=end)
            values = partner_values(ind, mine, end=end) if folded.partners and end else []
            actual, period = folded.value, max(folded.periods.values(), default=None)
            source = "reports" if values else None
            measurement = None
            if not reported_by_partners(ind) and ind.id in measured:
                actual, rnd, date, msource = measured[ind.id]
                source, period, measurement = "measurement", None, (rnd, date, msource)
            goal = expected(ind, base, time)
            lop = target_for(ind, "", at=time.as_of)  # as revised by the latest elapsed quarter
            m = measures(ind, actual, baseline=base, target=lop, expected=goal)
            status = m.status
            if actual is None and len(values) > 1:  # rates without counts: judged partner by partner
                status = worst(measures(ind, v.value, baseline=base, target=lop, expected=goal).status for v in values)
            out[ind.id] = Progress(
                indicator=ind,
                baseline=base,
                target=lop,
                actual=actual,
                actual_period=period,
                source=source,
                provisional=folded.provisional,
                partners=values,
                expected=goal,
                status=status,
                bar=_clamp(m.progress_pct),
                expected_bar=_clamp(m.expected_pct),
                measurement=measurement,
                pct_of_target=m.pct_of_target,
                progress_pct=m.progress_pct,
                expected_pct=m.expected_pct,
                as_of=folded.as_of,
                numerator=folded.numerator,
                denominator=folded.denominator,
            )
    return out


def _clamp(pct: float | None) -> float | None:
    """A progress bar shows 0 to 100 %; the measure itself is not clamped."""
    return None if pct is None else max(0.0, min(100.0, pct))


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
