"""The portfolio's numbers: each partnership's share of indicators on track and its late reports.

A report is late, as everywhere, when it was received after its due date (``report_due_days`` after
its quarter) or has not been received by then; the reporting calendar says which reports are owed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mel.catalog.calendar import LATE_STATES, days_late
from mel.catalog.models import Partner, Partnership
from mel.catalog.queries import PartnershipView, partnership_view, portfolio_codes
from mel.reports.calendar import owed_reports
from mel.results.counting import Scope
from mel.results.progress import indicator_progress, on_track_share
from mel.results.store import partnership_graph, prefetch, stored


@dataclass(frozen=True)
class LateReport:
    partner: Partner
    period: str
    due_on: dt.date
    days_late: int
    received_on: dt.date | None = None  # None: not received yet


@dataclass
class PartnershipSummary:
    view: PartnershipView
    on_track: int
    judged: int
    late: list[LateReport]

    @property
    def on_track_pct(self) -> float | None:
        return self.on_track / self.judged * 100 if self.judged else None


def late_reports(
    session: Session, partnerships: list[Partnership], *, today: dt.date, due_days: int
) -> dict[int, list[LateReport]]:
    """Per partnership id, its late reports as the calendar says (``mel.reports.calendar``): received
    after the due date, or not received by it; the data-quality page counts the same ones."""
    out: dict[int, list[LateReport]] = defaultdict(list)
    for partnership in partnerships:
        owed = owed_reports(session, partnership, list(partnership.partners), today=today, due_days=due_days)
        names = {p.id: p for p in partnership.partners}
        for (pid, period), report in sorted(owed.items(), key=lambda kv: (kv[1].due, names[kv[0][0]].code)):
            if report.state in LATE_STATES:
                days = days_late(report.received, report.due, today)
                out[partnership.id].append(LateReport(names[pid], period, report.due, days, report.received))
    return out


def portfolio_summary(
    session: Session, *, today: dt.date, due_days: int, include_provisional: bool = False
) -> list[PartnershipSummary]:
    """Every partnership with its outline, share of indicators on track and late reports.

    All three are stored per partnership and data version, and computed when they are not from the
    partnership's framework as loaded once per version (``mel.results.store.partnership_graph``):
    between two changes the page is a read of the ids and the stamps.
    """
    codes = portfolio_codes(session)
    scope = Scope(include_provisional=include_provisional)
    prefetch(session, [pid for pid, _code in codes])
    out = []
    for pid, code in codes:

        @functools.cache  # one look-up for the computations below, which only read the stored graph
        def graph_of(code: str = code) -> Partnership:
            graph = partnership_graph(session, code)
            assert graph is not None, code  # listed in this transaction
            return graph

        def view_of() -> PartnershipView:
            return partnership_view(graph_of())

        def late_of() -> dict[int, list[LateReport]]:
            return late_reports(session, [graph_of()], today=today, due_days=due_days)

        def share_of() -> tuple[int, int]:
            return on_track_share(indicator_progress(session, graph_of(), scope, today=today, due_days=due_days))

        # the whole reporting record (each page shows a viewer only its own partners' lines) and a count
        # of indicators on track: no figure reaches a reader, so they are stored once for every viewer
        view = stored(session, pid, "portfolio.view", None, (), view_of)
        late = stored(session, pid, "portfolio.late", None, (today, due_days), late_of)
        on_track, judged = stored(session, pid, "portfolio.on_track", None, (scope, today, due_days), share_of)
        out.append(PartnershipSummary(view, on_track, judged, late.get(pid, [])))
    return out
