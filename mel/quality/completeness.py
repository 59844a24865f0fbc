"""Reporting completeness and timeliness: which reports were expected, received, on time, complete.

The reporting calendar (``mel.catalog.calendar``, ``mel.reports.calendar``) says which reports are
owed: a partner's quarters within its agreement in which one of its indicators is due (an annual
indicator once a year). A report is due ``report_due_days`` after the quarter ends; it is on time
when its first version arrived (``received_on``, else the upload date) by then, late otherwise or
when it has not arrived by then. Completeness is the share of the indicators due that quarter
reported; disaggregation completeness the share of (indicator, required dimension) pairs for which
some value breaks the indicator down by that dimension.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from mel.catalog.calendar import LATE_STATES, due_date
from mel.catalog.models import CombinationMember, Partner, Partnership, indicator_dimension, indicator_partner
from mel.reports.calendar import owed_reports
from mel.reports.models import Submission, Value

CELL_STATES = ("on_time", "late", "missing", "returned", "pending", "not_due")


@dataclass
class ReportCell:
    """One partner × quarter of the grid."""

    partner_id: int
    period: str
    due: dt.date
    state: str
    received_on: dt.date | None = None  # the first version's arrival (``mel.reports.calendar``)
    timeliness: str | None = None  # on_time | late | missing | pending, whatever the review said since
    submission_id: int | None = None
    status: str | None = None
    version: int | None = None
    indicator_share: float | None = None
    disaggregation_share: float | None = None


@dataclass
class Grid:
    partnership: Partnership
    partners: list[Partner]
    periods: list[str]
    cells: dict[tuple[int, str], ReportCell] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return sum(1 for c in self.cells.values() if c.state == state)

    @property
    def expected(self) -> int:
        """Reports whose due date has passed."""
        return sum(1 for c in self.cells.values() if c.timeliness in ("on_time", "late", "missing"))

    @property
    def received(self) -> int:
        """Reports that arrived (on time, late or since returned)."""
        return sum(1 for c in self.cells.values() if c.received_on is not None)

    def timely(self, state: str) -> int:
        """Reports by arrival (on_time, late, missing), whatever their review said since."""
        return sum(1 for c in self.cells.values() if c.timeliness == state)

    @property
    def late(self) -> int:
        """Late, as everywhere (``mel.catalog.calendar``): received after the due date or not received by it."""
        return sum(1 for c in self.cells.values() if c.timeliness in LATE_STATES)

    def share(self, state: str) -> float | None:
        """The percentage of expected reports that arrived ``state`` (None when none is expected yet)."""
        return 100.0 * self.timely(state) / self.expected if self.expected else None

    def partner_cells(self, partner_id: int) -> list[ReportCell]:
        return [self.cells[(partner_id, period)] for period in self.periods]


def expected_reporters(session: Session, partnership_id: int) -> list[Partner]:
    """Partners that have at least one assigned indicator: they owe reports (``mel.catalog.calendar``)."""
    assigned = select(indicator_partner.c.partner_id).distinct()
    return list(
        session.scalars(
            select(Partner)
            .where(Partner.partnership_id == partnership_id, Partner.id.in_(assigned))
            .order_by(Partner.id)
        )
    )


def reporting_grid(
    session: Session,
    partnership: Partnership,
    *,
    today: dt.date,
    due_days: int,
    partner_ids: list[int] | None = None,
) -> Grid:
    """Every reporting partner × every quarter some partner owes a report for, with its state and
    completeness scores; a quarter outside the partner's calendar reads ``not_due``.

    Grouped queries (arrivals, current version, reported indicators and breakdowns) whatever the
    history's length.
    """
    partners = expected_reporters(session, partnership.id)
    if partner_ids is not None:
        partners = [p for p in partners if p.id in partner_ids]
    owed = owed_reports(session, partnership, partners, today=today, due_days=due_days)
    periods = sorted({period for _pid, period in owed})
    grid = Grid(partnership=partnership, partners=partners, periods=periods)
    ids = [p.id for p in partners]
    if not ids:
        return grid

    # judged as of ``today``: versions uploaded later did not exist yet (``mel report due --as-of``)
    known = and_(Submission.partner_id.in_(ids), Submission.uploaded_at <= dt.datetime.combine(today, dt.time.max))
    current: dict[tuple[int, str], Any] = {}
    for version in session.execute(
        select(Submission.id, Submission.partner_id, Submission.period, Submission.status, Submission.version)
        .where(known)
        .order_by(Submission.version)
    ):
        current[(version.partner_id, version.period)] = version  # the highest version known by then
    due_sets = {cur.id: owed[key].indicators for key, cur in current.items() if key in owed}
    shares = _completeness(session, due_sets)

    for partner in partners:
        for period in periods:
            key = (partner.id, period)
            report = owed.get(key)
            if report is None:
                grid.cells[key] = ReportCell(partner.id, period, due_date(period, due_days), "not_due")
                continue
            row: Any = current.get(key)
            state = "returned" if row is not None and row.status == "returned" else report.state
            cell = ReportCell(
                partner_id=partner.id,
                period=period,
                due=report.due,
                state=state,
                received_on=report.received,
                timeliness=report.state,
            )
            if row is not None:
                cell.submission_id, cell.status, cell.version = row.id, row.status, row.version
                cell.indicator_share, cell.disaggregation_share = shares.get(row.id, (None, None))
            grid.cells[key] = cell
    return grid


def _completeness(session: Session, due: dict[int, frozenset[int]]) -> dict[int, tuple[float | None, float | None]]:
    """(share of the indicators due reported, share of their required breakdowns reported) per
    submission id; ``due`` maps a submission to the partner's indicators due that quarter."""
    if not due:
        return {}
    submission_ids = sorted(due)
    all_indicators = {i for s in due.values() for i in s}
    required: dict[int, set[int]] = defaultdict(set)
    for iid, did in session.execute(
        select(indicator_dimension.c.indicator_id, indicator_dimension.c.dimension_id).where(
            indicator_dimension.c.indicator_id.in_(all_indicators or {-1})
        )
    ):
        required[iid].add(did)

    reported: dict[int, set[int]] = defaultdict(set)
    broken_down: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start : start + 500]
        rows = session.execute(
            select(Value.submission_id, Value.indicator_id, CombinationMember.dimension_id)
            .outerjoin(CombinationMember, CombinationMember.combination_id == Value.combination_id)
            .where(Value.submission_id.in_(chunk))
            .group_by(Value.submission_id, Value.indicator_id, CombinationMember.dimension_id)
        )
        for sid, iid, did in rows:
            reported[sid].add(iid)
            if did is not None:
                broken_down[sid].add((iid, did))

    result: dict[int, tuple[float | None, float | None]] = {}
    for sid in submission_ids:
        mine = due[sid]
        ind_share = len(reported[sid] & mine) / len(mine) if mine else None
        pairs = {(i, d) for i in mine for d in required.get(i, set())}
        dis_share = len(broken_down[sid] & pairs) / len(pairs) if pairs else None
        result[sid] = (ind_share, dis_share)
    return result
