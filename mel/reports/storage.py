"""Writing a checked workbook: submissions and versions, values, trainings, narrative, measurements.

Everything here runs inside the caller's transaction and in a savepoint, so an import is stored
entirely or not at all. Rows go in with Core bulk inserts (lists of rows), never one ORM object per
row. Concurrent imports for the same partner (or partnership, for measurements) are serialized by
a lock taken before the version number is read: a row lock on PostgreSQL, the database write lock
on SQLite (taken by a first, harmless UPDATE, which waits on the busy timeout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause, delete, func, insert, select, update
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_ids
from mel.catalog.models import Partner, Partnership
from mel.core.db import utcnow
from mel.core.versions import note_rows
from mel.reports.models import (
    ImportWarning,
    Measurement,
    MeasurementBatch,
    NarrativeEntry,
    StoredFile,
    Submission,
    TrainingAttendance,
    TrainingEvent,
    TrainingFollowUp,
    Value,
)
from mel.reports.parsed import (
    Issue,
    ParsedFollowUp,
    ParsedMeasurement,
    ParsedTraining,
    ParsedValue,
    ParsedWorkbook,
)


def lock_partner(session: Session, partner_id: int) -> None:
    """Serialize writers of one partner's submissions until the transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Partner).where(Partner.id == partner_id).values(code=Partner.code))
    else:
        session.execute(select(Partner.id).where(Partner.id == partner_id).with_for_update())


def lock_partnership(session: Session, partnership_id: int) -> None:
    """Serialize measurement imports of one partnership until the transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Partnership).where(Partnership.id == partnership_id).values(code=Partnership.code))
    else:
        session.execute(select(Partnership.id).where(Partnership.id == partnership_id).with_for_update())


@dataclass(frozen=True)
class Existing:
    """What an upload of the same bytes already became."""

    kind: str
    submission_id: int | None
    partner: str | None
    period: str | None
    version: int | None


def already_stored(session: Session, sha256: str) -> Existing | None:
    """The submission or measurement batch stored from these exact bytes, if any."""
    if session.get(StoredFile, sha256) is None:
        return None
    row = session.execute(
        select(Submission.id, Partner.code, Submission.period, Submission.version)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(Submission.file_sha256 == sha256)
        .order_by(Submission.id)
        .limit(1)
    ).first()
    if row is not None:
        return Existing("quarterly_report", row[0], row[1], row[2], row[3])
    return Existing("measurements", None, None, None, None)


def current_submission(session: Session, partner_id: int, period: str) -> Submission | None:
    """The version of a partner's report that counts now (not superseded), if any."""
    return session.scalars(
        select(Submission).where(
            Submission.partner_id == partner_id, Submission.period == period, Submission.status != "superseded"
        )
    ).one_or_none()


def next_version(session: Session, partner_id: int, period: str) -> int:
    last = session.scalar(
        select(func.max(Submission.version)).where(Submission.partner_id == partner_id, Submission.period == period)
    )
    return int(last or 0) + 1


def add_stored_file(session: Session, *, sha256: str, size: int, filename: str) -> None:
    session.execute(insert(StoredFile).values(sha256=sha256, size=size, original_name=filename[:300]))


@dataclass
class StoredReport:
    submission_id: int
    version: int
    previous_id: int | None = None
    previous_version: int | None = None
    previous_status: str | None = None
    """What the version this one superseded was before (for the audit log)."""


def store_report(
    session: Session,
    *,
    parsed: ParsedWorkbook,
    sha256: str,
    user_id: int | None,
    reason: str | None,
    warnings: list[Issue],
) -> StoredReport:
    """Record a new version of a partner's quarterly report (the lock must be held)."""
    assert parsed.partner_id is not None and parsed.period is not None
    partner_id, period = parsed.partner_id, parsed.period
    previous = current_submission(session, partner_id, period)
    version = next_version(session, partner_id, period)
    stored = StoredReport(0, version)
    if previous is not None:
        stored.previous_id, stored.previous_version, stored.previous_status = (
            previous.id,
            previous.version,
            previous.status,
        )
        # before the new row: the partial unique index allows one current version only
        session.execute(update(Submission).where(Submission.id == previous.id).values(status="superseded"))
    submission = Submission(
        partner_id=partner_id,
        period=period,
        version=version,
        status="submitted",
        file_sha256=sha256,
        lang=parsed.lang,
        prepared_by=parsed.prepared_by,
        report_date=parsed.report_date,
        reason=reason,
        uploaded_by_id=user_id,
        uploaded_at=utcnow(),
    )
    session.add(submission)
    session.flush()
    insert_values(session, submission_id=submission.id, partner_id=partner_id, period=period, values=parsed.values)
    insert_trainings(session, submission_id=submission.id, trainings=parsed.trainings)
    insert_followups(
        session, submission_id=submission.id, partner_id=partner_id, period=period, followups=parsed.followups
    )
    if parsed.narrative:
        session.execute(
            insert(NarrativeEntry),
            [
                {"submission_id": submission.id, "section": n.section, "text": n.text, "position": i}
                for i, n in enumerate(parsed.narrative)
            ],
        )
    if warnings:
        session.execute(
            insert(ImportWarning),
            [
                {
                    "submission_id": submission.id,
                    "code": w.code,
                    "sheet": w.sheet,
                    "cell": w.cell,
                    "message": w.message,
                    "params": w.params,
                }
                for w in warnings
            ],
        )
    stored.submission_id = submission.id
    from mel.reports.queries_values import on_new_version  # queries import review, which imports this module

    on_new_version(session, submission_id=submission.id, partner_id=partner_id, period=period, version=version)
    return stored


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


@dataclass
class StoredMeasurements:
    batch_id: int
    replaced: list[dict[str, Any]]
    """The measurements that this batch replaced, as they were (for the audit log)."""


def store_measurements(
    session: Session, *, parsed: ParsedWorkbook, sha256: str, user_id: int | None
) -> StoredMeasurements:
    """Record an evaluator's batch; a value for an existing indicator/round/date/combination replaces it."""
    assert parsed.partnership_id is not None
    batch = MeasurementBatch(
        partnership_id=parsed.partnership_id, file_sha256=sha256, uploaded_by_id=user_id, uploaded_at=utcnow()
    )
    session.add(batch)
    session.flush()
    combos = combination_ids(session, {m.category_ids for m in parsed.measurements})
    rows = [_measurement_row(batch.id, m, combos[m.category_ids]) for m in parsed.measurements]
    keys = {(r["indicator_id"], r["round"], r["date"], r["combination_id"]) for r in rows}
    replaced: list[dict[str, Any]] = []
    if rows:
        old = session.execute(
            select(
                Measurement.id,
                Measurement.indicator_id,
                Measurement.round,
                Measurement.date,
                Measurement.combination_id,
                Measurement.value,
                Measurement.source,
                Measurement.comparable,
                Measurement.note,
                Measurement.batch_id,
            ).where(Measurement.indicator_id.in_({r["indicator_id"] for r in rows}))
        ).all()
        replaced = [
            {
                "id": m.id,
                "indicator_id": m.indicator_id,
                "round": m.round,
                "date": m.date,
                "combination_id": m.combination_id,
                "value": m.value,
                "source": m.source,
                "comparable": m.comparable,
                "note": m.note,
                "batch_id": m.batch_id,
            }
            for m in old
            if (m.indicator_id, m.round, m.date, m.combination_id) in keys
        ]
        if replaced:
            session.execute(delete(Measurement).where(Measurement.id.in_([r["id"] for r in replaced])))
        session.execute(insert(Measurement), rows)
    return StoredMeasurements(batch.id, replaced)


def _measurement_row(batch_id: int, m: ParsedMeasurement, combination_id: int) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "indicator_id": m.indicator_id,
        "combination_id": combination_id,
        "round": m.round,
        "date": m.date,
        "value": m.value,
        "source": m.source,
        "comparable": m.comparable,
        "note": m.note,
        "sheet": m.sheet,
        "cell": m.cell,
        "sample_size": m.sample_size,
        "margin_of_error": m.margin_of_error,
    }
