"""A partner's report history: every version with its reviews (the history page and the API).

Every function here only reads; the caller passes the partner ids the user may see
(``CurrentUser.visible_partner_ids``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership
from mel.core.periods import fiscal_label
from mel.reports.display_names import user_name
from mel.reports.models import StoredFile, Submission, SubmissionReview


@dataclass
class ReviewView:
    action: str
    comment: str | None
    by: str | None
    at: dt.datetime
    level: str = "officer"


@dataclass
class HistoryRow:
    id: int
    partner: str
    partner_name: str
    period: str
    fiscal_period: str
    version: int
    status: str
    uploaded_by: str | None
    uploaded_at: dt.datetime
    reason: str | None
    filename: str
    reviews: list[ReviewView] = field(default_factory=list)


def partner_history(session: Session, partner_ids: list[int]) -> list[HistoryRow]:
    """Every version of these partners' reports, newest quarter first, with their reviews."""
    who, who_name = user_name()
    rows = session.execute(
        select(
            Submission.id,
            Partner.code,
            Partner.name,
            Submission.period,
            Partnership.fiscal_year_start,
            Submission.version,
            Submission.status,
            who_name,
            Submission.uploaded_at,
            Submission.reason,
            StoredFile.original_name,
        )
        .join(Partner, Partner.id == Submission.partner_id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .join(StoredFile, StoredFile.sha256 == Submission.file_sha256)
        .outerjoin(who, who.id == Submission.uploaded_by_id)
        .where(Submission.partner_id.in_(partner_ids or [-1]))
        .order_by(Submission.period.desc(), Partner.code, Submission.version.desc())
    ).all()
    history = [
        HistoryRow(sid, code, name, period, fiscal_label(period, fy), version, status, by, at, reason, filename)
        for sid, code, name, period, fy, version, status, by, at, reason, filename in rows
    ]
    reviews = reviews_of(session, [h.id for h in history])
    for h in history:
        h.reviews = reviews.get(h.id, [])
    return history


def reviews_of(session: Session, submission_ids: list[int]) -> dict[int, list[ReviewView]]:
    """Submission id -> its reviews, oldest first (submissions without one are left out)."""
    if not submission_ids:
        return {}
    who, who_name = user_name()
    out: dict[int, list[ReviewView]] = defaultdict(list)
    for sid, action, comment, by, at, level in session.execute(
        select(
            SubmissionReview.submission_id,
            SubmissionReview.action,
            SubmissionReview.comment,
            who_name,
            SubmissionReview.at,
            SubmissionReview.level,
        )
        .outerjoin(who, who.id == SubmissionReview.by_id)
        .where(SubmissionReview.submission_id.in_(submission_ids))
        .order_by(SubmissionReview.id)
    ):
        out[sid].append(ReviewView(action, comment, by, at, level))
    return out
