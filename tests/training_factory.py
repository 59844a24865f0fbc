"""Direct test data for training statistics: events and attendance rows of a stored submission.

Catalog codes in, real rows out (no workbook, no mocks): the importer's tests prove that a
Trainings sheet becomes these rows; page and query tests only need the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner
from mel.core.periods import quarter_start
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent
from mel.workbooks.attendance import Attendance
from tests.value_factory import category_ids


@dataclass
class Row(Attendance):
    """One attendance row: the participants of one institution at an event."""

    institution: str


@dataclass
class Event:
    title: str
    pillar: str
    region: str
    modality: str
    rows: list[Row] = field(default_factory=list)
    start_date: dt.date | None = None
    end_date: dt.date | None = None


def add_trainings(session: Session, submission: Submission, events: list[Event]) -> list[int]:
    """Store ``events`` under ``submission``; returns the new event ids. Dates default to the quarter's start."""
    partnership_id = session.scalar(select(Partner.partnership_id).where(Partner.id == submission.partner_id))
    assert partnership_id is not None
    ids: list[int] = []
    line = 5
    for event in events:
        region, modality = category_ids(session, partnership_id, {"region": event.region, "modality": event.modality})
        start = event.start_date or quarter_start(submission.period)
        event_id = session.scalars(
            insert(TrainingEvent).returning(TrainingEvent.id),
            [
                {
                    "submission_id": submission.id,
                    "title": event.title,
                    "start_date": start,
                    "end_date": event.end_date,
                    "pillar": event.pillar,
                    "region_id": region,
                    "modality_id": modality,
                }
            ],
        ).one()
        ids.append(event_id)
        rows = []
        for row in event.rows:
            (institution,) = category_ids(session, partnership_id, {"institution": row.institution})
            rows.append(
                {
                    "event_id": event_id,
                    "institution_id": institution,
                    "female": row.female,
                    "male": row.male,
                    "other": row.other,
                    "under_18": row.under_18,
                    "hours": row.hours,
                    "pre_score": row.pre_score,
                    "post_score": row.post_score,
                    "repeat": row.repeat,
                    "sheet": "Trainings",
                    "row": line,
                }
            )
            line += 1
        if rows:
            session.execute(insert(TrainingAttendance), rows)
    session.flush()
    return ids
