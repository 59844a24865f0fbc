"""What a submission page shows beyond the version itself: its review level, the queries on its
values, its evidence and the evidence still missing. Reads only; the routes pass who is looking."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.identity import STAFF, CurrentUser
from mel.catalog.models import Partner
from mel.reports.evidence import list_evidence, missing_evidence
from mel.reports.models import Submission, Value
from mel.reports.queries_values import list_queries
from mel.reports.review import can_review, prime_of, review_level


def may_ask(session: Session, user: CurrentUser, partner_id: int) -> bool:
    """Staff ask about any value; a prime partner's users about their sub-recipients' values."""
    if user.role in STAFF:
        return True
    return user.is_partner and user.partner_id is not None and user.partner_id == prime_of(session, partner_id)


def may_answer(user: CurrentUser, partner_id: int) -> bool:
    """The queried partner's own users answer (a prime's users review, they do not answer)."""
    return user.is_partner and user.partner_id == partner_id


def may_close(user: CurrentUser, level: str, asks: bool) -> bool:
    """Who closes a query, as ``queries_values.resolve`` checks it: whoever may ask here, if staff, or if
    the query was asked at the prime's level."""
    return asks and (user.role in STAFF or level == "prime")


def value_ids(session: Session, submission_id: int) -> dict[str, int]:
    """``Sheet!Cell`` → value id of a version, to attach a query or evidence to a row of the page."""
    return {
        f"{sheet}!{cell}": vid
        for vid, sheet, cell in session.execute(
            select(Value.id, Value.sheet, Value.cell).where(Value.submission_id == submission_id)
        )
    }


def followup_context(
    session: Session, user: CurrentUser, submission_id: int, partner_id: int, period: str
) -> dict[str, Any]:
    """Level, queries, evidence and missing evidence of one submission page, for this viewer."""
    status = session.scalar(select(Submission.status).where(Submission.id == submission_id))
    prime_id = prime_of(session, partner_id)
    prime_name = session.scalar(select(Partner.name).where(Partner.id == prime_id)) if prime_id else None
    queries = list_queries(session, partner_ids=[partner_id], periods=[period])
    asks = status != "superseded" and may_ask(session, user, partner_id)
    return {
        "review_level": review_level(session, submission_id) if status == "submitted" else None,
        "prime_name": prime_name,
        "can_review": can_review(session, submission_id, user.id, user.role, user.partner_id),
        "value_queries": queries,
        "open_query_count": sum(1 for q in queries if q.is_open),
        "may_ask": asks,
        "closable_queries": {q.id for q in queries if may_close(user, q.level, asks)},
        "may_answer": may_answer(user, partner_id),
        "may_attach": user.role in STAFF or user.sees_partner(partner_id),
        "evidence": list_evidence(session, partner_ids=[partner_id], period=period),
        "missing_evidence": missing_evidence(session, submission_id),
        "value_cells": value_ids(session, submission_id),
    }
