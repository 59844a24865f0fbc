"""The portfolio's numbers: each partnership's share of indicators on track and its late reports.

A report is late when its quarter ended more than ``report_due_days`` ago and the partner has no
current (non-superseded) submission for it. One query fetches every current submission of the
portfolio; the rest is arithmetic on quarters.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership
from mel.catalog.queries import PartnershipView, portfolio
from mel.periods import quarter_end, quarter_of, quarters
from mel.reports.models import Submission
from mel.results.base import Scope
from mel.results.progress import indicator_progress, on_track_share


@dataclass(frozen=True)
class LateReport:
    partner: Partner
    period: str
    due_on: dt.date
    days_late: int


@dataclass
class PartnershipSummary:
    view: PartnershipView
    on_track: int
    judged: int
    late: list[LateReport]

    @property
    def on_track_pct(self) -> float | None:
        return self.on_track / self.judged * 100 if self.judged else None


def due_quarters(ship: Partnership, *, today: dt.date, due_days: int) -> list[tuple[str, dt.date]]:
    """The partnership's quarters whose report is overdue on ``today``, with their due date."""
    out = []
    for period in quarters(quarter_of(ship.starts_on), quarter_of(ship.ends_on)):
        due = quarter_end(period) + dt.timedelta(days=due_days)
        if due < today:
            out.append((period, due))
    return out


def late_reports(
    session: Session, ships: list[Partnership], *, today: dt.date, due_days: int
) -> dict[int, list[LateReport]]:
    """Per partnership id, the (partner, quarter) pairs overdue with no current submission."""
    partner_ids = [p.id for ship in ships for p in ship.partners]
    rows = session.execute(
        select(Submission.partner_id, Submission.period).where(
            Submission.status != "superseded", Submission.partner_id.in_(partner_ids or [-1])
        )
    ).all()
    delivered = {(pid, period) for pid, period in rows}
    out: dict[int, list[LateReport]] = defaultdict(list)
    for ship in ships:
        due = due_quarters(ship, today=today, due_days=due_days)
        for partner in ship.partners:
            for period, due_on in due:
                if (partner.id, period) not in delivered:
                    out[ship.id].append(LateReport(partner, period, due_on, (today - due_on).days))
    return out


def portfolio_summary(
    session: Session, *, today: dt.date, due_days: int, include_provisional: bool = False
) -> list[PartnershipSummary]:
    """Every partnership with its outline, share of indicators on track and late reports."""
    views = portfolio(session)
    late = late_reports(session, [v.partnership for v in views], today=today, due_days=due_days)
    scope = Scope(include_provisional=include_provisional)
    out = []
    for view in views:
        progress = indicator_progress(session, view.partnership, scope, today=today, due_days=due_days)
        on_track, judged = on_track_share(progress)
        out.append(PartnershipSummary(view, on_track, judged, late.get(view.partnership.id, [])))
    return out
