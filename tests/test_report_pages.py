"""Quarterly reporting pages: upload with inline errors, history, review queue, submission page, review.

Workbooks are written with the same writer partners' files are made from; expected rows, cells and
codes come from the rows the test wrote, and pages are read with BeautifulSoup selectors.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.catalog.calendar import last_ended_quarter
from mel.catalog.models import Indicator, Partner, Partnership
from mel.core.audit import Actor, AuditEntry
from mel.core.db import transaction
from mel.core.periods import quarter_of
from mel.reports.files import stored_path
from mel.reports.import_result import ImportResult
from mel.reports.job_models import ImportJob
from mel.reports.job_queue import claim_next, complete_job, enqueue_import, report_progress, this_process
from mel.reports.models import Submission, Value
from mel.workbooks.report_writer import IndicatorRow, Report, write_report
from mel.workbooks.spec import partner_spec
from tests.html_soup import soup
from tests.value_factory import add_submission

Row = tuple[str, Mapping[str, str], float]

Login = Callable[..., TestClient]
PERIOD = "2021Q3"
HX = {"HX-Request": "true"}


def text(node: Tag | None) -> str:
    assert node is not None
    return node.get_text(" ", strip=True)


def workbook(session: Session, partner: str, rows: list[IndicatorRow], lang: str = "en", period: str = PERIOD) -> bytes:
    spec = partner_spec(session, partner_code=partner, period=period, lang=lang)
    return write_report(Report(partner=partner, period=period, indicators=rows), spec.dimensions, lang)


GOOD = [
    IndicatorRow("1.b", 14),
    IndicatorRow("1.b", 9, {"region": "lima"}),
    IndicatorRow("1.b", 5, {"region": "cusco"}),
    IndicatorRow("1.2.a", 2),
    IndicatorRow("4.1.b", "yes"),
]


def csrf(client: TestClient, url: str = f"/reports?period={PERIOD}") -> str:
    page = soup(client.get(url).text)
    field = page.select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def finish(client: TestClient, response: Any, headers: dict[str, str] | None = None) -> BeautifulSoup:
    """Follow the job's polling until it shows its result (the page polls the same URL every second)."""
    page = soup(response.text)
    for _ in range(600):
        running = page.select_one(".job-running")
        if running is None:
            return page
        time.sleep(0.05)
        page = soup(client.get(str(running["hx-get"]), headers=HX if headers is None else headers).text)
    raise AssertionError("the import job did not finish")


def upload(
    client: TestClient,
    data: bytes,
    *,
    partner: str = "ilo",
    period: str = PERIOD,
    reason: str | None = None,
    htmx: bool = True,
) -> Any:
    token = csrf(client, f"/reports?partner={partner}&period={period}")
    form = {"partner": partner, "period": period, "csrf_token": token}
    if reason is not None:
        form["reason"] = reason
    files = {"file": ("report.xlsx", data, "application/octet-stream")}
    headers = {**HX, "X-CSRF-Token": token} if htmx else {}
    return client.post("/reports/upload", data=form, files=files, headers=headers, follow_redirects=False)


def issues(page: BeautifulSoup, kind: str = "errors") -> set[tuple[str, str, str]]:
    return {
        (text(tr.select_one("td.sheet")), text(tr.select_one("td.cell")), text(tr.select_one("td.code")))
        for tr in page.select(f"table.issues[data-table='{kind}'] tbody tr.issue")
    }


def submissions(session: Session, partner: str) -> list[Submission]:
    session.expire_all()
    return list(
        session.scalars(
            select(Submission).join(Partner).where(Partner.code == partner).order_by(Submission.version)
        ).all()
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


# ---------------------------------------------------------------- templates


def test_template_download_in_the_users_language_and_only_own_partners(
    client: TestClient, login_as: Login, session: Session
) -> None:
    login_as(client, "partner", partner="chs")
    page = soup(client.get("/reports?lang=es").text)
    link = page.select_one("a.download")
    assert link is not None
    ends_on = session.scalar(select(Partnership.ends_on).where(Partnership.code == "peru-cpc"))
    assert ends_on is not None
    expected = min(last_ended_quarter(dt.datetime.now(dt.UTC).date()), quarter_of(ends_on))
    chosen = page.select_one("select[name=period] option[selected]")
    assert chosen is not None and chosen["value"] == expected
    response = client.get(str(link["href"]))
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames[0] == "Portada"
    # a sub-recipient cannot get its prime's template
    assert client.get("/reports/template", params={"partner": "ilo", "period": PERIOD}).status_code == 404
    # a prime chooses among its own and its sub-recipients'
    login_as(client, "partner", partner="ilo")
    options = {o["value"] for o in soup(client.get("/reports").text).select("select[name=partner] option")}
    assert options == {"ilo", "chs", "idl"}
    assert client.get("/reports/template", params={"partner": "chs", "period": PERIOD}).status_code == 200


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


def _review(client: TestClient, sid: int, action: str, comment: str = "", htmx: bool = True) -> Any:
    token = csrf(client, f"/submissions/{sid}")
    headers = {**HX, "X-CSRF-Token": token} if htmx else {}
    return client.post(
        f"/submissions/{sid}/review",
        data={"action": action, "comment": comment, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


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


# ---------------------------------------------------------------- submission page


def test_submission_page_shows_values_and_the_difference(client: TestClient, login_as: Login, session: Session) -> None:
    v1_values: list[Row] = [("1.b", {}, 20.0), ("1.b", {"region": "lima"}, 12.0), ("1.2.a", {}, 3.0)]
    v2_values: list[Row] = [("1.b", {}, 25.0), ("1.2.a", {}, 3.0), ("4.1.a", {}, 1.0)]
    v1 = add_submission(session, partner="ilo", period=PERIOD, values=v1_values, status="approved")
    v2 = add_submission(session, partner="ilo", period=PERIOD, values=v2_values, status="submitted")
    session.commit()
    login_as(client, "partner", partner="ilo")

    page = soup(client.get(f"/submissions/{v2.id}").text)
    header = page.select_one("#submission-status")
    assert header is not None
    assert text(header.select_one("dd.version")) == "2"
    assert text(header.select_one("dd.period")) == f"{PERIOD} (FY2021 Q4)"
    assert header.select_one("form.review-form") is None  # partners do not review
    values = page.select("table.values tbody tr.value")
    assert [(tr["data-indicator"], text(tr.select_one("td.number"))) for tr in values] == [
        (code, f"{int(n)}") for code, _c, n in v2_values
    ]
    changes = {
        (tr["data-indicator"], tr["data-categories"]): (
            tr["data-change"],
            text(tr.select_one("td.old")),
            text(tr.select_one("td.new")),
        )
        for tr in page.select("table.diff tbody tr.change")
    }
    assert changes == {
        ("1.b", ""): ("changed", "20", "25"),
        ("1.b", "region=lima"): ("removed", "12", "—"),
        ("4.1.a", ""): ("added", "—", "1"),
    }

    first = soup(client.get(f"/submissions/{v1.id}").text)
    assert first.select_one("p.first-version") is not None
    current_link = first.select_one("p.superseded-note a.current-link")
    assert current_link is not None and urlsplit(str(current_link["href"])).path == f"/submissions/{v2.id}"
    assert first.select_one("span.status")["data-status"] == "superseded"  # type: ignore[index]
    lima = first.select_one("table.values tr.value[data-indicator='1.b'] + tr td.categories")
    assert lima is not None and text(lima) == "Region: Lima"


def test_submission_page_in_spanish(client: TestClient, login_as: Login, session: Session) -> None:
    sub = add_submission(
        session, partner="ilo", period=PERIOD, values=[("1.b", {"region": "lima"}, 4.0)], status="approved"
    )
    session.commit()
    login_as(client, "officer")
    page = soup(client.get(f"/submissions/{sub.id}", params={"lang": "es"}).text)
    assert page.html is not None and page.html["lang"] == "es"
    assert text(page.select_one("span.status")) == "Aprobado"
    assert text(page.select_one("#values h2")).startswith("Valores")
    assert text(page.select_one("table.values td.categories")) == "Región: Lima"
    assert page.select_one("p.first-version") is not None and "Primera" in text(page.select_one("p.first-version"))
    queue = soup(client.get("/review", params={"lang": "es"}).text)
    assert text(queue.select_one("h1")) == "Cola de revisión"
    assert not [s for s in page.select("script") if not s.get("src")]
    assert not page.select("[style]") and not page.select("[onclick]")


def test_upload_errors_in_spanish(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="chs")
    client.get("/reports?lang=es")
    data = workbook(session, "chs", [IndicatorRow("2.2.a", "muchos")], lang="es")
    page = finish(client, upload(client, data, partner="chs"))
    assert issues(page) == {("Indicadores", "B2", "not_a_number")}
    assert text(page.select_one("table.issues caption")) == "Problemas por corregir"


def test_staff_choose_a_partner_and_see_its_history(client: TestClient, login_as: Login, session: Session) -> None:
    v1 = add_submission(session, partner="chs", period=PERIOD, values=[("2.2.a", {}, 1.0)], status="approved")
    v2 = add_submission(session, partner="chs", period=PERIOD, values=[("2.2.a", {}, 2.0)], status="submitted")
    v2.reason = "One protocol was missing"
    add_submission(session, partner="ilo", period=PERIOD, values=[("1.2.a", {}, 1.0)], status="submitted")
    session.commit()
    login_as(client, "officer")
    page = soup(client.get("/reports").text)
    assert page.select_one("form.upload") is None  # staff first choose whose report
    assert {"ilo", "chs", "aba-roli"} <= {o["value"] for o in page.select("select[name=partner] option")}
    chosen = soup(client.get("/reports", params={"partner": "chs", "period": PERIOD}, headers=HX).text)
    assert chosen.select_one("h1") is None and chosen.select_one("#upload-area form.upload") is not None
    current = chosen.select_one("p.current-version")
    assert current is not None and current["data-version"] == "2" and current["data-status"] == "submitted"
    assert chosen.select_one("form.upload textarea[name=reason]") is None  # v2 is not approved

    assert soup(client.get("/reports/history").text).select("tr.version") == []
    history = soup(client.get("/reports/history", params={"partner": "chs"}).text)
    rows = history.select("tr.version")
    assert [(r["data-id"], r["data-status"]) for r in rows] == [(str(v2.id), "submitted"), (str(v1.id), "superseded")]
    assert text(rows[0].select_one("td.reason")) == "One protocol was missing"
    login_as(client, "partner", partner="chs")
    own = soup(client.get("/reports/history").text)
    assert {r["data-partner"] for r in own.select("tr.version")} == {"chs"}
    assert client.get("/reports/history", params={"partner": "ilo"}).status_code == 404


def test_long_reports_show_their_first_rows(
    client: TestClient, login_as: Login, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mel.web.routes import submissions as routes

    values: list[Row] = [("1.b", {}, 9.0), ("1.b", {"region": "lima"}, 4.0), ("1.b", {"region": "cusco"}, 5.0)]
    sub = add_submission(session, partner="ilo", period=PERIOD, values=values, status="submitted")
    session.commit()
    monkeypatch.setattr(routes, "MAX_VALUE_ROWS", 2)
    login_as(client, "officer")
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert [tr["data-cell"] for tr in page.select("table.values tr.value")] == ["F5", "F6"]
    assert page.select_one("#values p.truncated") is not None
    assert text(page.select_one("#values h2 small")) == "(3)"
