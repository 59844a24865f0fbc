"""The append-only audit trail: one call per state change, inside the change's own transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, DateTime, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mel.core.db import Base, BigId, utcnow


class AuditEntry(Base):
    """An append-only record of a state change: who, when, what, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=1)


@dataclass(frozen=True)
class Actor:
    """Who made a change: a logged-in user, or the command line (user_id None)."""

    label: str
    user_id: int | None = None
    ip: str | None = None
    role: str | None = None
    """The account's role for a web request; None for the command line (the operator holds the database)."""


CLI = Actor("cli")


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str | None = None,
    entity_id: object = None,
    summary: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            user_id=actor.user_id,
            actor=actor.label,
            ip=actor.ip,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            summary=summary,
            before=before,
            after=after,
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page asks for; empty fields do not filter."""

    action: str | None = None
    actor: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _conditions(filt: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filt.action:
        conditions.append(AuditEntry.action == filt.action)
    if filt.actor:
        conditions.append(func.lower(AuditEntry.actor).contains(filt.actor.lower(), autoescape=True))
    if filt.entity:
        conditions.append(AuditEntry.entity == filt.entity)
    if filt.entity_id:
        conditions.append(AuditEntry.entity_id == filt.entity_id)
    if filt.date_from:
        conditions.append(AuditEntry.at >= dt.datetime.combine(filt.date_from, dt.time()))
    if filt.date_to:
        conditions.append(AuditEntry.at < dt.datetime.combine(filt.date_to + dt.timedelta(days=1), dt.time()))
    return conditions


def audit_entries(session: Session, filt: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the audit log, newest first."""
    conditions = _conditions(filt)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    entries = session.scalars(
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage(list(entries), int(total), page, per_page)


def audit_choices(session: Session) -> tuple[list[str], list[str]]:
    """The actions and entities that occur in the log, for the filter form."""
    actions = session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    entities = session.scalars(
        select(AuditEntry.entity).where(AuditEntry.entity.is_not(None)).distinct().order_by(AuditEntry.entity)
    ).all()
    return list(actions), [e for e in entities if e]
