"""Writing a checked workbook: submissions and versions, narrative, warnings, measurement batches.

Everything here runs inside the caller's transaction and in a savepoint, so an import is stored
entirely or not at all; a report's values, trainings and follow-ups go in with
``mel.reports.report_rows``. Concurrent imports for the same partner (or partnership, for
measurements) are serialized by a lock taken before the version number is read: a row lock on
PostgreSQL, the database write lock on SQLite (taken by a first, harmless UPDATE, which waits on the
busy timeout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_ids
from mel.catalog.models import Partner, Partnership
from mel.core.db import utcnow
from mel.reports.models import (
    ImportWarning,
    Measurement,
    MeasurementBatch,
    NarrativeEntry,
    StoredFile,
    Submission,
)
from mel.reports.parse_results import Issue, ParsedMeasurement, ParsedWorkbook
from mel.reports.report_rows import insert_followups, insert_trainings, insert_values


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
    from mel.reports.queries_resolve import on_new_version  # only a stored version loads the query tables

    on_new_version(session, submission_id=submission.id, partner_id=partner_id, period=period, version=version)
    return stored


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
