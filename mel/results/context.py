"""Context events an officer records (a lockdown, a political crisis), which the charts mark.

The evaluations asked partners to "systematically monitor the broader contexts": an event with
its dates, regions and pillars sits on the time axis of every indicator chart of the partnership.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mel.catalog.models import PILLARS, ContextEvent, Partnership
from mel.core.audit import Actor, record
from mel.core.i18n import N_


class ContextEventError(ValueError):
    """The event cannot be recorded as given (message is a translatable sentence)."""


def record_context_event(
    *,
    session: Session,
    partnership: Partnership,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    regions: list[str],
    pillars: list[str],
    description: str | None,
    actor: Actor,
) -> ContextEvent:
    """Store one event and its audit entry in the caller's transaction."""
    title = title.strip()
    if not title:
        raise ContextEventError(N_("A title is required."))
    if ends_on is not None and ends_on < starts_on:
        raise ContextEventError(N_("The end date is before the start date."))
    unknown = [p for p in pillars if p not in PILLARS]
    if unknown:
        raise ContextEventError(N_("Unknown pillar."))
    event = ContextEvent(
        partnership_id=partnership.id,
        title=title[:300],
        description=(description or "").strip() or None,
        starts_on=starts_on,
        ends_on=ends_on,
        regions=[r.strip() for r in regions if r.strip()],
        pillars=pillars,
        created_by_id=actor.user_id,
    )
    session.add(event)
    session.flush()
    record(
        session,
        actor=actor,
        action="context_event.create",
        entity="context_event",
        entity_id=event.id,
        summary=f"{partnership.code}: {event.title}",
        after={
            "title": event.title,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
            "regions": event.regions,
            "pillars": event.pillars,
        },
    )
    return event
