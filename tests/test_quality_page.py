"""The data-quality page and ``mel report due`` over the seeded history of ``tests.quality_history``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.catalog.models import Partnership
from mel.cli import app as cli_app
from mel.core.audit import AuditEntry
from mel.core.settings import Settings
from mel.quality.integrity import integrity_issues
from mel.reports.models import ImportWarning
from tests import quality_history as h
from tests.html_soup import soup

URL = "/p/peru-cpc/quality"


@pytest.fixture
def seeded(session: Session) -> dict[tuple[str, str], int]:
    ids = h.seed(session)
    session.execute(
        insert(ImportWarning),
        [
            {
                "submission_id": ids[h.OUTLIER[:2]],
                "code": "outlier",
                "sheet": "Indicators",
                "cell": "F7",
                "message": "4.a: 5 is far from this partner's usual values",
            },
            {
                "submission_id": ids[h.RUNNING_TOTAL[:2]],
                "code": "cumulative",
                "sheet": "Indicators",
                "cell": "F6",
                "message": "1.2.a: 17 looks like a running total",
            },
        ],
    )
    session.commit()
    return ids


@pytest.fixture
def officer(client: TestClient, login_as: Callable[..., TestClient]) -> TestClient:
    return login_as(client, "officer")


def cell(page: BeautifulSoup, partner: str, period: str) -> Tag:
    found = page.select_one(f"table.report-grid tr[data-partner='{partner}'] td[data-period='{period}']")
    assert found is not None, (partner, period)
    return found


def test_page_shows_grid_flags_warnings_reminders_and_integrity(
    officer: TestClient, session: Session, seeded: dict
) -> None:
    response = officer.get(URL, params={"lang": "en"})
    assert response.status_code == 200
    page = soup(response.text)
    assert cell(page, *h.MISSING)["data-state"] == "missing"
    assert cell(page, *h.LATE)["data-state"] == "late"
    assert cell(page, "aba-roli", "2017Q2")["data-state"] == "on_time"
    assert float(str(cell(page, *h.TOTAL_ONLY)["data-disaggregation"])) == 0
    clean = page.select(f"table.report-grid tr[data-partner='{h.CLEAN}'] td")
    seeded_cells = [td for td in clean if td["data-period"] in h.PERIODS]
    assert {td["data-state"] for td in seeded_cells} == {"on_time"}
    assert {float(str(td["data-disaggregation"])) for td in seeded_cells} == {1.0}
    link = cell(page, *h.LATE).select_one("a.submission")
    assert link is not None and link["href"] == f"/submissions/{seeded[h.LATE]}"

    flags = {
        (str(tr["data-flag"]), str(tr["data-partner"]), str(tr["data-period"]), str(tr["data-indicator"]))
        for tr in page.select("#quality-consistency tr[data-flag]")
    }
    assert flags == h.FLAGS | {("training_mismatch", *h.MISMATCH)}

    warnings = page.select("#quality-warnings article.warning")
    assert {str(a["data-code"]) for a in warnings} == {"outlier", "cumulative"}
    assert all(a.select_one("form.explain input[name=csrf_token]") for a in warnings)

    late = page.select_one(f"#quality-reminders tr[data-partner='aba-roli'][data-period='{h.MISSING[1]}']")
    assert late is not None and late["data-state"] == "late"
    mail = late.select_one("td.contact a")
    assert mail is not None and mail["href"] == f"mailto:{h.CONTACT[1]}"

    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    expected = {(i.kind, i.subject) for i in integrity_issues(session, partnership.id)}
    shown = {(str(li["data-kind"]), str(li["data-subject"])) for li in page.select("ul.integrity li[data-kind]")}
    assert shown == expected


def test_partner_filter_and_htmx_fragment(officer: TestClient, seeded: dict) -> None:
    response = officer.get(URL, params={"partner": "aba-roli"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = soup(response.text)
    roots = [el for el in fragment.children if isinstance(el, Tag)]
    assert len(roots) == 1 and roots[0]["id"] == "quality-results"
    assert fragment.select_one("form#quality-filters") is None
    assert {str(tr["data-partner"]) for tr in fragment.select("table.report-grid tbody tr")} == {"aba-roli"}
    assert not fragment.select("#quality-consistency tr[data-flag]")  # aba-roli's series are clean
    assert response.headers["HX-Push-Url"].endswith(f"{URL}?partner=aba-roli")
    full = soup(officer.get(URL, params={"partner": "ilo"}).text)
    assert full.select_one("select[name=partner] option[selected]")["value"] == "ilo"  # type: ignore[index]
    assert {str(a["data-partner"]) for a in full.select("#quality-warnings article.warning")} == {"ilo"}


def test_officer_explains_a_warning(officer: TestClient, session: Session, seeded: dict) -> None:
    page = soup(officer.get(URL).text)
    article = page.select_one("#quality-warnings article[data-code='outlier']")
    assert article is not None
    form = article.select_one("form.explain")
    assert form is not None
    token = form.select_one("input[name=csrf_token]")["value"]  # type: ignore[index]
    action = str(form["action"])

    refused = officer.post(action, data={"explanation": "  ", "csrf_token": token}, headers={"HX-Request": "true"})
    assert refused.status_code == 422
    assert soup(refused.text).select_one("p.error[role=alert]") is not None
    no_token = officer.post(action, data={"explanation": "checked"}, follow_redirects=False)
    assert no_token.status_code == 403

    response = officer.post(
        action,
        data={"explanation": "New prosecutors' office opened late", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = soup(response.text)
    roots = [el for el in fragment.children if isinstance(el, Tag)]
    assert len(roots) == 1 and roots[0]["id"] == "quality-warnings"
    assert {str(a["data-code"]) for a in fragment.select("article.warning")} == {"cumulative"}

    session.expire_all()
    warning = session.get(ImportWarning, int(str(article["data-warning"])))
    assert warning is not None and warning.explanation == "New prosecutors' office opened late"
    assert warning.explained_at is not None and warning.explained_by_id is not None
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "warning.explain")).one()
    assert audit.entity_id == str(warning.id) and audit.user_id == warning.explained_by_id

    other = page.select_one("#quality-warnings article[data-code='cumulative'] form.explain")
    assert other is not None
    plain = officer.post(
        str(other["action"]), data={"explanation": "Partner confirmed", "csrf_token": token}, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"].endswith(URL)
    assert (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "warning.explain")) == 2
    )


def test_who_may_see_and_explain(client: TestClient, login_as: Callable[..., TestClient], seeded: dict) -> None:
    evaluator = login_as(client, "evaluator")
    page = soup(evaluator.get(URL).text)
    assert page.select("#quality-warnings article.warning") and page.select_one("form.explain") is None
    token = page.select_one("body")["hx-headers"]  # type: ignore[index]
    csrf = str(token).split('"X-CSRF-Token": "')[1].split('"')[0]
    warning_id = page.select_one("#quality-warnings article.warning")["data-warning"]  # type: ignore[index]
    denied = evaluator.post(f"{URL}/warnings/{warning_id}/explain", data={"explanation": "x", "csrf_token": csrf})
    assert denied.status_code == 403
    partner = login_as(client, "partner", partner="ilo")
    assert partner.get(URL).status_code == 403


def test_unknown_partnership_and_nav(officer: TestClient) -> None:
    assert officer.get("/p/nowhere/quality").status_code == 404
    home = soup(officer.get("/").text).select_one("header nav a[href$='/quality']")
    assert home is not None
    response = officer.get(str(home["href"]))
    assert response.status_code == 200 and response.url.path == URL


def test_spanish_page(officer: TestClient, seeded: dict) -> None:
    page = soup(officer.get(URL, params={"lang": "es"}).text)
    assert page.select_one("main h1").get_text(" ", strip=True).startswith("Calidad de los datos")  # type: ignore[union-attr]
    state = cell(page, *h.MISSING).select_one("span.state")
    assert state is not None and state.get_text(strip=True) == "Faltante"


def test_cli_report_due(settings: Settings, seeded: dict) -> None:
    env = {"MEL_DATABASE_URL": settings.database_url, "MEL_REPORT_DUE_DAYS": str(h.DUE_DAYS)}
    result = CliRunner().invoke(
        cli_app, ["report", "due", "--partnership", "peru-cpc", "--as-of", "2019-02-15"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    late = [f for f in lines if f[1:3] == list(h.MISSING)]
    assert len(late) == 1 and late[0][4].startswith("late by") and h.CONTACT[1] in late[0][5]
    assert not [f for f in lines if f[1] == h.CLEAN]
    assert {f[2] for f in lines if f[1] == "chs"} == {"2018Q3", "2018Q4"}
    bad = CliRunner().invoke(cli_app, ["report", "due", "--as-of", "yesterday"], env=env)
    assert bad.exit_code == 2
    unknown = CliRunner().invoke(cli_app, ["report", "due", "--partnership", "nowhere"], env=env)
    assert unknown.exit_code == 2
