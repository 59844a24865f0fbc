"""Issue 12, four eyes: an officer cannot approve a report version their own account uploaded; an admin
may, and that approval is audited as such."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.core.audit import Actor, AuditEntry
from mel.reports.models import Submission
from mel.reports.review import ReviewError, review_submission
from tests.html_soup import soup
from tests.report_factory import PERIOD, _review, csrf
from tests.value_factory import add_submission

Login = Callable[..., TestClient]
OWN = "You uploaded this version: another program officer or an administrator must approve it."


def user_id(session: Session, email: str) -> int:
    found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def uploaded_by(session: Session, email: str, period: str = PERIOD) -> Submission:
    """A report of ilo awaiting review, uploaded by ``email``'s account."""
    sub = add_submission(session, partner="ilo", period=period, values=[("1.2.a", {}, 3.0)], status="submitted")
    sub.uploaded_by_id = user_id(session, email)
    session.commit()
    return sub


def status_of(session: Session, sid: int) -> str:
    session.expire_all()
    sub = session.get(Submission, sid)
    assert sub is not None
    return sub.status


def audit(session: Session, sid: int) -> list[tuple[str, Any]]:
    session.expire_all()
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.after)
        .where(AuditEntry.entity == "submission", AuditEntry.entity_id == str(sid))
        .order_by(AuditEntry.id)
    )
    return [(action, after) for action, after in rows]


def test_officer_cannot_approve_own_upload(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "officer", email="uploader@example.org")
    sub = uploaded_by(session, "uploader@example.org")
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert page.select_one("form.review-form button[value=approve]") is None
    assert page.select_one("form.review-form button[value=return]") is not None
    note = page.select_one(".own-upload")
    assert note is not None and note.get_text(strip=True) == OWN

    htmx = soup(_review(client, sub.id, "approve").text)
    error = htmx.select_one(".review-error")
    assert error is not None and error.get_text(strip=True) == OWN
    no_js = _review(client, sub.id, "approve", htmx=False)
    assert no_js.status_code == 403
    assert status_of(session, sub.id) == "submitted"
    assert audit(session, sub.id) == []

    # in Spanish too
    client.cookies.set("mel_lang", "es")
    spanish = soup(_review(client, sub.id, "approve").text).select_one(".review-error")
    assert spanish is not None
    assert (
        spanish.get_text(strip=True)
        == "Usted subió esta versión: otro oficial de programa o un administrador debe aprobarla."
    )
    client.cookies.delete("mel_lang")

    # another officer approves it
    login_as(client, "officer", email="second@example.org")
    assert soup(client.get(f"/submissions/{sub.id}").text).select_one("button[value=approve]") is not None
    assert _review(client, sub.id, "approve", htmx=False).status_code == 303
    assert status_of(session, sub.id) == "approved"
    assert [a for a, _ in audit(session, sub.id)] == ["submission.approve"]
    assert "own_upload" not in audit(session, sub.id)[0][1]


def test_officer_may_return_own_upload(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "officer", email="uploader@example.org")
    sub = uploaded_by(session, "uploader@example.org")
    assert _review(client, sub.id, "return", "Region totals missing", htmx=False).status_code == 303
    assert status_of(session, sub.id) == "returned"


def test_admin_may_approve_own_upload_and_it_is_audited(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "admin", email="boss@example.org")
    sub = uploaded_by(session, "boss@example.org")
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert page.select_one("button[value=approve]") is not None and page.select_one(".own-upload") is None
    csrf(client, f"/submissions/{sub.id}")
    assert _review(client, sub.id, "approve", htmx=False).status_code == 303
    assert status_of(session, sub.id) == "approved"
    entries = audit(session, sub.id)
    assert [a for a, _ in entries] == ["submission.approve", "submission.approve_own_upload"]
    assert entries[0][1]["own_upload"] is True


def test_review_service_refuses_officer_own_upload(session: Session) -> None:
    from mel.auth.service import create_user
    from mel.core.audit import CLI

    officer = create_user(session=session, email="o@example.org", password="long-enough-pw", role="officer", actor=CLI)
    sub = add_submission(session, partner="ilo", period=PERIOD, values=[("1.2.a", {}, 3.0)], status="submitted")
    sub.uploaded_by_id = officer.id
    session.flush()
    actor = Actor(officer.email, officer.id, "10.0.0.1", role="officer")
    with pytest.raises(ReviewError) as refused:
        review_submission(session=session, submission_id=sub.id, action="approved", comment=None, actor=actor)
    assert refused.value.code == "own_upload"
    second = create_user(session=session, email="o2@example.org", password="long-enough-pw", role="officer", actor=CLI)
    other = Actor(second.email, second.id, "10.0.0.2", role="officer")
    approved = review_submission(session=session, submission_id=sub.id, action="approved", comment=None, actor=other)
    assert approved.status == "approved" and approved.reviewed_by_id == second.id
