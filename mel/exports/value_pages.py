"""The values the API lists: ``mel export values``'s records, for one viewer, one page at a time.

Partner viewers get only their own organization's rows (a prime also its sub-recipients); small
cells of sensitive indicators are hidden with ``hidden_values`` (each partner-quarter a table of its
own, as in the export). Pages follow the value id (keyset), so a page costs the same at any depth.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Partnership
from mel.core.periods import fiscal_label
from mel.exports.values import combination_categories, value_record
from mel.reports.models import Submission, Value
from mel.results.counting import submission_filter
from mel.results.disclosure import Viewer
from mel.results.disclosure.values import hidden_values


def value_page(
    session: Session,
    partnership: Partnership,
    viewer: Viewer,
    *,
    partner_ids: Collection[int] | None = None,
    indicator_id: int | None = None,
    first: str | None = None,
    last: str | None = None,
    after: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Up to ``limit`` value records after value id ``after``; each carries its id as ``_id``."""
    wanted: set[int] | None = None if partner_ids is None else set(partner_ids)
    if viewer.partner_ids is not None:
        wanted = set(viewer.partner_ids) if wanted is None else wanted & viewer.partner_ids
    scope = viewer.scope(partner_ids=sorted(wanted) if wanted is not None else None, first=first, last=last)
    query = (
        select(
            Value.id,
            Indicator.id,
            Indicator.code,
            Indicator.unit,
            Partner.code,
            Value.partner_id,
            Value.period,
            Value.combination_id,
            Value.value,
            Submission.status,
            Submission.id,
            Submission.version,
            Value.sheet,
            Value.cell,
            Value.comment,
        )
        .join(Submission, Submission.id == Value.submission_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .join(Partner, Partner.id == Value.partner_id)
        .where(submission_filter(scope), Indicator.partnership_id == partnership.id)
        .order_by(Value.id)
        .limit(limit)
    )
    if indicator_id is not None:
        query = query.where(Value.indicator_id == indicator_id)
    if after is not None:
        query = query.where(Value.id > after)
    rows = session.execute(query).all()
    if not rows:
        return []
    hide = hidden_values(session, partnership, viewer, viewer.scope(first=first, last=last))
    combos = combination_categories(session, partnership)
    out = []
    for vid, iid, code, unit, partner, pid, period, combo, value, status, sub_id, version, sheet, cell, comment in rows:
        hidden = (iid, pid, period, combo) in hide
        fiscal = fiscal_label(period, partnership.fiscal_year_start)
        record = value_record(
            code, partner, period, fiscal, combos.get(combo, {}), value, unit, hidden,
            status, sub_id, version, sheet, cell, comment,
        )  # fmt: skip
        out.append({"_id": vid, **record})
    return out
