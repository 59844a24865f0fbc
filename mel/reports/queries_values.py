"""Queries on single values: a reviewer asks about one number, the partner answers in a thread or
with a new version, and the query stays open (counted on the review queue and the quality page)
until a version changes the value or a reviewer closes it.

A query belongs to the partner's quarter and the value's indicator and combination, not to one
version: a new version that leaves the value unchanged keeps it open, one that changes (or drops)
the value resolves it and says so in the thread.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from mel.auth.models import User
from mel.catalog.models import Indicator, Partner
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.core.i18n import Bilingual
from mel.reports.display_names import combination_labels
from mel.reports.models import Submission, Value
from mel.reports.queries_resolve import OPEN
from mel.reports.review import ReviewError, prime_of
from mel.reports.review_models import ValueQuery, ValueQueryMessage


def _user_partner(session: Session, actor: Actor) -> int | None:
    return session.scalar(select(User.partner_id).where(User.id == actor.user_id)) if actor.user_id else None


def asker_level(session: Session, actor: Actor, partner_id: int) -> str:
    """The level a user asks at: staff at ``officer``, a prime's partner user at ``prime`` for its
    sub-recipients; anyone else may not ask (``ReviewError``)."""
    if actor.role in ("admin", "officer") or actor.role is None:
        return "officer"
    if actor.role == "partner":
        mine = _user_partner(session, actor)
        if mine is not None and mine == prime_of(session, partner_id):
            return "prime"
    raise ReviewError("not_allowed", "only reviewers ask about a value")


def ask_query(*, session: Session, value_id: int, question: str, actor: Actor) -> ValueQuery:
    """Attach a question to one stored value of a current version (audited)."""
    question = question.strip()
    if not question:
        raise ReviewError("question_required", "a query needs a question")
    row = session.execute(
        select(
            Value.submission_id,
            Value.partner_id,
            Value.period,
            Value.indicator_id,
            Value.combination_id,
            Value.value,
            Value.sheet,
            Value.cell,
            Submission.status,
        )
        .join(Submission, Submission.id == Value.submission_id)
        .where(Value.id == value_id)
    ).first()
    if row is None:
        raise ReviewError("not_found", f"no value {value_id}")
    sid, partner_id, period, indicator_id, combination_id, number, sheet, cell, status = row
    if status == "superseded":
        raise ReviewError("not_reviewable", "ask about the current version's values")
    level = asker_level(session, actor, partner_id)
    query = ValueQuery(
        partner_id=partner_id,
        period=period,
        indicator_id=indicator_id,
        combination_id=combination_id,
        submission_id=sid,
        value=number,
        sheet=sheet,
        cell=cell,
        question=question,
        level=level,
        status="open",
        asked_by_id=actor.user_id,
        asked_at=utcnow(),
    )
    session.add(query)
    session.flush()
    record(
        session,
        actor=actor,
        action="query.ask",
        entity="value_query",
        entity_id=query.id,
        summary=f"{period} {sheet}!{cell} ({level})",
        after={"submission": sid, "question": question, "level": level},
    )
    return query


def _query_partner(session: Session, query_id: int) -> tuple[ValueQuery, int | None]:
    query = session.get(ValueQuery, query_id)
    if query is None:
        raise ReviewError("not_found", f"no query {query_id}")
    return query, prime_of(session, query.partner_id)


def reply(*, session: Session, query_id: int, body: str, actor: Actor) -> ValueQuery:
    """A message in a query's thread: the queried partner's answer marks it answered, a reviewer's
    follow-up opens it again."""
    body = body.strip()
    if not body:
        raise ReviewError("answer_required", "an answer needs some text")
    query, prime = _query_partner(session, query_id)
    if query.status == "resolved":
        raise ReviewError("resolved", f"query {query_id} is resolved")
    mine = _user_partner(session, actor) if actor.role == "partner" else None
    if actor.role == "partner" and mine == query.partner_id:
        status = "answered"
    elif actor.role in ("admin", "officer", None) or (actor.role == "partner" and mine is not None and mine == prime):
        status = "open"
    else:
        raise ReviewError("not_allowed", "this user may not write in this query")
    session.add(ValueQueryMessage(query_id=query_id, body=body, by_id=actor.user_id, at=utcnow()))
    query.status = status
    record(
        session, actor=actor, action="query.reply", entity="value_query", entity_id=query_id, after={"status": status}
    )
    session.flush()
    return query


def resolve(*, session: Session, query_id: int, actor: Actor) -> ValueQuery:
    """A reviewer closes a query (staff any, a prime's user the ones asked at the prime level)."""
    query, prime = _query_partner(session, query_id)
    if query.status == "resolved":
        return query
    if actor.role == "partner":
        if query.level != "prime" or _user_partner(session, actor) != prime:
            raise ReviewError("not_allowed", "only the reviewers close a query")
    elif actor.role not in ("admin", "officer", None):
        raise ReviewError("not_allowed", "only the reviewers close a query")
    query.status = "resolved"
    query.resolved_by_id = actor.user_id
    query.resolved_at = utcnow()
    record(session, actor=actor, action="query.resolve", entity="value_query", entity_id=query_id)
    session.flush()
    return query


@dataclass
class MessageView:
    body: str
    by: str | None
    at: dt.datetime
    version_change: bool


@dataclass
class QueryView:
    id: int
    partner: str
    partner_id: int
    period: str
    indicator: str
    indicator_name: Bilingual
    combination_id: int
    categories: list[tuple[Bilingual, Bilingual]]
    value: float | None
    sheet: str | None
    cell: str | None
    question: str
    level: str
    status: str
    asked_by: str | None
    asked_at: dt.datetime
    submission_id: int
    messages: list[MessageView] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def list_queries(
    session: Session,
    *,
    partner_ids: list[int],
    periods: list[str] | None = None,
    up_to: str | None = None,
    open_only: bool = False,
) -> list[QueryView]:
    """The queries of these partners' quarters (``periods``, or every quarter up to ``up_to``), each
    with its thread, oldest first."""
    who = aliased(User)
    query = (
        select(
            ValueQuery.id,
            Partner.code,
            ValueQuery.partner_id,
            ValueQuery.period,
            Indicator.code,
            Indicator.name,
            Indicator.name_es,
            ValueQuery.combination_id,
            ValueQuery.value,
            ValueQuery.sheet,
            ValueQuery.cell,
            ValueQuery.question,
            ValueQuery.level,
            ValueQuery.status,
            func.coalesce(who.name, who.email),
            ValueQuery.asked_at,
            ValueQuery.submission_id,
        )
        .join(Partner, Partner.id == ValueQuery.partner_id)
        .join(Indicator, Indicator.id == ValueQuery.indicator_id)
        .outerjoin(who, who.id == ValueQuery.asked_by_id)
        .where(ValueQuery.partner_id.in_(partner_ids or [-1]))
        .order_by(ValueQuery.period, Indicator.position, ValueQuery.id)
    )
    if periods is not None:
        query = query.where(ValueQuery.period.in_(periods or ["-"]))
    if up_to is not None:
        query = query.where(ValueQuery.period <= up_to)
    if open_only:
        query = query.where(ValueQuery.status.in_(OPEN))
    rows = session.execute(query).all()
    labels = combination_labels(session, {r[7] for r in rows})
    views = [
        QueryView(
            qid,
            pcode,
            pid,
            period,
            icode,
            Bilingual(name, name_es),
            combo,
            labels.get(combo, []),
            value,
            sheet,
            cell,
            question,
            level,
            status,
            by,
            at,
            sid,
        )
        for (
            qid,
            pcode,
            pid,
            period,
            icode,
            name,
            name_es,
            combo,
            value,
            sheet,
            cell,
            question,
            level,
            status,
            by,
            at,
            sid,
        ) in rows
    ]
    _attach_messages(session, views)
    return views


def _attach_messages(session: Session, views: list[QueryView]) -> None:
    by_id = {v.id: v for v in views}
    if not by_id:
        return
    who = aliased(User)
    found: dict[int, list[MessageView]] = defaultdict(list)
    for qid, body, by, at, sid in session.execute(
        select(
            ValueQueryMessage.query_id,
            ValueQueryMessage.body,
            func.coalesce(who.name, who.email),
            ValueQueryMessage.at,
            ValueQueryMessage.submission_id,
        )
        .outerjoin(who, who.id == ValueQueryMessage.by_id)
        .where(ValueQueryMessage.query_id.in_(list(by_id)))
        .order_by(ValueQueryMessage.id)
    ):
        found[qid].append(MessageView(body, by, at, sid is not None))
    for qid, messages in found.items():
        by_id[qid].messages = messages


def open_counts(session: Session, partner_ids: list[int] | None = None) -> dict[tuple[int, str], int]:
    """Open queries per (partner, quarter), counted in SQL."""
    query = (
        select(ValueQuery.partner_id, ValueQuery.period, func.count())
        .where(ValueQuery.status.in_(OPEN))
        .group_by(ValueQuery.partner_id, ValueQuery.period)
    )
    if partner_ids is not None:
        query = query.where(ValueQuery.partner_id.in_(partner_ids or [-1]))
    return {(pid, period): int(n) for pid, period, n in session.execute(query)}


def open_total(session: Session, partnership_id: int, partner_ids: list[int] | None = None) -> int:
    """Open queries of a partnership's partners (the quality page's count)."""
    query = (
        select(func.count())
        .select_from(ValueQuery)
        .join(Partner, Partner.id == ValueQuery.partner_id)
        .where(Partner.partnership_id == partnership_id, ValueQuery.status.in_(OPEN))
    )
    if partner_ids is not None:
        query = query.where(ValueQuery.partner_id.in_(partner_ids or [-1]))
    return int(session.scalar(query) or 0)
