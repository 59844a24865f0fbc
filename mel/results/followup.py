"""Training follow-up: trained people met again months later, as pooled retention and application rates.

Follow-up rows are counts per training event (or per institution and training quarter): reached,
still in post, applying the skills. Rates pool the counts (Σ in post ÷ Σ reached), never average
event rates, and always travel with their numerator and denominator. Rows count when their report
counts (``mel.results.counting.submission_filter``); rows an officer entered beside an event
(``mel.reports.training_followup``) count like approved ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner
from mel.reports.models import Submission, TrainingEvent, TrainingFollowUp
from mel.results.counting import Scope, submission_filter
from mel.results.training_filters import TrainingFilter

_F = TrainingFollowUp


@dataclass(frozen=True)
class Rates:
    """Pooled follow-up counts of a group of trainings."""

    label: str
    followups: int
    participants: int  # of the rows that stated them
    reached: int
    in_post: int
    applying: int

    @property
    def retention_pct(self) -> float | None:
        """Still in post, of those reached."""
        return self.in_post / self.reached * 100 if self.reached else None

    @property
    def application_pct(self) -> float | None:
        """Applying the skills, of those reached."""
        return self.applying / self.reached * 100 if self.reached else None


def _entered(scope: Scope) -> ColumnElement[bool]:
    """Rows an officer entered (no report): they count like approved values, within the scope's
    partners and quarters (the quarter the follow-up was made in)."""
    condition: ColumnElement[bool] = _F.submission_id.is_(None)
    if scope.partner_ids is not None:
        condition = and_(condition, _F.partner_id.in_(list(scope.partner_ids) or [-1]))
    if scope.first_period:
        condition = and_(condition, _F.period >= scope.first_period)
    if scope.last_period:
        condition = and_(condition, _F.period <= scope.last_period)
    return condition


def _base(query: Any, filt: TrainingFilter) -> Any:
    counted = or_(and_(_F.submission_id.is_not(None), submission_filter(filt.scope)), _entered(filt.scope))
    return (
        query.select_from(_F)
        .outerjoin(Submission, Submission.id == _F.submission_id)
        .join(Partner, Partner.id == _F.partner_id)
        .where(counted, Partner.partnership_id == filt.partnership_id)
    )


_SUMS = (
    func.count(_F.id),
    func.coalesce(func.sum(_F.participants), 0),
    func.coalesce(func.sum(_F.reached), 0),
    func.coalesce(func.sum(_F.in_post), 0),
    func.coalesce(func.sum(_F.applying), 0),
)


def followup_rates(session: Session, filt: TrainingFilter, *, label: str = "") -> Rates:
    """Retention and application over every counted follow-up row, pooled."""
    n, people, reached, in_post, applying = session.execute(_base(select(*_SUMS), filt)).one()
    return Rates(label, int(n), int(people), int(reached), int(in_post), int(applying))


def rates_by_training_year(session: Session, filt: TrainingFilter) -> list[Rates]:
    """The same rates by the year the followed-up courses started: where the 2020 drop shows."""
    year = func.substr(func.coalesce(_F.training_period, cast(_F.start_date, String)), 1, 4)
    query = _base(select(year.label("year"), *_SUMS), filt).group_by(year).order_by(year)
    return [Rates(str(y), int(n), int(p), int(r), int(i), int(a)) for y, n, p, r, i, a in session.execute(query) if y]


@dataclass(frozen=True)
class EventFollowUp:
    months: int
    participants: int | None
    reached: int
    in_post: int
    applying: int
    period: str  # the report that gave it


def followups_of_events(session: Session, filt: TrainingFilter, event_ids: list[int]) -> dict[int, list[EventFollowUp]]:
    """Follow-ups of the listed events, matched by partner, title and start date (a follow-up arrives in a
    later report than its event, so it cannot point to the event's row). The page's quarters chose the
    events; their follow-ups are shown whatever quarter reported them."""
    if not event_ids:
        return {}
    filt = replace(filt, scope=replace(filt.scope, first_period=None, last_period=None))
    events = session.execute(
        select(TrainingEvent.id, Submission.partner_id, TrainingEvent.title, TrainingEvent.start_date)
        .join(Submission, Submission.id == TrainingEvent.submission_id)
        .where(TrainingEvent.id.in_(event_ids))
    ).all()
    keys: dict[tuple[int, str, dt.date], int] = {(p, title, start): eid for eid, p, title, start in events}
    query = _base(
        select(
            _F.partner_id,
            _F.title,
            _F.start_date,
            _F.months,
            func.sum(_F.participants),
            func.sum(_F.reached),
            func.sum(_F.in_post),
            func.sum(_F.applying),
            func.max(_F.period),
        ),
        filt,
    ).where(
        _F.partner_id.in_({p for _e, p, _t, _s in events}),
        _F.start_date.in_({s for _e, _p, _t, s in events}),
    )
    query = query.group_by(_F.partner_id, _F.title, _F.start_date, _F.months)
    out: dict[int, list[EventFollowUp]] = defaultdict(list)
    for pid, title, start, months, people, reached, in_post, applying, period in session.execute(query):
        eid = keys.get((pid, title, start))
        if eid is not None:
            out[eid].append(
                EventFollowUp(
                    int(months),
                    None if people is None else int(people),
                    int(reached),
                    int(in_post),
                    int(applying),
                    period,
                )
            )
    return dict(out)
