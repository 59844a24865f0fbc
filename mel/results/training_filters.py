"""Which training rows count: the page's filters and the one query of counted training rows.

Evaluations asked above all for "proper disaggregation of training data". Every training figure is
aggregated in SQL (GROUP BY over the attendance rows) and only the small grouped result is shaped in
Python; every such query starts from the joins here.

Which trainings count follows ``mel.results.counting.submission_filter``: the rows of current
submissions, approved only unless the scope includes provisional ones. ``training_filter`` adds
the partnership and the pillar; ``counted_trainings`` is the one query of counted training rows
that pages and exports share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session, aliased

from mel.catalog.models import PILLARS, Category, Partner
from mel.core.periods import parse_quarter
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent
from mel.results.counting import Scope, submission_filter

AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class TrainingFilter:
    """The page's filters: one partnership, a ``Scope`` (partners, quarters, provisional) and a pillar."""

    partnership_id: int
    scope: Scope = field(default_factory=Scope)
    pillar: str | None = None


def training_filter(filt: TrainingFilter) -> ColumnElement[bool]:
    """The condition on joined ``TrainingEvent``/``Submission``/``Partner`` rows that count under ``filt``."""
    condition = and_(submission_filter(filt.scope), Partner.partnership_id == filt.partnership_id)
    if filt.pillar:
        condition = and_(condition, TrainingEvent.pillar == filt.pillar)
    return condition


def make_training_filter(
    session: Session,
    *,
    partnership_id: int,
    partner: str | None = None,
    pillar: str | None = None,
    first_period: str | None = None,
    last_period: str | None = None,
    include_provisional: bool = False,
) -> TrainingFilter:
    """The filter from user-facing choices (partner code, pillar, quarters), as the page and exports take them.

    Unknown partners, pillars or quarters are ignored rather than failing: a stale bookmark still
    shows the partnership. A partner of another partnership selects nothing.
    """
    partner_ids: list[int] | None = None
    if partner:
        found = session.scalar(
            select(Partner.id).where(Partner.code == partner, Partner.partnership_id == partnership_id)
        )
        partner_ids = [found] if found is not None else []
    first, last = parse_quarter(first_period), parse_quarter(last_period)
    if first and last and first > last:
        first, last = last, first
    scope = Scope(
        include_provisional=include_provisional, partner_ids=partner_ids, first_period=first, last_period=last
    )
    return TrainingFilter(partnership_id, scope, pillar if pillar in PILLARS else None)


def _events_from(query: AnySelect, filt: TrainingFilter) -> AnySelect:
    return (
        query.join(Submission, Submission.id == TrainingEvent.submission_id)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(training_filter(filt))
    )


def _rows_from(query: AnySelect, filt: TrainingFilter) -> AnySelect:
    """Attendance rows joined to their event, submission and partner, filtered."""
    return _events_from(
        query.select_from(TrainingAttendance).join(TrainingEvent, TrainingEvent.id == TrainingAttendance.event_id),
        filt,
    )


def counted_trainings(filt: TrainingFilter) -> AnySelect:
    """Every training row that counts under ``filt``, flat, with catalog codes: for exports and lists.

    One row per attendance row: partner, period, status, submission, event fields, institution and
    the counts, ordered by partner, period, event and workbook row.
    """
    region = aliased(Category, name="region_cat")
    modality = aliased(Category, name="modality_cat")
    institution = aliased(Category, name="institution_cat")
    query = select(
        Partner.code.label("partner"),
        Submission.period.label("period"),
        Submission.status.label("status"),
        Submission.id.label("submission_id"),
        Submission.version.label("submission_version"),
        TrainingEvent.id.label("event_id"),
        TrainingEvent.title.label("title"),
        TrainingEvent.start_date.label("start_date"),
        TrainingEvent.end_date.label("end_date"),
        TrainingEvent.pillar.label("pillar"),
        region.code.label("region"),
        modality.code.label("modality"),
        institution.code.label("institution"),
        TrainingAttendance.female,
        TrainingAttendance.male,
        TrainingAttendance.other,
        TrainingAttendance.under_18,
        TrainingAttendance.hours,
        TrainingAttendance.pre_score,
        TrainingAttendance.post_score,
        TrainingAttendance.sheet,
        TrainingAttendance.row,
        TrainingAttendance.repeat,
    )
    return (
        _rows_from(query, filt)
        .join(region, region.id == TrainingEvent.region_id)
        .join(modality, modality.id == TrainingEvent.modality_id)
        .join(institution, institution.id == TrainingAttendance.institution_id)
        .order_by(Partner.code, Submission.period, TrainingEvent.start_date, TrainingEvent.id, TrainingAttendance.row)
    )
