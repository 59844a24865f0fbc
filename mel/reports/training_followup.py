"""An officer's follow-up of one training event: counts of its participants met again months later.

Partners send follow-up on the Follow-up sheet of a later report; an officer who called or visited
the trained offices enters the same counts beside the event. One write, checked like a sheet row
(in post and applying within reached, reached within the event's participants), refused when that
event already has a follow-up after the same number of months (from a report or an officer), so
that pooled rates never count the same people twice. Counts only, never names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner
from mel.core import periods
from mel.core.audit import Actor, record
from mel.core.i18n import N_
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent, TrainingFollowUp

MAX_MONTHS = 120
MESSAGES = {
    "unknown_event": N_("This training event does not exist in this partnership."),
    "months": N_("Write how many months after the training the follow-up was made: 1 to 120."),
    "negative": N_("Counts are whole numbers, 0 or more."),
    "in_post": N_("Still in post cannot be more than reached."),
    "applying": N_("Applying the skills cannot be more than reached."),
    "reached": N_("Reached cannot be more than the event's participants."),
    "duplicate": N_("This event already has a follow-up after that many months."),
}
"""Each refusal's message (English msgid; the route translates it)."""


class FollowUpRefused(Exception):
    """A follow-up that cannot be stored; ``code`` is a key of ``MESSAGES``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class FollowUpCounts:
    """What the officer typed."""

    months: int
    reached: int
    in_post: int
    applying: int


def followup_period(start: dt.date, months: int) -> str:
    """The quarter the follow-up was made in: ``months`` after the course started, never in the future."""
    index = start.year * 12 + start.month - 1 + months
    when = dt.date(index // 12, index % 12 + 1, 1)
    return periods.quarter_of(min(when, periods.today()))


def enter_followup(
    session: Session, *, partnership_id: int, event_id: int, counts: FollowUpCounts, actor: Actor
) -> TrainingFollowUp:
    """Store an officer's follow-up of event ``event_id`` (of partnership ``partnership_id``) and audit it."""
    found = session.execute(
        select(TrainingEvent.title, TrainingEvent.start_date, Submission.partner_id)
        .join(Submission, Submission.id == TrainingEvent.submission_id)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(TrainingEvent.id == event_id, Partner.partnership_id == partnership_id)
    ).first()
    if found is None:
        raise FollowUpRefused("unknown_event")
    title, start, partner_id = found
    people = session.scalar(
        select(func.sum(TrainingAttendance.female + TrainingAttendance.male + TrainingAttendance.other)).where(
            TrainingAttendance.event_id == event_id
        )
    )
    participants = int(people or 0)
    _check(counts, participants)
    again = select(TrainingFollowUp.id).where(
        TrainingFollowUp.partner_id == partner_id,
        TrainingFollowUp.title == title,
        TrainingFollowUp.start_date == start,
        TrainingFollowUp.months == counts.months,
    )
    if session.scalar(again.limit(1)) is not None:
        raise FollowUpRefused("duplicate")
    row = TrainingFollowUp(
        submission_id=None,
        partner_id=partner_id,
        period=followup_period(start, counts.months),
        title=title,
        start_date=start,
        months=counts.months,
        participants=participants,
        reached=counts.reached,
        in_post=counts.in_post,
        applying=counts.applying,
        entered_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="training.followup",
        entity="training_event",
        entity_id=event_id,
        summary=f"follow-up after {counts.months} months: {counts.reached} reached",
        after={**asdict(counts), "participants": participants, "followup_id": row.id},
    )
    return row


def _check(counts: FollowUpCounts, participants: int) -> None:
    if not 1 <= counts.months <= MAX_MONTHS:
        raise FollowUpRefused("months")
    if min(counts.reached, counts.in_post, counts.applying) < 0:
        raise FollowUpRefused("negative")
    if counts.in_post > counts.reached:
        raise FollowUpRefused("in_post")
    if counts.applying > counts.reached:
        raise FollowUpRefused("applying")
    if counts.reached > participants:
        raise FollowUpRefused("reached")
