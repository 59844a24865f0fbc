"""Report templates and the submission page: values, differences, Spanish, history, long reports."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.calendar import last_ended_quarter
from mel.catalog.models import Partnership
from mel.core.periods import quarter_of
from tests.html_soup import soup
from tests.report_factory import (
    HX,
    PERIOD,
    Login,
    Row,
    text,
)
from tests.value_factory import add_submission

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
