"""Who opens a submission and its file, and the review queue: order, approve and return."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.core.audit import AuditEntry
from mel.reports.files import stored_path
from mel.reports.models import Submission
from tests.html_soup import soup
from tests.report_factory import (
    HX,
    PERIOD,
    Login,
    _review,
    text,
)
from tests.value_factory import add_submission

# ---------------------------------------------------------------- access


@pytest.fixture
def ilo_submission(session: Session, settings: Any) -> Submission:
    sub = add_submission(session, partner="ilo", period=PERIOD, values=[("1.b", {}, 10.0)], status="submitted")
    session.commit()
    path = stored_path(settings.upload_dir, sub.file_sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"original bytes")
    return sub


def test_partner_cannot_open_another_partners_submission_or_file(
    client: TestClient, login_as: Login, ilo_submission: Submission
) -> None:
    sid = ilo_submission.id
    login_as(client, "partner", partner="yanapanakusun")
    assert client.get(f"/submissions/{sid}").status_code == 404
    assert client.get(f"/submissions/{sid}/file").status_code == 404
    login_as(client, "partner", partner="chs")  # a sub-recipient does not see its prime's reports
    assert client.get(f"/submissions/{sid}").status_code == 404
    login_as(client, "partner", partner="ilo")
    assert client.get(f"/submissions/{sid}").status_code == 200
    file = client.get(f"/submissions/{sid}/file")
    assert file.status_code == 200 and file.content == b"original bytes"
    assert file.headers["content-disposition"].startswith("attachment")
    assert client.get("/submissions/999999").status_code == 404


def test_evaluators_open_no_submission_nor_its_file(
    client: TestClient, login_as: Login, session: Session, ilo_submission: Submission
) -> None:
    """Evaluators read approved figures, suppressed, through the pages: a report shows raw values."""
    login_as(client, "evaluator")
    assert client.get(f"/submissions/{ilo_submission.id}").status_code == 403
    session.execute(update(Submission).where(Submission.id == ilo_submission.id).values(status="approved"))
    session.commit()
    assert client.get(f"/submissions/{ilo_submission.id}").status_code == 403
    assert client.get(f"/submissions/{ilo_submission.id}/file").status_code == 403
    assert client.get("/review").status_code == 403


# ---------------------------------------------------------------- review


def test_review_queue_lists_awaiting_reports_oldest_first(
    client: TestClient, login_as: Login, session: Session
) -> None:
    stored = {}
    moments = {"ilo": dt.datetime(2021, 10, 20), "chs": dt.datetime(2021, 10, 5), "aba-roli": dt.datetime(2021, 10, 12)}
    for partner, at in moments.items():
        sub = add_submission(
            session,
            partner=partner,
            period=PERIOD,
            values=[("1.2.a" if partner != "chs" else "2.2.a", {}, 1.0)],
            status="submitted",
        )
        sub.uploaded_at = at
        stored[partner] = sub
    add_submission(session, partner="yanapanakusun", period=PERIOD, values=[("3.2.a", {}, 1.0)], status="approved")
    session.commit()
    login_as(client, "officer")
    page = soup(client.get("/review").text)
    rows = page.select("table.queue tbody tr.queued")
    expected = [p for p, _ in sorted(moments.items(), key=lambda item: item[1])]
    assert [r["data-partner"] for r in rows] == expected
    assert [int(str(r["data-id"])) for r in rows] == [stored[p].id for p in expected]
    # stored without a user: imported on the command line, and the queue says so
    assert {text(r.select_one("td.by")) for r in rows} == {"command line"}
    # the htmx filter returns only the queue
    fragment = soup(client.get("/review", params={"partner": "ilo"}, headers=HX).text)
    assert fragment.select_one("h1") is None
    assert [r["data-partner"] for r in fragment.select("tr.queued")] == ["ilo"]
    other = soup(client.get("/review", params={"partnership": "philippines-cpc"}, headers=HX).text)
    assert other.select("tr.queued") == [] and other.select_one("tr.empty") is not None
    # a prime partner's users see only their sub-recipients' reports awaiting the prime's review
    login_as(client, "partner", partner="ilo")
    assert [r["data-partner"] for r in soup(client.get("/review").text).select("tr.queued")] == ["chs"]


def test_approve_and_return_change_the_status(client: TestClient, login_as: Login, session: Session) -> None:
    a = add_submission(session, partner="ilo", period="2021Q2", values=[("1.2.a", {}, 1.0)], status="submitted")
    b = add_submission(session, partner="ilo", period=PERIOD, values=[("1.2.a", {}, 2.0)], status="submitted")
    session.commit()
    login_as(client, "officer")
    page = soup(client.get(f"/submissions/{a.id}").text)
    assert page.select_one("form.review-form button[value=approve]") is not None

    approved = soup(_review(client, a.id, "approve").text)
    assert approved.select_one("h1") is None  # only the status block
    assert approved.select_one("#submission-status span.status")["data-status"] == "approved"  # type: ignore[index]
    assert approved.select_one("form.review-form") is None

    refused = _review(client, b.id, "return", "")
    block = soup(refused.text)
    assert block.select_one(".review-error") is not None
    assert block.select_one("span.status")["data-status"] == "submitted"  # type: ignore[index]
    no_js = _review(client, b.id, "return", "", htmx=False)
    assert no_js.status_code == 422 and soup(no_js.text).select_one("h1") is not None

    returned = _review(client, b.id, "return", "Please add the region breakdown", htmx=False)
    assert returned.status_code == 303 and returned.headers["location"].endswith(f"/submissions/{b.id}")
    full = soup(client.get(f"/submissions/{b.id}").text)
    assert full.select_one("#submission-status span.status")["data-status"] == "returned"  # type: ignore[index]
    assert text(full.select_one("li.review-returned q.comment")) == "Please add the region breakdown"

    session.expire_all()
    assert session.get(Submission, a.id).status == "approved"  # type: ignore[union-attr]
    assert session.get(Submission, b.id).status == "returned"  # type: ignore[union-attr]
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "submission")))
    assert {"submission.approve", "submission.return"} <= actions
    # a reviewed report cannot be reviewed again
    again = soup(_review(client, a.id, "return", "late").text)
    assert again.select_one(".review-error") is not None
