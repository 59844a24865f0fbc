"""Quarterly report upload: inline errors in place, storage, no-JavaScript posts, new versions, progress."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.catalog.models import Indicator, Partner, Partnership
from mel.core.audit import Actor
from mel.core.db import transaction
from mel.reports.import_result import ImportResult
from mel.reports.job_models import ImportJob
from mel.reports.job_queue import claim_next, complete_job, enqueue_import, report_progress, this_process
from mel.reports.models import Submission, Value
from mel.workbooks.report_writer import IndicatorRow
from tests.html_soup import soup
from tests.report_factory import (
    GOOD,
    HX,
    PERIOD,
    Login,
    finish,
    issues,
    submissions,
    text,
    upload,
    workbook,
)

# ---------------------------------------------------------------- upload


def test_upload_with_mistakes_lists_every_error_in_place(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo")
    rows = [
        IndicatorRow("1.b", "abc"),  # row 2: not a number
        IndicatorRow("9.9.z", 3),  # row 3: unknown indicator
        IndicatorRow("1.2.a", -3),  # row 4: negative
        IndicatorRow("4.1.a", 12.5),  # row 5: not an integer
    ]
    response = upload(client, workbook(session, "ilo", rows))
    assert response.status_code == 200
    page = finish(client, response)
    # the fragment only, not a whole page
    assert page.select_one("html") is None and page.select_one("h1") is None
    result = page.select_one(".import-result")
    assert result is not None and result["data-status"] == "rejected"
    # no dimension column was used: indicator in A, value in B, the first item on row 2
    expected = {
        ("Indicators", "B2", "not_a_number"),
        ("Indicators", "A3", "unknown_indicator"),
        ("Indicators", "B4", "negative_value"),
        ("Indicators", "B5", "not_an_integer"),
    }
    assert issues(page) == expected
    messages = [text(td) for td in page.select("table.issues[data-table='errors'] td.message")]
    assert all(messages)
    # each error names the indicator of its row (the unknown code has none to name)
    names = dict(
        session.execute(
            select(Indicator.code, Indicator.name).join(Partnership).where(Partnership.code == "peru-cpc")
        ).all()
    )
    named = {
        text(tr.select_one("td.cell")): text(tr.select_one("td.indicator"))
        for tr in page.select("table.issues[data-table='errors'] tbody tr.issue")
    }
    assert named == {
        "B2": f"1.b · {names['1.b']}",
        "A3": "—",
        "B4": f"1.2.a · {names['1.2.a']}",
        "B5": f"4.1.a · {names['4.1.a']}",
    }
    assert submissions(session, "ilo") == []


def test_good_upload_is_stored_and_shown(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo")
    response = upload(client, workbook(session, "ilo", GOOD))
    page = finish(client, response)
    result = page.select_one(".import-result")
    assert result is not None and result["data-status"] == "accepted", page.text
    stored = submissions(session, "ilo")
    assert [(s.version, s.status, s.period) for s in stored] == [(1, "submitted", PERIOD)]
    assert text(page.select_one("dd.version")) == "1"
    ilo_name = session.scalar(
        select(Partner.name).join(Partnership).where(Partnership.code == "peru-cpc", Partner.code == "ilo")
    )
    assert text(page.select_one("dd.partner")) == ilo_name
    assert text(page.select_one("dd.values-count")) == str(len(GOOD))
    count = session.scalar(select(Value.id).where(Value.submission_id == stored[0].id).limit(1))
    assert count is not None
    link = page.select_one("a.submission-link")
    assert link is not None and urlsplit(str(link["href"])).path == f"/submissions/{stored[0].id}"
    # the form's "current version" line is replaced out of band by the new version
    oob = page.select_one("#current-version[hx-swap-oob] p.current-version")
    assert oob is not None and (oob["data-version"], oob["data-status"]) == ("1", "submitted")
    form = soup(client.get(f"/reports?partner=ilo&period={PERIOD}").text)
    assert form.select_one("#current-version p.current-version")["data-version"] == "1"  # type: ignore[index]

    # the same bytes again: recognized, nothing stored twice
    again = finish(client, upload(client, workbook(session, "ilo", GOOD)))
    assert again.select_one(".import-result")["data-status"] == "duplicate"  # type: ignore[index]
    assert len(submissions(session, "ilo")) == 1


def test_upload_without_javascript_posts_and_redirects(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo")
    response = upload(client, workbook(session, "ilo", GOOD), htmx=False)
    assert response.status_code == 303
    job_url = response.headers["location"]
    assert "/reports/jobs/" in job_url
    page = finish(client, client.get(job_url), headers={})
    assert page.select_one("html") is not None and page.select_one("h1") is not None
    assert page.select_one(".import-result")["data-status"] == "accepted"  # type: ignore[index]
    assert page.select_one("meta[http-equiv=refresh]") is None
    # a shown result is forgotten: the job page no longer has it
    gone = client.get(job_url)
    assert gone.status_code == 404 and soup(gone.text).select_one(".job-gone") is not None


def test_new_version_of_approved_report_asks_for_a_reason(
    client: TestClient, login_as: Login, session: Session
) -> None:
    login_as(client, "partner", partner="ilo")
    finish(client, upload(client, workbook(session, "ilo", GOOD)))
    first = submissions(session, "ilo")[0]
    session.execute(update(Submission).where(Submission.id == first.id).values(status="approved"))
    session.commit()
    form_page = soup(client.get(f"/reports?period={PERIOD}").text)
    assert form_page.select_one("form.upload textarea[name=reason]") is not None
    changed = [IndicatorRow("1.b", 15), *GOOD[1:]]
    refused = finish(client, upload(client, workbook(session, "ilo", changed)))
    assert {code for _s, _c, code in issues(refused)} == {"reason_required"}
    accepted = finish(client, upload(client, workbook(session, "ilo", changed), reason="Lima total was wrong"))
    assert accepted.select_one(".import-result")["data-status"] == "accepted"  # type: ignore[index]
    versions = submissions(session, "ilo")
    assert [(s.version, s.status, s.reason) for s in versions] == [
        (1, "superseded", None),
        (2, "submitted", "Lima total was wrong"),
    ]
    history = soup(client.get("/reports/history").text)
    row = history.select_one(f"tr.version[data-id='{versions[1].id}']")
    assert row is not None and text(row.select_one("td.reason")) == "Lima total was wrong"
    old = history.select_one(f"tr.version[data-id='{versions[0].id}']")
    assert old is not None and old["data-status"] == "superseded"


def test_too_large_upload_is_refused(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo")
    data = workbook(session, "ilo", GOOD)
    client.app.state.settings.max_upload_mb = (len(data) - 1) / 1024 / 1024  # type: ignore[attr-defined]
    page = finish(client, upload(client, data))
    assert issues(page) == {("—", "—", "file_too_large")}
    assert submissions(session, "ilo") == []


def test_progress_is_polled_until_the_result(client: TestClient, login_as: Login, session: Session) -> None:
    """A running import shows its stage (read from its job row); the fragment polls until the result."""
    login_as(client, "partner", partner="ilo")
    user_id = session.scalar(select(User.id).where(User.email == "partner-ilo@example.org"))
    assert user_id is not None
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    actor = Actor("partner-ilo@example.org", user_id, "testclient", role="partner")
    with transaction(factory) as tx:  # a job some server process is running: no dispatcher here
        job_id = enqueue_import(
            session=tx,
            data=b"x",
            filename="big.xlsx",
            actor=actor,
            partner_code="ilo",
            period=PERIOD,
            lang="en",
            reason=None,
        )
        assert claim_next(session=tx, owner=this_process(), limit=2) == job_id
        report_progress(session=tx, job_id=job_id, stage="checking", fraction=0.5)
    fragment = soup(client.get(f"/reports/jobs/{job_id}", headers=HX).text)
    running = fragment.select_one(".job-running")
    assert running is not None and running["data-stage"] == "checking"
    assert running["hx-trigger"] == "every 1s" and urlsplit(str(running["hx-get"])).path == f"/reports/jobs/{job_id}"
    progress = fragment.select_one("progress")
    assert progress is not None and progress["value"] == "50"  # half of the second of three stages
    full = soup(client.get(f"/reports/jobs/{job_id}").text)
    assert full.select_one("meta[http-equiv=refresh]") is not None  # without JavaScript: the page reloads
    login_as(client, "partner", partner="chs")  # another user cannot see the job
    other = client.get(f"/reports/jobs/{job_id}", headers=HX)
    assert soup(other.text).select_one(".job-gone") is not None and soup(other.text).select_one(".job-running") is None
    login_as(client, "partner", partner="ilo")
    with transaction(factory) as tx:
        complete_job(session=tx, job_id=job_id, result=ImportResult("rejected", errors=[]))
    done = soup(client.get(f"/reports/jobs/{job_id}", headers=HX).text)
    assert done.select_one(".job-running") is None
    assert done.select_one(".import-result")["data-status"] == "rejected"  # type: ignore[index]
    with factory() as fresh:
        assert fresh.get(ImportJob, job_id) is None  # shown once, then forgotten


def test_upload_errors_in_spanish(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="chs")
    client.get("/reports?lang=es")
    data = workbook(session, "chs", [IndicatorRow("2.2.a", "muchos")], lang="es")
    page = finish(client, upload(client, data, partner="chs"))
    assert issues(page) == {("Indicadores", "B2", "not_a_number")}
    assert text(page.select_one("table.issues caption")) == "Problemas por corregir"
