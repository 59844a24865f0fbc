"""A new version resolves the open queries on the values it changed or dropped.

Apart from ``mel.reports.queries_values`` (asking, answering, listing) because every stored report
runs this: the importer then loads only the query tables, not the review workflow behind them.
"""

from __future__ import annotations

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, aliased

from mel.core.db import utcnow
from mel.reports.models import Value
from mel.reports.review_models import ValueQuery, ValueQueryMessage

OPEN = ("open", "answered")
"""Statuses of a query that is not resolved: both count as open queries."""


def on_new_version(session: Session, *, submission_id: int, partner_id: int, period: str, version: int) -> int:
    """Resolve the open queries whose value the new version changed or dropped (the thread says how);
    the others stay open. Returns how many were resolved."""
    new = aliased(Value)
    rows = session.execute(
        select(ValueQuery.id, ValueQuery.value, new.value)
        .outerjoin(
            new,
            and_(
                new.submission_id == submission_id,
                new.indicator_id == ValueQuery.indicator_id,
                new.combination_id == ValueQuery.combination_id,
            ),
        )
        .where(ValueQuery.partner_id == partner_id, ValueQuery.period == period, ValueQuery.status.in_(OPEN))
    ).all()
    changed = [(qid, old, now) for qid, old, now in rows if now is None or old is None or now != old]
    if not changed:
        return 0
    at = utcnow()
    session.execute(
        update(ValueQuery)
        .where(ValueQuery.id.in_([qid for qid, _old, _now in changed]))
        .values(status="resolved", resolved_at=at, resolved_submission_id=submission_id)
    )
    session.add_all(
        ValueQueryMessage(
            query_id=qid,
            body=f"v{version}: {_plain(old)} → {_plain(now)}",
            at=at,
            submission_id=submission_id,
        )
        for qid, old, now in changed
    )
    session.flush()
    return len(changed)


def _plain(number: float | None) -> str:
    if number is None:
        return "—"
    return f"{number:g}"
