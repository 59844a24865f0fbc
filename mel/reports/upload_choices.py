"""What the upload form offers: the partners a user may report for, their ended quarters, the
version that counts now, and the indicators an error names.

Every function here only reads; scoping to what a user may see follows ``CurrentUser``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from mel.auth.identity import CurrentUser
from mel.catalog.calendar import last_ended_quarter
from mel.catalog.models import Indicator, Partner, Partnership, indicator_partner
from mel.core.i18n import Bilingual
from mel.core.periods import fiscal_label, quarter_of, quarters
from mel.reports.models import Submission


@dataclass(frozen=True)
class PartnerChoice:
    id: int
    code: str
    name: str
    parent_code: str | None
    partnership_code: str
    partnership_name: Bilingual
    first_period: str
    last_period: str
    fiscal_year_start: int
    parent_name: str | None = None  # what the page shows: names, not codes

    def fiscal(self, period: str) -> str:
        """The partnership's fiscal label of a calendar quarter (FY2021 Q4 for 2021Q3 when FY starts in October)."""
        return fiscal_label(period, self.fiscal_year_start)


def upload_partner_choices(session: Session, user: CurrentUser) -> list[PartnerChoice]:
    """Partners this user may download templates and upload reports for (only those with indicators).

    A partner user gets their own organization and, for a prime, its sub-recipients; staff get all.
    """
    sub = select(indicator_partner.c.partner_id).distinct().scalar_subquery()
    parent = aliased(Partner)
    query = (
        select(
            Partner.id,
            Partner.code,
            Partner.name,
            parent.code,
            Partnership.code,
            Partnership.name,
            Partnership.name_es,
            Partnership.starts_on,
            Partnership.ends_on,
            Partnership.fiscal_year_start,
            parent.name,
        )
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .outerjoin(parent, parent.id == Partner.parent_id)
        .where(Partner.id.in_(sub))
        .order_by(Partnership.code, Partner.id)
    )
    if user.is_partner:
        query = query.where(Partner.id.in_(list(user.visible_partner_ids) or [-1]))
    return [
        PartnerChoice(
            pid,
            code,
            name,
            pcode,
            partnership_id,
            Bilingual(name_en, name_es),
            quarter_of(start),
            quarter_of(end),
            fy,
            pname,
        )
        for pid, code, name, pcode, partnership_id, name_en, name_es, start, end, fy, pname in session.execute(query)
    ]


def period_choices(choice: PartnerChoice, today: dt.date) -> list[str]:
    """The partnership's quarters that have ended, newest first (a report is about a past quarter)."""
    last = min(choice.last_period, last_ended_quarter(today))
    return list(reversed(list(quarters(choice.first_period, last))))


@dataclass(frozen=True)
class CurrentVersion:
    id: int
    version: int
    status: str


def current_version(session: Session, partner_id: int, period: str) -> CurrentVersion | None:
    """The version that counts now for a partner and period (None when nothing was uploaded)."""
    row = session.execute(
        select(Submission.id, Submission.version, Submission.status).where(
            Submission.partner_id == partner_id, Submission.period == period, Submission.status != "superseded"
        )
    ).first()
    return CurrentVersion(*row) if row else None


def indicator_labels(session: Session, indicator_ids: set[int]) -> dict[int, Bilingual]:
    """ "code · name" of each indicator, in both languages: the upload page names an error's row."""
    rows = session.execute(
        select(Indicator.id, Indicator.code, Indicator.name, Indicator.name_es).where(Indicator.id.in_(indicator_ids))
    )
    return {id_: Bilingual(name, name_es).after(f"{code} · ") for id_, code, name, name_es in rows}
