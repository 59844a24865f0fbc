"""The target history of a partnership as a viewer may read it: every original and revised target.

Partner users read the targets of the whole indicator and their own organization's; viewers under
small-cell suppression do not read category targets of a sensitive indicator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.catalog.models import Indicator, Partnership
from mel.catalog.targets import revisions_of
from mel.core.i18n import Bilingual
from mel.results.disclosure import Viewer


@dataclass(frozen=True)
class RevisionRow:
    """One recorded target value; names in English and Spanish, shown with ``.label(lang)``."""

    target_id: int
    indicator: str
    name: Bilingual
    period: str  # '' (life of partnership) | FY2021 | 2021Q3
    partner: str | None  # partner name of a partner target
    category: Bilingual | None  # 'Sex: Female' of a category target
    value: float
    previous: float | None  # the value it replaced; None for an original
    effective_from: str | None
    decided_on: dt.date | None
    reason: str | None
    approved_by: str | None
    source: str
    recorded_by: str | None
    recorded_at: dt.datetime

    @property
    def original(self) -> bool:
        return self.previous is None


def target_history(
    session: Session, partnership: Partnership, viewer: Viewer, *, revised_only: bool = False
) -> list[RevisionRow]:
    """Every recorded target value of the partnership that ``viewer`` may read, in catalog order."""
    partners = {p.id: p.name for p in partnership.partners}
    categories = {
        c.id: tuple(f"{d.label(lang)}: {c.label(lang)}" for lang in ("en", "es"))
        for d in partnership.dimensions
        for c in d.categories
    }
    indicators: list[Indicator] = sorted(partnership.indicators, key=lambda i: i.position)
    entries = [
        (ind, target, rev, previous)
        for ind in indicators
        for target, rev, previous in revisions_of(ind.targets)
        if (target.partner_id is None or viewer.sees_rows_of(target.partner_id))
        and not (target.category_id is not None and viewer.hides(ind.sensitive))
    ]
    users = {rev.recorded_by_id for _i, _t, rev, _p in entries if rev.recorded_by_id}
    names: dict[int, str] = {}
    for uid, email in session.execute(select(User.id, User.email).where(User.id.in_(users or {-1}))):
        names[uid] = email
    rows = []
    for ind, target, rev, previous in entries:
        if revised_only and previous is None and len(target.revisions) < 2:
            continue
        category = categories.get(target.category_id) if target.category_id else None
        rows.append(
            RevisionRow(
                target_id=target.id,
                indicator=ind.code,
                name=Bilingual(ind.label("en"), ind.label("es")),
                period=target.period,
                partner=partners.get(target.partner_id) if target.partner_id else None,
                category=Bilingual(*category) if category else None,
                value=rev.value,
                previous=previous,
                effective_from=rev.effective_from,
                decided_on=rev.decided_on,
                reason=rev.reason,
                approved_by=rev.approved_by,
                source=rev.source,
                recorded_by=names.get(rev.recorded_by_id) if rev.recorded_by_id and viewer.staff else None,
                recorded_at=rev.recorded_at,
            )
        )
    return rows
