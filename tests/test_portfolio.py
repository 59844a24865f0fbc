"""The portfolio page renders every partnership's results framework, in English and Spanish."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partnership
from tests.html_soup import soup


@pytest.fixture
def client(client: TestClient, login_as: Callable[..., TestClient]) -> TestClient:
    """Every page needs a login: these tests read as an officer."""
    return login_as(client, "officer")


def test_portfolio_shows_reference_framework(client: TestClient, session: Session) -> None:
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = soup(response.text)
    assert page.html is not None and page.html["lang"] == "en"
    peru = page.select_one("section.partnership[data-code='peru-cpc']")
    assert peru is not None
    assert page.select_one("section.partnership[data-code='philippines-cpc']") is not None
    partners = [li["data-code"] for li in peru.select("ul.partners li.partner")]
    assert sorted(partners) == ["aba-roli", "chs", "idl", "ilo", "yanapanakusun"]
    subs = [li["data-code"] for li in peru.select("li.partner[data-code='ilo'] ul.sub-recipients li")]
    assert sorted(subs) == ["chs", "idl"]
    # impact at the top, outcomes under it, outputs under the outcomes
    top = peru.select("ul.framework > li.result")
    assert top[0]["data-code"] == "IMP" and "level-impact" in top[0]["class"]
    outcomes = [li["data-code"] for li in top[0].select(":scope > ul > li.level-outcome")]
    assert outcomes[:3] == ["1", "2", "3"]
    outputs = [li["data-code"] for li in top[0].select(":scope > ul > li[data-code='1'] > ul > li.level-output")]
    assert outputs == ["1.1", "1.2"]
    # every indicator appears once with its baseline and target from the database
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    indicators = session.scalars(select(Indicator).where(Indicator.partnership_id == partnership.id)).all()
    rows = {tr["data-code"]: tr for tr in peru.select("tr.indicator")}
    assert set(rows) == {i.code for i in indicators}
    fistrap = rows["1.a"]
    assert fistrap.select_one("td.baseline").get_text(" ", strip=True).startswith("8")
    assert fistrap.select_one("td.target").get_text(strip=True) == "16"
    assert rows["1.1.a"].select_one("td.target").get_text(strip=True) == "1,500"
    assert rows["1.1.a"].select_one("td.name").get_text(strip=True) == "Justice-sector operators trained"
    assert peru.select_one("dd.country").get_text(strip=True) == "Peru"


def test_portfolio_in_spanish(client: TestClient, session: Session) -> None:
    response = client.get("/?lang=es")
    page = soup(response.text)
    assert page.html is not None and page.html["lang"] == "es"
    assert page.select_one("main h1").get_text(strip=True) == "Cartera"
    peru = page.select_one("section.partnership[data-code='peru-cpc']")
    ind = session.scalars(select(Indicator).where(Indicator.code == "1.1.a")).first()
    assert ind is not None and ind.name_es
    assert peru.select_one("tr.indicator[data-code='1.1.a'] td.name").get_text(strip=True) == ind.name_es
    assert peru.select_one("li.result[data-code='IMP'] .level").get_text(strip=True).startswith("Impacto")
    # countries by name in the reader's language, not by ISO code
    countries = {
        s["data-code"]: s.select_one("dd.country").get_text(strip=True) for s in page.select("section.partnership")
    }
    assert countries == {"peru-cpc": "Perú", "philippines-cpc": "Filipinas"}
    # the choice is remembered in a cookie
    again = soup(client.get("/").text)
    assert again.html is not None and again.html["lang"] == "es"


def test_htmx_is_served_locally(client: TestClient) -> None:
    page = soup(client.get("/").text)
    scripts = [s["src"] for s in page.select("script[src]")]
    assert scripts and all(src.startswith("/static/") for src in scripts)
    for src in scripts:
        response = client.get(src)
        assert response.status_code == 200 and len(response.content) > 10_000
