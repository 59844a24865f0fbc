"""The rows of one report version, inserted in bulk: values, training events and attendance, follow-ups.

Rows go in with Core bulk inserts (lists of rows), never one ORM object per row; the large tables
(values, training attendance) go through ``bulk_insert`` at driver speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause, insert
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_ids
from mel.core.versions import note_rows
from mel.reports.models import TrainingAttendance, TrainingEvent, TrainingFollowUp, Value
from mel.reports.parse_results import ParsedFollowUp, ParsedTraining, ParsedValue


def bulk_insert(session: Session, table: FromClause, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Many rows of plain Python values at driver speed: COPY on PostgreSQL, one executemany elsewhere.

    Used for the large tables (values, training attendance), where per-row parameter processing
    of a Core insert costs more than the database itself; rows are already of the column types.
    """
    if not rows:
        return
    connection = session.connection()
    name = str(getattr(table, "name", table))
    note_rows(session, name, columns, rows)  # below the session's statements: tell the data version
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)


VALUE_COLUMNS = ["submission_id", "indicator_id", "combination_id", "partner_id", "period", "value", "comment"]
VALUE_COLUMNS += ["sheet", "cell", "numerator", "denominator"]


def insert_values(
    session: Session, *, submission_id: int, partner_id: int, period: str, values: list[ParsedValue]
) -> None:
    """One row per reported cell, with one combination lookup for the whole workbook."""
    if not values:
        return
    combos = combination_ids(session, {v.category_ids for v in values})
    rows = [
        (
            submission_id,
            v.indicator_id,
            combos[v.category_ids],
            partner_id,
            period,
            float(v.value),
            v.comment,
            v.sheet,
            v.cell,
            v.numerator,
            v.denominator,
        )
        for v in values
    ]
    bulk_insert(session, Value.__table__, VALUE_COLUMNS, rows)


def _event_key(row: ParsedTraining) -> tuple[Any, ...]:
    return (row.title, row.start_date, row.end_date, row.pillar, row.region_id, row.modality_id)


def insert_trainings(session: Session, *, submission_id: int, trainings: list[ParsedTraining]) -> None:
    """Rows of one event (same title, dates, pillar, region, modality) share one training_event."""
    if not trainings:
        return
    events: dict[tuple[Any, ...], ParsedTraining] = {}
    for row in trainings:
        events.setdefault(_event_key(row), row)
    ids = session.scalars(
        insert(TrainingEvent).returning(TrainingEvent.id, sort_by_parameter_order=True),
        [
            {
                "submission_id": submission_id,
                "title": e.title,
                "start_date": e.start_date,
                "end_date": e.end_date,
                "pillar": e.pillar,
                "region_id": e.region_id,
                "modality_id": e.modality_id,
            }
            for e in events.values()
        ],
    ).all()
    event_id = dict(zip(events, ids, strict=True))
    rows = [
        (
            event_id[_event_key(r)],
            r.institution_id,
            r.female,
            r.male,
            r.other,
            r.under_18,
            _float(r.hours),
            _float(r.pre_score),
            _float(r.post_score),
            r.sheet,
            r.row,
            r.repeat,
        )
        for r in trainings
    ]
    bulk_insert(session, TrainingAttendance.__table__, ATTENDANCE_COLUMNS, rows)


def insert_followups(
    session: Session, *, submission_id: int | None, partner_id: int, period: str, followups: list[ParsedFollowUp]
) -> None:
    """The Follow-up sheet's rows, in one statement."""
    if not followups:
        return
    session.execute(
        insert(TrainingFollowUp),
        [
            {
                "submission_id": submission_id,
                "partner_id": partner_id,
                "period": period,
                "title": f.title,
                "start_date": f.start_date,
                "training_period": f.training_period,
                "institution_id": f.institution_id,
                "months": f.months,
                "participants": f.participants,
                "reached": f.reached,
                "in_post": f.in_post,
                "applying": f.applying,
                "sheet": f.sheet,
                "row": f.row,
            }
            for f in followups
        ],
    )


ATTENDANCE_COLUMNS = ["event_id", "institution_id", "female", "male", "other", "under_18", "hours", "pre_score"]
ATTENDANCE_COLUMNS += ["post_score", "sheet", "row", "repeat"]


def _float(number: float | None) -> float | None:
    return None if number is None else float(number)
