"""The comparison page, its sources fragment and the export downloads through the real HTTP stack."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import comparison_scenario
from tests.html_soup import soup

PAGE = "/p/peru-cpc/comparison"


DB_SCENARIOS = {"evaluator": comparison_scenario.build}


@pytest.fixture
def evaluator(
    client: TestClient, login_as: Callable[..., TestClient], stored_scenarios: tuple[object, ...]
) -> TestClient:
    """An evaluator over the comparison scenario (``DB_SCENARIOS``: the test's database holds it)."""
    assert comparison_scenario.build in stored_scenarios, "the test module's DB_SCENARIOS must name this fixture"
    return login_as(client, "evaluator")


def row(soup: BeautifulSoup, indicator: str, category: str = "") -> Tag:
    found = soup.select_one(f'#comparison-table tr[data-indicator="{indicator}"][data-category="{category}"]')
    assert found is not None, (indicator, category)
    return found


def text(tag: Tag, selector: str) -> str:
    found = tag.select_one(selector)
    assert found is not None, selector
    return found.get_text(" ", strip=True)


def test_full_page_for_an_evaluator(evaluator: TestClient) -> None:
    response = evaluator.get(PAGE)
    assert response.status_code == 200
    page = soup(response.text)
    assert page.select_one("form#comparison-filters select[name=pillar]") is not None
    fistrap = row(page, "1.a")
    assert text(fistrap, "td.baseline a.value") == "9"
    assert text(fistrap, "td.endline a.value") == "14"
    assert text(fistrap, "td.change") == "+5"
    assert text(fistrap, "td.percent-change") == "55.6 %"
    assert text(fistrap, "td.trend") == "improved"
    assert text(fistrap, "td.target") == "16"
    assert text(fistrap, "td.achievement") == "71.4 %"
    survey = row(page, "3.a")
    assert "not-comparable" in survey["class"]
    assert survey.select_one("td.endline .not-comparable-flag") is not None
    assert text(survey, "td.change") == "+20.9 pp"
    assert text(survey, "td.percent-change") == "—"
    victims = row(page, "2.a")
    assert text(victims, "td.endline a.value") == "<5"  # evaluators see small cells suppressed
    assert text(victims, "td.baseline a.value") == "0"
    trained = row(page, "1.1.a")
    link = trained.select_one("td.endline a.reported")
    assert link is not None and urlsplit(str(link["href"])).path == "/p/peru-cpc/indicators/1.1.a"
    assert text(trained, "td.endline a.reported") == "190"
    assert page.select_one('svg g.bell[data-indicator="1.a"] circle.endline') is not None
    downloads = {a["data-format"]: urlsplit(str(a["href"])).path for a in page.select("p.downloads a.download")}
    assert downloads == {f: f"/p/peru-cpc/exports/comparison.{f}" for f in ("csv", "xlsx", "json")}


def test_staff_see_raw_values(session: Session, client: TestClient, login_as: Callable[..., TestClient]) -> None:
    comparison_scenario.build(session)
    officer = login_as(client, "officer")
    page = soup(officer.get(PAGE).text)
    assert text(row(page, "2.a"), "td.endline a.value") == "3"


def test_partners_may_not_see_the_page(
    session: Session, client: TestClient, login_as: Callable[..., TestClient]
) -> None:
    comparison_scenario.build(session)
    partner = login_as(client, "partner", partner="ilo")
    assert partner.get(PAGE).status_code == 403
    assert partner.get("/p/peru-cpc/exports/values.csv").status_code == 403


def test_htmx_filters_return_the_results_fragment(evaluator: TestClient) -> None:
    response = evaluator.get(PAGE, params={"pillar": "prevention", "dimension": "sex"}, headers={"HX-Request": "true"})
    page = soup(response.text)
    assert page.select_one("html") is None and page.select_one("form#comparison-filters") is None
    assert page.select_one("div#comparison-results") is not None
    codes = {tr["data-indicator"] for tr in page.select("#comparison-table tbody tr")}
    assert codes == {"3.a", "3.1.a", "3.1.b", "3.2.a"}
    female = row(page, "3.a", "female")
    assert text(female, "td.baseline a.value") == "40.2 %" and text(female, "td.endline a.value") == "62.1 %"
    hrefs = {a["data-format"]: urlsplit(str(a["href"])) for a in page.select("p.downloads a.download")}
    assert hrefs["csv"].path == "/p/peru-cpc/exports/comparison.csv"
    assert hrefs["csv"].query == "pillar=prevention&dimension=sex"
    impact = soup(evaluator.get(PAGE, params={"level": "impact"}).text)
    assert [tr["data-indicator"] for tr in impact.select("#comparison-table tbody tr")] == ["IMP.a"]


def test_sources_fragment_lists_measurement_cells_and_reported_values(evaluator: TestClient) -> None:
    page = soup(evaluator.get("/p/peru-cpc/comparison/sources/1.a", headers={"HX-Request": "true"}).text)
    cells = [(td.get_text(strip=True)) for td in page.select("table.measurements td.cell")]
    assert cells == ["D2", "D3", "D2"]  # 2017 and 2018 baselines, then the 2022 endline
    assert [td.get_text(strip=True) for td in page.select("table.measurements td.value")] == ["8", "9", "14"]
    full = soup(evaluator.get("/p/peru-cpc/comparison/sources/2.a").text)
    assert full.select_one("html") is not None
    reported = [
        (tr.select_one("td.value").get_text(strip=True), tr.select_one("td.cell").get_text(strip=True))  # type: ignore[union-attr]
        for tr in full.select("table.reported-values tbody tr")
    ]
    assert reported == [("<5", "F9"), ("<5", "F5")]  # ilo 2021Q1 (sheet row 9), chs 2021Q2
    assert evaluator.get("/p/peru-cpc/comparison/sources/nope").status_code == 404


def test_downloads_are_suppressed(evaluator: TestClient) -> None:
    response = evaluator.get("/p/peru-cpc/exports/values.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="peru-cpc-values.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf"), "a download is for spreadsheets: UTF-8 with a BOM"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["value"] for r in rows if r["indicator"] == "2.a"] == ["<5", "<5"]
    data = evaluator.get("/p/peru-cpc/exports/comparison.json", params={"dimension": "sex"}).json()
    assert any(r["categories"] == {"sex": "female"} for r in data)
    xlsx = evaluator.get("/p/peru-cpc/exports/trainings.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert evaluator.get("/p/peru-cpc/exports/iati.xml").text.startswith("<?xml")
    assert evaluator.get("/p/peru-cpc/exports/iati.csv").status_code == 404
    assert evaluator.get("/p/peru-cpc/exports/budget.csv").status_code == 404


def test_page_in_spanish(evaluator: TestClient) -> None:
    page = soup(evaluator.get(PAGE, params={"lang": "es"}).text)
    h1 = page.select_one("h1")
    assert h1 is not None and h1.get_text(" ", strip=True).startswith("Línea de base y línea final")
    assert text(row(page, "1.a"), "td.trend") == "mejoró"
    assert text(row(page, "3.a"), "td.change") == "+20,9 p. p."  # Spanish decimal comma (Babel)
