"""Reviewing submissions: approve or return, the version history, and what changed between versions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, Exists, and_, case, func, select
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.catalog.models import Category, CombinationMember, Dimension, Indicator, Partner
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.reports.models import StoredFile, Submission, SubmissionReview, Value
from mel.reports.storage import lock_partner

Action = Literal["approved", "returned"]


class ReviewError(ValueError):
    """A review that cannot be done; the message says why, in English (routes translate by ``code``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def review_submission(
    *, session: Session, submission_id: int, action: str, comment: str | None, actor: Actor
) -> Submission:
    """Approve or return a submitted version at its level; a return must say what to change.

    A sub-recipient's version is first reviewed by a partner user of its prime (``prime`` level):
    the prime's approval sends it on to the officers, its return ends the version like an officer's.
    Officers and admins approve at the ``officer`` level only; they may return at either.
    """
    if action not in ("approved", "returned"):
        raise ReviewError("bad_action", f"unknown review action {action!r}")
    comment = (comment or "").strip() or None
    if action == "returned" and not comment:
        raise ReviewError("comment_required", "a returned report needs a comment saying what to change")
    partner_id = session.scalar(select(Submission.partner_id).where(Submission.id == submission_id))
    if partner_id is None:
        raise ReviewError("not_found", f"no submission {submission_id}")
    lock_partner(session, partner_id)  # a new version arriving meanwhile would supersede this one
    submission = session.get(Submission, submission_id, populate_existing=True)
    assert submission is not None
    if submission.status != "submitted":
        raise ReviewError("not_reviewable", f"submission {submission_id} is {submission.status}, not submitted")
    level = review_level(session, submission_id)
    check_reviewer(session, actor, level, partner_id, action)
    own = own_upload(submission, actor)
    if own and action == "approved" and actor.role != "admin":
        raise ReviewError("own_upload", f"submission {submission_id} was uploaded by {actor.label}: four eyes")
    now = utcnow()
    moves_on = level == "prime" and action == "approved"  # on to the officers: still awaiting review
    if not moves_on:
        submission.status = action
        submission.reviewed_by_id = actor.user_id
        submission.reviewed_at = now
        submission.review_comment = comment
    session.add(
        SubmissionReview(
            submission_id=submission_id, action=action, level=level, comment=comment, by_id=actor.user_id, at=now
        )
    )
    verb = "approve" if action == "approved" else "return"
    record(
        session,
        actor=actor,
        action=f"submission.{'prime_' if level == 'prime' else ''}{verb}",
        entity="submission",
        entity_id=submission_id,
        summary=f"v{submission.version} {submission.period} {action} ({level} review)",
        before={"status": "submitted", "level": level},
        after={
            "status": submission.status,
            "level": "officer" if moves_on else level,
            "comment": comment,
            **({"own_upload": True} if own else {}),
        },
    )
    if own and action == "approved":
        record(
            session,
            actor=actor,
            action="submission.approve_own_upload",
            entity="submission",
            entity_id=submission_id,
            summary=f"v{submission.version} {submission.period} approved by the admin who uploaded it",
        )
    session.flush()
    return submission


Level = Literal["prime", "officer"]


def prime_approved() -> Exists:
    """SQL: whether a submission has its prime's approval (correlated on ``Submission.id``)."""
    return (
        select(SubmissionReview.id)
        .where(
            SubmissionReview.submission_id == Submission.id,
            SubmissionReview.level == "prime",
            SubmissionReview.action == "approved",
        )
        .exists()
    )


def level_expression() -> ColumnElement[str]:
    """SQL: the review level of a submission awaiting review (needs ``Partner`` joined on its partner)."""
    return case((and_(Partner.parent_id.is_not(None), ~prime_approved()), "prime"), else_="officer")


def review_level(session: Session, submission_id: int) -> Level:
    """``prime`` while a sub-recipient's version awaits its prime partner's review, else ``officer``."""
    found = session.scalar(
        select(level_expression())
        .select_from(Submission)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(Submission.id == submission_id)
    )
    return "prime" if found == "prime" else "officer"


def prime_of(session: Session, partner_id: int) -> int | None:
    return session.scalar(select(Partner.parent_id).where(Partner.id == partner_id))


def check_reviewer(session: Session, actor: Actor, level: str, partner_id: int, action: str) -> None:
    """Who may act at a level: the prime's partner users at ``prime`` (another prime's never), staff
    at ``officer`` (and returns at ``prime``); the command line (no role) at either."""
    if actor.role is None:
        return
    if actor.role == "partner":
        own_partner = session.scalar(select(User.partner_id).where(User.id == actor.user_id))
        if level != "prime" or own_partner is None or own_partner != prime_of(session, partner_id):
            raise ReviewError("not_your_level", "only a partner user of the prime partner reviews at the prime level")
        return
    if actor.role not in ("admin", "officer"):
        raise ReviewError("not_your_level", f"a {actor.role} does not review reports")
    if level == "prime" and action == "approved":
        raise ReviewError("awaiting_prime", "the prime partner reviews this sub-recipient's report first")


def can_review(session: Session, submission_id: int, user_id: int, role: str, partner_id: int | None) -> bool:
    """Whether the page offers the review form to this user (the service decides again on POST)."""
    status, sub_partner = session.execute(
        select(Submission.status, Submission.partner_id).where(Submission.id == submission_id)
    ).one()
    if status != "submitted":
        return False
    level = review_level(session, submission_id)
    if role == "partner":
        return level == "prime" and partner_id is not None and partner_id == prime_of(session, sub_partner)
    return role in ("admin", "officer")


def approval_refused(session: Session, submission_id: int, user_id: int, role: str) -> bool:
    """Whether the page should offer no Approve button: an officer's own upload (four eyes)."""
    uploader = session.scalar(select(Submission.uploaded_by_id).where(Submission.id == submission_id))
    return role != "admin" and uploader is not None and uploader == user_id


def own_upload(submission: Submission, actor: Actor) -> bool:
    """Four eyes: whether ``actor`` uploaded this version (officers may not approve it; admins may, audited)."""
    return actor.user_id is not None and submission.uploaded_by_id == actor.user_id


@dataclass
class ReviewLine:
    action: str
    comment: str | None
    by: str | None
    at: dt.datetime
    level: str = "officer"


@dataclass
class VersionLine:
    """One version of a partner's report for a period, as the history page lists it."""

    id: int
    version: int
    status: str
    uploaded_at: dt.datetime
    uploaded_by: str | None
    reason: str | None
    file_sha256: str
    file_name: str
    values: int
    reviews: list[ReviewLine] = field(default_factory=list)


def submission_history(session: Session, *, partner_id: int, period: str) -> list[VersionLine]:
    """Every version of one partner's report for one period, newest first, with its reviews."""
    counts = select(Value.submission_id, func.count().label("n")).group_by(Value.submission_id).subquery("counts")
    rows = session.execute(
        select(
            Submission.id,
            Submission.version,
            Submission.status,
            Submission.uploaded_at,
            User.email,
            Submission.reason,
            Submission.file_sha256,
            StoredFile.original_name,
            func.coalesce(counts.c.n, 0),
        )
        .join(StoredFile, StoredFile.sha256 == Submission.file_sha256)
        .outerjoin(User, User.id == Submission.uploaded_by_id)
        .outerjoin(counts, counts.c.submission_id == Submission.id)
        .where(Submission.partner_id == partner_id, Submission.period == period)
        .order_by(Submission.version.desc())
    ).all()
    lines = [VersionLine(*row) for row in rows]
    by_id = {line.id: line for line in lines}
    if by_id:
        reviews = session.execute(
            select(
                SubmissionReview.submission_id,
                SubmissionReview.action,
                SubmissionReview.comment,
                User.email,
                SubmissionReview.at,
                SubmissionReview.level,
            )
            .outerjoin(User, User.id == SubmissionReview.by_id)
            .where(SubmissionReview.submission_id.in_(by_id))
            .order_by(SubmissionReview.id)
        )
        for sid, action, comment, email, at, level in reviews:
            by_id[sid].reviews.append(ReviewLine(action, comment, email, at, level))
    return lines


@dataclass
class DiffLine:
    indicator: str
    categories: dict[str, str]
    """Dimension code -> category code; ``{}`` for the total."""
    old: float | None
    new: float | None

    @property
    def change(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "unchanged" if self.old == self.new else "changed"


@dataclass
class SubmissionDiff:
    submission_id: int
    previous_id: int | None
    version: int
    previous_version: int | None
    lines: list[DiffLine]

    @property
    def changed(self) -> list[DiffLine]:
        """The lines that differ (added, removed or changed)."""
        return [line for line in self.lines if line.change != "unchanged"]


def submission_diff(session: Session, submission_id: int) -> SubmissionDiff:
    """Values of a version against the version before it: per indicator and combination, old and new."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise ReviewError("not_found", f"no submission {submission_id}")
    previous = session.execute(
        select(Submission.id, Submission.version)
        .where(
            Submission.partner_id == sub.partner_id,
            Submission.period == sub.period,
            Submission.version < sub.version,
        )
        .order_by(Submission.version.desc())
        .limit(1)
    ).first()
    ids = [submission_id] + ([previous[0]] if previous else [])
    rows = session.execute(
        select(Value.submission_id, Indicator.code, Indicator.position, Value.combination_id, Value.value)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.submission_id.in_(ids))
    ).all()
    old: dict[tuple[str, int], float] = {}
    new: dict[tuple[str, int], float] = {}
    order: dict[str, int] = {}
    for sid, code, position, combo, number in rows:
        (new if sid == submission_id else old)[(code, combo)] = number
        order[code] = position
    categories = _categories(session, {combo for _code, combo in old.keys() | new.keys()})
    keys = sorted(
        old.keys() | new.keys(),
        key=lambda k: (order[k[0]], k[0], len(categories.get(k[1], {})), sorted(categories.get(k[1], {}).items())),
    )
    lines = [
        DiffLine(code, categories.get(combo, {}), old.get((code, combo)), new.get((code, combo)))
        for code, combo in keys
    ]
    return SubmissionDiff(
        submission_id, previous[0] if previous else None, sub.version, previous[1] if previous else None, lines
    )


def _categories(session: Session, combination_ids: set[int]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = defaultdict(dict)
    ids = list(combination_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(CombinationMember.combination_id, Dimension.code, Category.code)
            .join(Category, Category.id == CombinationMember.category_id)
            .join(Dimension, Dimension.id == CombinationMember.dimension_id)
            .where(CombinationMember.combination_id.in_(ids[start : start + 500]))
        )
        for combo, dim, cat in rows:
            found[combo][dim] = cat
    return dict(found)


def partner_code(session: Session, partner_id: int) -> str | None:
    return session.scalar(select(Partner.code).where(Partner.id == partner_id))
