"""The review queue: current versions awaiting review, and what to filter them by. Only reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership
from mel.core.i18n import Bilingual
from mel.core.periods import fiscal_label
from mel.reports.display_names import user_name
from mel.reports.models import ImportWarning, Submission
from mel.reports.queries_values import open_counts
from mel.reports.review import level_expression


@dataclass(frozen=True)
class QueueRow:
    id: int
    partnership: str
    partner: str
    partner_name: str
    period: str
    fiscal_period: str
    version: int
    uploaded_at: dt.datetime
    uploaded_by: str | None
    warnings: int
    reason: str | None
    level: str = "officer"
    """``prime`` while a sub-recipient's report awaits its prime partner's review."""
    prime_id: int | None = None
    open_queries: int = 0


def review_queue(session: Session, *, partnership: str | None = None, partner: str | None = None) -> list[QueueRow]:
    """Current versions awaiting review, oldest upload first, with their count of import warnings."""
    who, who_name = user_name()
    warnings = (
        select(ImportWarning.submission_id, func.count().label("n")).group_by(ImportWarning.submission_id).subquery()
    )
    query = (
        select(
            Submission.id,
            Partnership.code,
            Partner.code,
            Partner.name,
            Submission.period,
            Partnership.fiscal_year_start,
            Submission.version,
            Submission.uploaded_at,
            who_name,
            func.coalesce(warnings.c.n, 0),
            Submission.reason,
            level_expression(),
            Partner.parent_id,
            Submission.partner_id,
        )
        .join(Partner, Partner.id == Submission.partner_id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .outerjoin(who, who.id == Submission.uploaded_by_id)
        .outerjoin(warnings, warnings.c.submission_id == Submission.id)
        .where(Submission.status == "submitted")
        .order_by(Submission.uploaded_at, Submission.id)
    )
    if partnership:
        query = query.where(Partnership.code == partnership)
    if partner:
        query = query.where(Partner.code == partner)
    rows = session.execute(query).all()
    counts = open_counts(session, list({r[-1] for r in rows}))
    return [
        QueueRow(
            sid,
            found,
            code,
            name,
            period,
            fiscal_label(period, fy),
            version,
            at,
            by,
            int(n),
            reason,
            level,
            prime,
            counts.get((pid, period), 0),
        )
        for sid, found, code, name, period, fy, version, at, by, n, reason, level, prime, pid in rows
    ]


@dataclass(frozen=True)
class FilterOption:
    code: str
    name: Bilingual
    partnership: str


def queue_filters(session: Session) -> tuple[list[FilterOption], list[FilterOption]]:
    """Partnerships and partners to filter the review queue by."""
    partnerships = [
        FilterOption(code, Bilingual(name, name_es), code)
        for code, name, name_es in session.execute(
            select(Partnership.code, Partnership.name, Partnership.name_es).order_by(Partnership.code)
        )
    ]
    partners = [
        FilterOption(code, Bilingual(name), partnership)  # a partner's name is the same in both
        for code, name, partnership in session.execute(
            select(Partner.code, Partner.name, Partnership.code)
            .join(Partnership, Partnership.id == Partner.partnership_id)
            .order_by(Partnership.code, Partner.code)
        )
    ]
    return partnerships, partners
