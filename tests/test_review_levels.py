"""Two-level review: a sub-recipient's report is reviewed by its prime partner, then by an officer;
queries on single values are answered in a thread or by a new version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.catalog.models import Indicator
from mel.core.audit import Actor, AuditEntry
from mel.core.settings import Settings
from mel.reports.models import Submission, SubmissionReview, Value
from mel.reports.queries_values import ask_query, open_counts
from mel.reports.review import ReviewError, review_level, review_submission
from mel.reports.review_models import ValueQuery, ValueQueryMessage
from mel.reports.service import import_workbook
from mel.workbooks.report_writer import IndicatorRow
from tests.html_soup import soup
from tests.report_factory import PERIOD, _review, csrf, workbook
from tests.value_factory import add_submission

Login = Callable[..., TestClient]


def chs_report(session: Session, number: float = 40.0, period: str = PERIOD) -> Submission:
    sub = add_submission(session, partner="chs", period=period, values=[("2.2.a", {}, number)], status="submitted")
    session.commit()
    return sub


def fresh(session: Session, sid: int) -> Submission:
    session.expire_all()
    found = session.get(Submission, sid)
    assert found is not None
    return found


def audit_actions(session: Session, entity: str, entity_id: int) -> list[tuple[str, Any]]:
    session.expire_all()
    return [
        (action, after)
        for action, after in session.execute(
            select(AuditEntry.action, AuditEntry.after)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        )
    ]


def user_actor(session: Session, email: str, role: str) -> Actor:
    uid = session.scalar(select(User.id).where(User.email == email))
    assert uid is not None
    return Actor(email, uid, role=role)


def test_prime_approval_then_officer_approval(client: TestClient, login_as: Login, session: Session) -> None:
    sub = chs_report(session)
    ilo_only = add_submission(session, partner="ilo", period=PERIOD, values=[("1.2.a", {}, 2.0)], status="submitted")
    session.commit()
    assert review_level(session, sub.id) == "prime"
    assert review_level(session, ilo_only.id) == "officer"  # a prime's own report goes to the officer

    # the officer sees the level on the queue and may not approve yet
    login_as(client, "officer")
    queue = soup(client.get("/review").text)
    row = queue.select_one(f"tr.queued[data-id='{sub.id}']")
    assert row is not None and row["data-level"] == "prime"
    assert queue.select_one(f"tr.queued[data-id='{ilo_only.id}']")["data-level"] == "officer"  # type: ignore[index]
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert page.select_one(".review-level[data-level=prime]") is not None
    assert page.select_one("form.review-form button[value=approve]") is None
    assert _review(client, sub.id, "approve", htmx=False).status_code == 403
    assert fresh(session, sub.id).status == "submitted"

    # ILO's user reviews it at the prime level: it stays awaiting review, now at the officer's level
    login_as(client, "partner", partner="ilo")
    prime_queue = soup(client.get("/review").text)
    assert [tr["data-id"] for tr in prime_queue.select("tr.queued")] == [str(sub.id)]
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert page.select_one("form.review-form button[value=approve]") is not None
    assert _review(client, sub.id, "approve", htmx=False).status_code == 303
    assert fresh(session, sub.id).status == "submitted"
    assert review_level(session, sub.id) == "officer"
    # the prime may not act again at the officer's level
    assert _review(client, sub.id, "approve", htmx=False).status_code == 403

    login_as(client, "officer")
    assert soup(client.get("/review").text).select_one(f"tr.queued[data-id='{sub.id}']")["data-level"] == "officer"  # type: ignore[index]
    assert _review(client, sub.id, "approve", htmx=False).status_code == 303
    assert fresh(session, sub.id).status == "approved"

    levels = session.execute(
        select(SubmissionReview.level, SubmissionReview.action)
        .where(SubmissionReview.submission_id == sub.id)
        .order_by(SubmissionReview.id)
    ).all()
    assert [tuple(r) for r in levels] == [("prime", "approved"), ("officer", "approved")]
    actions = audit_actions(session, "submission", sub.id)
    assert [a for a, _ in actions] == ["submission.prime_approve", "submission.approve"]
    assert actions[0][1]["level"] == "officer" and actions[0][1]["status"] == "submitted"


def test_prime_return_ends_the_version(client: TestClient, login_as: Login, session: Session) -> None:
    sub = chs_report(session)
    login_as(client, "partner", partner="ilo")
    assert _review(client, sub.id, "return", "Please add the region breakdown.", htmx=False).status_code == 303
    assert fresh(session, sub.id).status == "returned"
    assert [a for a, _ in audit_actions(session, "submission", sub.id)] == ["submission.prime_return"]


def test_prime_user_cannot_review_another_primes_subrecipient(
    client: TestClient, login_as: Login, session: Session
) -> None:
    sub = chs_report(session)
    # UNICEF is the prime of visayas-cso in another partnership: CHS's report is not even visible
    login_as(client, "partner", partner="unicef")
    assert client.get(f"/submissions/{sub.id}").status_code == 404
    token = csrf(client, "/review")
    response = client.post(
        f"/submissions/{sub.id}/review",
        data={"action": "approve", "comment": "", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 404
    # a sibling sub-recipient of the same prime (IDL) may not review CHS's report either
    login_as(client, "partner", partner="idl")
    assert client.get(f"/submissions/{sub.id}").status_code == 404
    # nor CHS itself (its own report), even though it sees it
    login_as(client, "partner", partner="chs")
    assert soup(client.get(f"/submissions/{sub.id}").text).select_one("form.review-form") is None
    assert _review(client, sub.id, "approve", htmx=False).status_code == 403
    assert fresh(session, sub.id).status == "submitted"
    assert audit_actions(session, "submission", sub.id) == []

    # the service refuses it whatever the route: a UNICEF user's actor
    login_as(client, "partner", partner="unicef")
    with pytest.raises(ReviewError) as refused:
        review_submission(
            session=session,
            submission_id=sub.id,
            action="approved",
            comment=None,
            actor=user_actor(session, "partner-unicef@example.org", "partner"),
        )
    assert refused.value.code == "not_your_level"
    session.rollback()


def test_prime_user_cannot_approve_its_own_organisations_report(
    client: TestClient, login_as: Login, session: Session
) -> None:
    own = add_submission(session, partner="ilo", period=PERIOD, values=[("1.2.a", {}, 2.0)], status="submitted")
    session.commit()
    login_as(client, "partner", partner="ilo")
    assert soup(client.get(f"/submissions/{own.id}").text).select_one("form.review-form") is None
    assert _review(client, own.id, "approve", htmx=False).status_code == 403
    assert fresh(session, own.id).status == "submitted"


def test_prime_uploader_cannot_approve_at_prime_level(client: TestClient, login_as: Login, session: Session) -> None:
    """Four eyes at the prime level too: the ILO user who uploaded CHS's report does not approve it."""
    login_as(client, "partner", partner="ilo")
    sub = chs_report(session)
    sub.uploaded_by_id = session.scalar(select(User.id).where(User.email == "partner-ilo@example.org"))
    session.commit()
    assert _review(client, sub.id, "approve", htmx=False).status_code == 403
    assert fresh(session, sub.id).status == "submitted"


def _value_id(session: Session, sid: int, code: str) -> int:
    found = session.scalar(
        select(Value.id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.submission_id == sid, Indicator.code == code)
    )
    assert found is not None
    return found


def test_value_query_answered_by_a_new_version(
    client: TestClient, login_as: Login, session: Session, settings: Settings
) -> None:
    first = import_workbook(
        session=session,
        data=workbook(session, "chs", [IndicatorRow("2.2.a", 40), IndicatorRow("2.1.a", 12)]),
        filename="v1.xlsx",
        settings=settings,
        partner_code="chs",
        period=PERIOD,
    )
    session.commit()
    assert first.status == "accepted"
    v1 = session.scalar(select(Submission.id).where(Submission.period == PERIOD, Submission.version == 1))
    assert v1 is not None

    # ILO (prime) asks about 2.2.a and 2.1.a through the page
    login_as(client, "partner", partner="ilo")
    token = csrf(client, f"/submissions/{v1}")
    for code, question in (("2.2.a", "40 looks high against last quarter: please check."), ("2.1.a", "Source?")):
        response = client.post(
            f"/submissions/{v1}/queries",
            data={"value_id": _value_id(session, v1, code), "question": question, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
    session.expire_all()
    queries = session.scalars(select(ValueQuery).order_by(ValueQuery.id)).all()
    assert [(q.level, q.status, q.value) for q in queries] == [("prime", "open", 40.0), ("prime", "open", 12.0)]
    assert sum(open_counts(session).values()) == 2
    assert _review(client, v1, "return", "See the queries.", htmx=False).status_code == 303

    # CHS sees them on its submission page and answers one in the thread
    login_as(client, "partner", partner="chs")
    page = soup(client.get(f"/submissions/{v1}").text)
    assert len(page.select("article.value-query[data-status=open]")) == 2
    assert not page.select("form.query-resolve")  # the queried partner answers; the reviewers close
    notice = soup(client.get("/reports", params={"partner": "chs", "period": PERIOD}).text).select_one("p.open-queries")
    assert notice is not None and notice["data-count"] == "2"
    q_source = queries[1].id
    token = csrf(client, f"/submissions/{v1}")
    assert (
        client.post(
            f"/queries/{q_source}/reply",
            data={"body": "Attendance sheets of the two courses.", "csrf_token": token},
            follow_redirects=False,
        ).status_code
        == 303
    )
    # a user of another partner may not write in it
    login_as(client, "partner", partner="aba-roli")
    token = csrf(client, "/reports")
    assert client.post(f"/queries/{q_source}/reply", data={"body": "x", "csrf_token": token}).status_code == 404

    # CHS uploads a corrected version: 2.2.a changes (resolved), 2.1.a does not (stays as it was)
    second = import_workbook(
        session=session,
        data=workbook(session, "chs", [IndicatorRow("2.2.a", 25), IndicatorRow("2.1.a", 12)]),
        filename="v2.xlsx",
        settings=settings,
        partner_code="chs",
        period=PERIOD,
    )
    session.commit()
    assert second.status == "accepted"
    session.expire_all()
    changed, unchanged = session.scalars(select(ValueQuery).order_by(ValueQuery.id)).all()
    v2 = session.scalar(select(Submission.id).where(Submission.period == PERIOD, Submission.version == 2))
    assert (changed.status, changed.resolved_submission_id) == ("resolved", v2)
    assert unchanged.status == "answered" and unchanged.resolved_submission_id is None
    bodies = session.scalars(select(ValueQueryMessage.body).where(ValueQueryMessage.query_id == changed.id)).all()
    assert bodies == ["v2: 40 → 25"]
    assert sum(open_counts(session).values()) == 1

    # the officer sees one open query on the queue (v2 still awaits the prime partner)
    login_as(client, "officer")
    row = soup(client.get("/review").text).select_one(f"tr.queued[data-id='{v2}']")
    assert row is not None and row.select_one("td.open-queries").get_text(strip=True) == "1"  # type: ignore[union-attr]
    page = soup(client.get(f"/submissions/{v2}").text)
    assert page.select_one(f"#query-{changed.id} .version-change") is not None
    assert page.select_one(f"#query-{unchanged.id} form.query-resolve") is not None
    token = csrf(client, f"/submissions/{v2}")
    assert client.post(f"/queries/{unchanged.id}/resolve", data={"csrf_token": token}).status_code in (200, 303)
    assert sum(open_counts(session).values()) == 0
    assert [a for a, _ in audit_actions(session, "value_query", unchanged.id)] == [
        "query.ask",
        "query.reply",
        "query.resolve",
    ]


def test_open_queries_on_quality_page(client: TestClient, login_as: Login, session: Session) -> None:
    sub = chs_report(session)
    officer = Actor("cli")
    ask_query(session=session, value_id=_value_id(session, sub.id, "2.2.a"), question="Why 40?", actor=officer)
    session.commit()
    login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/quality").text)
    found = page.select_one("dd.open-queries")
    assert found is not None and found.get_text(strip=True) == "1"
