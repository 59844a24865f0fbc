"""The reports each partner owes, as the calendar decides (``mel.catalog.calendar``), and when each
arrived: the one source of "due", "late" and "missing" for the portfolio, the data-quality grid and
``mel report due``.

A report arrives on its ``received_on`` (set by an officer for a report sent earlier by e-mail or on
paper) or, without one, on the day it was uploaded; several versions: the first arrival counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.calendar import due_date, ended, is_due, reporting_span, timeliness
from mel.catalog.models import Indicator, Partner, Partnership, indicator_partner
from mel.reports.models import Submission


@dataclass(frozen=True)
class Owed:
    """One report a partner owes for one quarter."""

    partner_id: int
    period: str
    due: dt.date
    received: dt.date | None
    state: str  # mel.catalog.calendar.TIMELINESS
    indicators: frozenset[int]  # the partner's indicators due that quarter


def assigned_indicators(session: Session, partnership_id: int) -> dict[int, list[tuple[int, str | None, str | None]]]:
    """Partner id -> its indicators as (id, frequency, reported_in)."""
    out: dict[int, list[tuple[int, str | None, str | None]]] = defaultdict(list)
    for pid, iid, frequency, reported_in in session.execute(
        select(indicator_partner.c.partner_id, Indicator.id, Indicator.frequency, Indicator.reported_in)
        .join(Indicator, Indicator.id == indicator_partner.c.indicator_id)
        .where(Indicator.partnership_id == partnership_id)
        .order_by(indicator_partner.c.partner_id, Indicator.id)
    ):
        out[pid].append((iid, frequency, reported_in))
    return out


def owed_periods(
    partnership: Partnership, partner: Partner, assigned: list[tuple[int, str | None, str | None]], today: dt.date
) -> dict[str, frozenset[int]]:
    """The ended quarters of the partner's reporting span in which one of its indicators is due,
    with those indicators."""
    out = {}
    span = reporting_span(partnership.starts_on, partnership.ends_on, partner.starts_on, partner.ends_on)
    for period in ended(span, today):
        due = frozenset(
            i for i, freq, quarters in assigned if is_due(freq, quarters, partnership.fiscal_year_start, period)
        )
        if due:
            out[period] = due
    return out


def arrivals(session: Session, partner_ids: list[int], today: dt.date) -> dict[tuple[int, str], dt.date]:
    """(partner, quarter) -> the day its first version arrived, among versions known by ``today``."""
    known_by = dt.datetime.combine(today, dt.time.max)
    rows = session.execute(
        select(
            Submission.partner_id,
            Submission.period,
            func.min(Submission.uploaded_at),
            func.min(Submission.received_on),
        )
        .where(Submission.partner_id.in_(partner_ids or [-1]), Submission.uploaded_at <= known_by)
        .group_by(Submission.partner_id, Submission.period)
    )
    out = {}
    for pid, period, uploaded, received in rows:
        first = uploaded.date() if isinstance(uploaded, dt.datetime) else dt.date.fromisoformat(str(uploaded)[:10])
        if received is not None:
            day = received if isinstance(received, dt.date) else dt.date.fromisoformat(str(received))
            first = min(first, day)
        out[(pid, period)] = first
    return out


def owed_reports(
    session: Session,
    partnership: Partnership,
    partners: list[Partner],
    *,
    today: dt.date,
    due_days: int,
) -> dict[tuple[int, str], Owed]:
    """Every report ``partners`` owe by ``today`` (or owe soon: due date ahead), with its timeliness."""
    assigned = assigned_indicators(session, partnership.id)
    arrived = arrivals(session, [p.id for p in partners], today)
    out = {}
    for partner in partners:
        for period, indicators in owed_periods(partnership, partner, assigned.get(partner.id, []), today).items():
            due = due_date(period, due_days)
            received = arrived.get((partner.id, period))
            state = timeliness(received, due, today)
            out[(partner.id, period)] = Owed(partner.id, period, due, received, state, indicators)
    return out
