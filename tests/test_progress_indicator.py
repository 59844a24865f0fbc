"""The indicator page: reference sheet, quarterly series, disaggregation explorer and sources."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, ContextEvent, Dimension, Indicator, Partnership
from tests.html_soup import soup
from tests.progress_data import OFFICIAL_11A, PROVISIONAL_11A, store_history


def row(page: BeautifulSoup, period: str) -> BeautifulSoup:
    found = page.select_one(f"table.series tr[data-period='{period}']")
    assert found is not None
    return found


def category_key(session: Session, dim: str, code: str) -> str:
    cid = session.scalar(
        select(Category.id)
        .join(Dimension)
        .join(Partnership, Partnership.id == Dimension.partnership_id)
        .where(Partnership.code == "peru-cpc", Dimension.code == dim, Category.code == code)
    )
    return str(cid)


def add_covid(session: Session) -> None:
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    session.add(
        ContextEvent(
            partnership_id=partnership.id, title="Test: COVID-19 state of emergency", starts_on=dt.date(2020, 3, 16)
        )
    )
    session.commit()


def test_reference_sheet_series_and_events(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    store_history(session)
    add_covid(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/indicators/1.1.a").text)
    ind = session.scalars(
        select(Indicator).join(Partnership).where(Partnership.code == "peru-cpc", Indicator.code == "1.1.a")
    ).one()
    sheet = page.select_one("section.reference-sheet dl.sheet")
    assert sheet is not None
    assert sheet.select_one("dd.aggregation").get_text(strip=True) == "sum over quarters"
    assert sheet.select_one("dd.target").get_text(strip=True) == "1,500"
    assert (sheet.select_one("dd.definition").get_text(strip=True) or "—") == (ind.definition or "—")
    # reported per quarter (all partners, approved) and the cumulative actual
    assert float(row(page, "2019Q1").select_one("td.reported")["data-value"]) == 100 + 50
    assert float(row(page, "2019Q1").select_one("td.to-date")["data-value"]) == 150
    assert float(row(page, "2019Q2").select_one("td.reported")["data-value"]) == 30
    assert float(row(page, "2019Q3").select_one("td.to-date")["data-value"]) == OFFICIAL_11A
    assert float(row(page, "2022Q2").select_one("td.to-date")["data-value"]) == OFFICIAL_11A
    # the last quarter's target is the life-of-partnership target
    assert row(page, "2022Q2").select_one("td.target").get_text(strip=True) == "1,500"
    # the chart's data: same numbers, COVID-19 on the time axis at 2020Q1
    data = json.loads(page.select_one("script#series-data").string)
    labels = data["labels"]
    actual = next(d for d in data["datasets"] if d["kind"] == "actual")
    assert actual["data"][labels.index("2019Q3")] == OFFICIAL_11A
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    stored = session.scalars(select(ContextEvent).where(ContextEvent.partnership_id == partnership.id)).all()
    expected = [
        {"index": labels.index(f"{e.starts_on.year}Q{(e.starts_on.month - 1) // 3 + 1}"), "title": e.title}
        for e in stored
        if f"{e.starts_on.year}Q{(e.starts_on.month - 1) // 3 + 1}" in labels
    ]
    shown = [{k: v for k, v in e.items() if k != "n"} for e in data["events"]]
    assert {"index": labels.index("2020Q1"), "title": "Test: COVID-19 state of emergency"} in shown
    assert sorted(shown, key=str) == sorted(expected, key=str)
    # each flag on the chart carries its number in the list of events under the chart
    listed = [li.select_one(".event-title").get_text(strip=True) for li in page.select("ol.events li")]
    assert all(listed[e["n"] - 1] == e["title"] for e in data["events"])
    assert row(page, "2020Q1")["class"] == ["has-event"]
    # the quarter's number links to its sources
    link = row(page, "2019Q1").select_one("td.reported a")
    assert link["href"].endswith("/p/peru-cpc/indicators/1.1.a/sources?period=2019Q1")
    # no inline scripts
    assert all(s.get("src") or s.get("type") == "application/json" for s in page.select("script"))
    # provisional: the link toggles it and the numbers change
    prov = soup(client.get("/p/peru-cpc/indicators/1.1.a?provisional=1").text)
    assert float(row(prov, "2019Q2").select_one("td.reported")["data-value"]) == 30 + 20
    assert float(row(prov, "2022Q2").select_one("td.to-date")["data-value"]) == PROVISIONAL_11A
    assert row(prov, "2019Q2").select_one("abbr.provisional") is not None


def test_percent_series_is_per_partner(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/indicators/1.1.b").text)
    cell = row(page, "2019Q1").select_one("td.reported")
    assert cell["data-value"] == ""  # 70 and 90 are never added
    texts = [a.get_text(" ", strip=True) for a in cell.select("a")]
    assert any(t.endswith("70.0 %") for t in texts) and any(t.endswith("90.0 %") for t in texts)
    data = json.loads(page.select_one("script#series-data").string)
    per_partner = [d for d in data["datasets"] if d["kind"] == "actual"]
    assert len(per_partner) == 2


def test_disaggregation_explorer_fragment(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    store_history(session)
    client = login_as(client, "officer")
    female, male = category_key(session, "sex", "female"), category_key(session, "sex", "male")
    full = soup(client.get("/p/peru-cpc/indicators/1.1.a?dimension=sex").text)
    assert full.select_one("h1") is not None and full.select_one("#explorer") is not None
    response = client.get("/p/peru-cpc/indicators/1.1.a?dimension=sex", headers={"HX-Request": "true"})
    part = soup(response.text)
    assert part.html is None and part.select_one("h1") is None
    explorer = part.select_one("#explorer")
    assert explorer is not None and explorer["data-dimension"] == "sex"
    values = {
        tr["data-category"]: float(tr.select_one("td.value")["data-value"]) for tr in explorer.select("tr.category")
    }
    assert values == {female: 60 + 30, male: 40 + 20}
    assert json.loads(explorer.select_one("script#explorer-data").string)["datasets"][0]["data"] == [90, 60]
    # one partner
    part = soup(
        client.get("/p/peru-cpc/indicators/1.1.a?dimension=sex&partner=ilo", headers={"HX-Request": "true"}).text
    )
    values = {tr["data-category"]: float(tr.select_one("td.value")["data-value"]) for tr in part.select("tr.category")}
    assert values == {female: 60, male: 40}
    # a percent: one column per partner, no all-partner number
    part = soup(client.get("/p/peru-cpc/indicators/1.1.b?dimension=sex", headers={"HX-Request": "true"}).text)
    cells = part.select(f"tr.category[data-category='{female}'] td.value")
    # a latest category comes from its partner's latest total's quarter: ILO's 2019Q2 has no
    # breakdown, so its 72 of 2019Q1 is not shown beside a 2019Q2 total
    assert sorted(td["data-value"] for td in cells) == ["", "88.0"]
    assert "All partners" not in [th.get_text(strip=True) for th in part.select("#explorer th")]


def test_sources_fragment_and_partner_limits(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    subs = store_history(session)
    client = login_as(client, "officer")
    url = "/p/peru-cpc/indicators/1.1.a/sources?period=2019Q1&combo="
    part = soup(client.get(url, headers={"HX-Request": "true"}).text)
    assert part.html is None
    rows = part.select("tr.source")
    assert {int(r["data-submission"]) for r in rows} == {subs["ilo-2019Q1"].id, subs["aba-2019Q1"].id}
    assert sorted(float(r["data-value"]) for r in rows) == [50, 100]
    links = {a["href"] for a in part.select("tr.source a")}
    assert links == {f"/submissions/{subs['ilo-2019Q1'].id}", f"/submissions/{subs['aba-2019Q1'].id}"}
    assert part.select_one("tr.source td:nth-of-type(8)").get_text(strip=True).startswith("F")  # the cell
    # the full page without htmx
    assert soup(client.get(url).text).select_one("h1") is not None
    # the superseded version is not a source; the current one is
    q3 = soup(client.get("/p/peru-cpc/indicators/1.1.a/sources?period=2019Q3", headers={"HX-Request": "true"}).text)
    assert [int(r["data-submission"]) for r in q3.select("tr.source")] == [subs["ilo-2019Q3"].id]
    # a partner user sees only its own organization's values, and another partner is not found
    client = login_as(client, "partner", partner="ilo")
    part = soup(client.get(url, headers={"HX-Request": "true"}).text)
    assert [int(r["data-submission"]) for r in part.select("tr.source")] == [subs["ilo-2019Q1"].id]
    assert client.get(url + "&partner=aba-roli").status_code == 404
    # and no provisional values for partners, even when asked
    q2 = soup(client.get("/p/peru-cpc/indicators/1.1.a/sources?period=2019Q2&provisional=1").text)
    assert [int(r["data-submission"]) for r in q2.select("tr.source")] == [subs["ilo-2019Q2"].id]


def test_unknown_indicator_is_404(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "officer")
    assert client.get("/p/peru-cpc/indicators/nope").status_code == 404
