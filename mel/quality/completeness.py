"""Reporting completeness and timeliness: which reports were expected, received, on time, complete.

A report is expected from every partner with assigned indicators for every quarter of the
partnership up to now. It is due ``report_due_days`` after the quarter ends; it is on time when its
first version arrived by then. Completeness is the share of the partner's assigned indicators
reported; disaggregation completeness the share of (indicator, required dimension) pairs for
which some value breaks the indicator down by that dimension.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from mel.catalog.models import CombinationMember, Partner, Partnership, indicator_dimension, indicator_partner
from mel.periods import quarter_end, quarter_of, quarters
from mel.reports.models import Submission, Value

CELL_STATES = ("on_time", "late", "missing", "returned", "pending")


@dataclass
class ReportCell:
    """One partner × quarter of the grid."""

    partner_id: int
    period: str
    due: dt.date
    state: str
    received_at: dt.datetime | None = None
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
        return sum(1 for c in self.cells.values() if c.state != "pending")

    @property
    def received(self) -> int:
        """Reports that arrived (on time, late or since returned)."""
        return sum(1 for c in self.cells.values() if c.received_at is not None)

    def share(self, state: str) -> float | None:
        """The percentage of expected reports in ``state`` (None when none is expected yet)."""
        return 100.0 * self.count(state) / self.expected if self.expected else None

    def partner_cells(self, partner_id: int) -> list[ReportCell]:
        return [self.cells[(partner_id, period)] for period in self.periods]


def reporting_partners(session: Session, partnership_id: int) -> list[Partner]:
    """Partners that have at least one assigned indicator: they owe a report every quarter."""
    assigned = select(indicator_partner.c.partner_id).distinct()
    return list(
        session.scalars(
            select(Partner)
            .where(Partner.partnership_id == partnership_id, Partner.id.in_(assigned))
            .order_by(Partner.id)
        )
    )


def expected_periods(partnership: Partnership, today: dt.date) -> list[str]:
    """The partnership's quarters that have ended by ``today``: a quarter under way owes no report yet."""
    every = quarters(quarter_of(partnership.starts_on), quarter_of(partnership.ends_on))
    return [q for q in every if quarter_end(q) < today]


def reporting_grid(
    session: Session,
    partnership: Partnership,
    *,
    today: dt.date,
    due_days: int,
    partner_ids: list[int] | None = None,
) -> Grid:
    """Every reporting partner × every ended quarter, with its state and completeness scores.

    Three grouped queries (first upload, current version, reported indicators and breakdowns)
    whatever the history's length.
    """
    partners = reporting_partners(session, partnership.id)
    if partner_ids is not None:
        partners = [p for p in partners if p.id in partner_ids]
    periods = expected_periods(partnership, today)
    grid = Grid(partnership=partnership, partners=partners, periods=periods)
    ids = [p.id for p in partners]
    if not ids:
        return grid

    # judged as of ``today``: versions uploaded later did not exist yet (``mel report due --as-of``)
    known = and_(Submission.partner_id.in_(ids), Submission.uploaded_at <= dt.datetime.combine(today, dt.time.max))
    first_upload = dict(
        ((pid, period), at)
        for pid, period, at in session.execute(
            select(Submission.partner_id, Submission.period, func.min(Submission.uploaded_at))
            .where(known)
            .group_by(Submission.partner_id, Submission.period)
        )
    )
    current: dict[tuple[int, str], Any] = {}
    for version in session.execute(
        select(Submission.id, Submission.partner_id, Submission.period, Submission.status, Submission.version)
        .where(known)
        .order_by(Submission.version)
    ):
        current[(version.partner_id, version.period)] = version  # the highest version known by then
    shares = _completeness(session, {cur.id: cur.partner_id for cur in current.values()})

    for partner in partners:
        for period in periods:
            due = quarter_end(period) + dt.timedelta(days=due_days)
            key = (partner.id, period)
            received = first_upload.get(key)
            row: Any = current.get(key)
            if row is not None and row.status == "returned":
                state = "returned"
            elif received is not None:
                state = "on_time" if received.date() <= due else "late"
            else:
                state = "missing" if today > due else "pending"
            cell = ReportCell(partner_id=partner.id, period=period, due=due, state=state, received_at=received)
            if row is not None:
                cell.submission_id, cell.status, cell.version = row.id, row.status, row.version
                cell.indicator_share, cell.disaggregation_share = shares.get(row.id, (None, None))
            grid.cells[key] = cell
    return grid


def _completeness(session: Session, partner_of: dict[int, int]) -> dict[int, tuple[float | None, float | None]]:
    """(share of assigned indicators reported, share of required breakdowns reported) per submission id."""
    if not partner_of:
        return {}
    partner_ids = sorted(set(partner_of.values()))
    submission_ids = sorted(partner_of)
    assigned: dict[int, set[int]] = defaultdict(set)
    for pid, iid in session.execute(
        select(indicator_partner.c.partner_id, indicator_partner.c.indicator_id).where(
            indicator_partner.c.partner_id.in_(partner_ids)
        )
    ):
        assigned[pid].add(iid)
    required: dict[int, set[int]] = defaultdict(set)
    all_indicators = {i for s in assigned.values() for i in s}
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
        mine = assigned.get(partner_of[sid], set())
        ind_share = len(reported[sid] & mine) / len(mine) if mine else None
        pairs = {(i, d) for i in mine for d in required.get(i, set())}
        dis_share = len(broken_down[sid] & pairs) / len(pairs) if pairs else None
        result[sid] = (ind_share, dis_share)
    return result
