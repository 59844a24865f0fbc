"""Evaluators import their measurement workbooks on the web, through the same durable queue as reports.

A measurement counts at once, so only evaluators, officers and admins may send one; an evaluator's
quarterly report is refused (``not_allowed``): partners report, evaluators measure.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.core.audit import AuditEntry
from mel.core.paths import IMPORTS_DIR
from mel.reports.models import Measurement, Submission
from tests.html_soup import soup
from tests.report_factory import HX, csrf, finish, issues

Login = Callable[..., TestClient]


def send(client: TestClient, data: bytes, name: str) -> BeautifulSoup:
    token = csrf(client, "/measurements")
    files = {"file": (name, data, "application/octet-stream")}
    response = client.post(
        "/measurements/upload",
        data={"csrf_token": token, "partnership": "peru-cpc"},
        files=files,
        headers={**HX, "X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    return finish(client, response)


def test_an_evaluator_imports_measurements_on_the_web(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "evaluator")
    page = soup(client.get("/measurements").text)
    assert page.select_one("form.upload input[type=file][name=file]") is not None
    data = (IMPORTS_DIR / "measurements-peru-cpc.xlsx").read_bytes()
    result = send(client, data, "measurements-peru-cpc.xlsx")
    messages = [td.get_text(strip=True) for td in result.select("td.message")]
    assert result.select_one(".import-result")["data-status"] == "accepted", messages  # type: ignore[index]
    session.expire_all()
    rows = session.execute(select(Measurement.round, Measurement.sample_size, Measurement.margin_of_error)).all()
    assert len(rows) > 10 and ("baseline", 412, 4.7) in {tuple(r) for r in rows}


def test_an_evaluator_cannot_submit_a_partners_report(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "evaluator", email="eva@example.org")
    data = (IMPORTS_DIR / "ilo-2021Q3.xlsx").read_bytes()
    result = send(client, data, "ilo-2021Q3.xlsx")
    assert result.select_one(".import-result")["data-status"] == "rejected"  # type: ignore[index]
    assert issues(result) == {("—", "—", "not_allowed")}
    session.expire_all()
    assert session.scalar(select(Submission.id)) is None
    refused = session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "report.refused")).all()
    assert refused == ["an evaluator may not submit a partner's quarterly report (ilo-2021Q3.xlsx)"]


def test_partners_have_no_measurement_page(client: TestClient, login_as: Login) -> None:
    login_as(client, "partner", partner="ilo")
    assert client.get("/measurements").status_code == 403
