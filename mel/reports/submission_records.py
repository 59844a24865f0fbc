"""Submissions as records: the API's listing and a report's versions, one dict per version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership
from mel.core.periods import fiscal_label
from mel.reports.models import Submission


def _submission_json(row: Any, fy: int) -> dict[str, Any]:
    sid, partnership, partner, period, version, status, uploaded_at, reviewed_at, reason = row
    return {
        "id": sid,
        "partnership": partnership,
        "partner": partner,
        "period": period,
        "fiscal_period": fiscal_label(period, fy),
        "version": version,
        "status": status,
        "uploaded_at": uploaded_at.isoformat() + "Z",
        "reviewed_at": reviewed_at.isoformat() + "Z" if reviewed_at else None,
        "reason": reason,
    }


def _columns() -> tuple[Any, ...]:
    return (
        Submission.id,
        Partnership.code,
        Partner.code,
        Submission.period,
        Submission.version,
        Submission.status,
        Submission.uploaded_at,
        Submission.reviewed_at,
        Submission.reason,
    )


def _query() -> Any:
    return (
        select(*_columns(), Partnership.fiscal_year_start)
        .join(Partner, Partner.id == Submission.partner_id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
    )


def submission_records(
    session: Session,
    *,
    partner_ids: list[int] | None,
    partnership: str | None = None,
    partner: str | None = None,
    period: str | None = None,
    status: str | None = None,
    after: int | None = None,
    limit: int,
) -> list[dict[str, Any]]:
    """Versions in id order, after ``after``; ``partner_ids`` None for staff (every partner)."""
    query = _query().order_by(Submission.id).limit(limit)
    if partner_ids is not None:
        query = query.where(Submission.partner_id.in_(partner_ids or [-1]))
    if partnership:
        query = query.where(Partnership.code == partnership)
    if partner:
        query = query.where(Partner.code == partner)
    if period:
        query = query.where(Submission.period == period)
    if status:
        query = query.where(Submission.status == status)
    if after is not None:
        query = query.where(Submission.id > after)
    return [_submission_json(r[:-1], r[-1]) for r in session.execute(query).all()]


def version_records(session: Session, partner_id: int, period: str) -> list[dict[str, Any]]:
    """Every version of one partner's report for ``period``, oldest first."""
    query = _query().where(Submission.partner_id == partner_id, Submission.period == period)
    return [_submission_json(r[:-1], r[-1]) for r in session.execute(query.order_by(Submission.version)).all()]
