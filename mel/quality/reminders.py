"""Which reports officers should chase: due soon, late, or returned and not yet sent again.

Shown on the data-quality page and printed by ``mel report due`` for a daily cron job, with the
partner's contact from the catalog. Only the reports the calendar owes are chased (an annual
indicator's partner once a year, a partner within its agreement's span).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.quality.completeness import reporting_grid

REMINDER_STATES = ("late", "returned", "due")


@dataclass(frozen=True)
class Reminder:
    partnership: str
    partner: str
    partner_name: str
    contact_name: str | None
    contact_email: str | None
    period: str
    due: dt.date
    state: str
    """``due`` (quarter ended, due date ahead, nothing received), ``late`` (due date passed, nothing
    received) or ``returned`` (sent back to the partner for correction)."""
    days: int
    """Days left until the due date (``due``) or days since it (``late``, ``returned``)."""


def due_reports(
    session: Session, partnership: Partnership, *, today: dt.date, due_days: int, partner_ids: list[int] | None = None
) -> list[Reminder]:
    """The reports to chase in one partnership, most overdue first."""
    grid = reporting_grid(session, partnership, today=today, due_days=due_days, partner_ids=partner_ids)
    partners = {p.id: p for p in grid.partners}
    found = []
    for (partner_id, period), cell in grid.cells.items():
        state = {"pending": "due", "missing": "late", "returned": "returned"}.get(cell.state)
        if state is None or (state == "due" and cell.received_on is not None):
            continue
        partner = partners[partner_id]
        found.append(
            Reminder(
                partnership=partnership.code,
                partner=partner.code,
                partner_name=partner.name,
                contact_name=partner.contact_name,
                contact_email=partner.contact_email,
                period=period,
                due=cell.due,
                state=state,
                days=abs((today - cell.due).days),
            )
        )
    return sorted(found, key=lambda r: (r.due, r.partner))
