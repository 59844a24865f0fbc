"""When a report was received: the upload day, or the day an officer records for a report that
arrived earlier by e-mail or on paper and was entered later. Timeliness (``mel.reports.calendar``)
reads it; every change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mel.core.audit import Actor, record
from mel.core.periods import quarter_start
from mel.reports.models import Submission


class ReceivedRefused(ValueError):
    """The date cannot be the day this report was received; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Received:
    submission_id: int
    period: str
    uploaded_on: dt.date
    received_on: dt.date  # the recorded day, else the upload day
    recorded: bool  # an officer recorded it


def received_of(session: Session, submission_id: int) -> Received | None:
    sub = session.get(Submission, submission_id)
    if sub is None:
        return None
    uploaded = sub.uploaded_at.date()
    return Received(sub.id, sub.period, uploaded, sub.received_on or uploaded, sub.received_on is not None)


def set_received_on(session: Session, *, submission_id: int, received_on: dt.date | None, actor: Actor) -> Received:
    """Record the day a report arrived (None: back to the upload day).

    It cannot be after the upload (the file was in hand by then) nor before the quarter began.
    """
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise ReceivedRefused("not_found")
    uploaded = sub.uploaded_at.date()
    if received_on is not None:
        if received_on > uploaded:
            raise ReceivedRefused("after_upload")
        if received_on < quarter_start(sub.period):
            raise ReceivedRefused("before_quarter")
    before = sub.received_on
    if before != received_on:
        sub.received_on = received_on
        record(
            session,
            actor=actor,
            action="submission.received_on",
            entity="submission",
            entity_id=sub.id,
            summary=f"{sub.period} v{sub.version}: received on {(received_on or uploaded).isoformat()}",
            before={"received_on": before.isoformat() if before else None},
            after={"received_on": received_on.isoformat() if received_on else None},
        )
        session.flush()
    return Received(sub.id, sub.period, uploaded, sub.received_on or uploaded, sub.received_on is not None)
