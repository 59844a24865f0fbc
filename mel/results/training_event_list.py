"""The paged list of training events, newest first, each with its attendance rows.

Catalog names come in English and Spanish; the reader's language is applied where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from mel.catalog.models import Category, Partner
from mel.core.i18n import Bilingual
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent
from mel.results.training_filters import TrainingFilter, _events_from
from mel.workbooks.attendance import Attendance

_A = TrainingAttendance


@dataclass
class AttendanceLine(Attendance):
    """One institution's row of an event; its name is shown with ``institution.label(lang)``."""

    institution: Bilingual
    sheet: str
    row: int


@dataclass
class EventLine:
    id: int
    title: str
    start_date: Any
    end_date: Any
    pillar: str
    region: Bilingual
    modality: Bilingual
    partner: str
    """The reporting partner's name."""
    period: str
    status: str
    submission_id: int
    submission_version: int
    rows: list[AttendanceLine] = field(default_factory=list)

    @property
    def participants(self) -> int:
        return sum(r.participants for r in self.rows)


@dataclass(frozen=True)
class EventPage:
    events: list[EventLine]
    page: int
    pages: int
    total: int
    per_page: int


def training_events(session: Session, filt: TrainingFilter, *, page: int = 1, per_page: int = 20) -> EventPage:
    """One page of training events, newest first, each with its attendance rows (three queries in all)."""
    total = session.scalar(_events_from(select(func.count(TrainingEvent.id)).select_from(TrainingEvent), filt)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    region = aliased(Category, name="region_cat")
    modality = aliased(Category, name="modality_cat")
    query = _events_from(
        select(
            TrainingEvent.id,
            TrainingEvent.title,
            TrainingEvent.start_date,
            TrainingEvent.end_date,
            TrainingEvent.pillar,
            region.label_en,
            region.label_es,
            modality.label_en,
            modality.label_es,
            Partner.name,
            Submission.period,
            Submission.status,
            Submission.id,
            Submission.version,
        ).select_from(TrainingEvent),
        filt,
    )
    query = (
        query.join(region, region.id == TrainingEvent.region_id)
        .join(modality, modality.id == TrainingEvent.modality_id)
        .order_by(TrainingEvent.start_date.desc(), TrainingEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    events: dict[int, EventLine] = {}
    for event_id, title, start, end, pillar, region_en, region_es, modality_en, modality_es, *rest in session.execute(
        query
    ):
        region_name, modality_name = Bilingual(region_en, region_es), Bilingual(modality_en, modality_es)
        events[event_id] = EventLine(event_id, title, start, end, pillar, region_name, modality_name, *rest)
    if events:
        inst = aliased(Category, name="institution_cat")
        rows = session.execute(
            select(
                _A.event_id,
                inst.label_en.label("institution_en"),
                inst.label_es.label("institution_es"),
                _A.female,
                _A.male,
                _A.other,
                _A.under_18,
                _A.hours,
                _A.pre_score,
                _A.post_score,
                _A.sheet,
                _A.row,
                _A.repeat,
            )
            .join(inst, inst.id == _A.institution_id)
            .where(_A.event_id.in_(list(events)))
            .order_by(_A.event_id, _A.row)
        )
        for rec in rows:
            fields: dict[str, Any] = dict(rec._mapping)  # columns named as the fields
            names = Bilingual(fields.pop("institution_en"), fields.pop("institution_es"))
            events[fields.pop("event_id")].rows.append(AttendanceLine(institution=names, **fields))
    return EventPage(list(events.values()), page, pages, int(total), per_page)
