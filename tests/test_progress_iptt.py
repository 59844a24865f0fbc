"""The IPTT: quarter, fiscal-year and life-of-partnership columns, breakdown rows, filters, XLSX."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.html_soup import soup
from tests.progress_data import OFFICIAL_11A, OFFICIAL_11B, PROVISIONAL_11A, store_history
from tests.value_factory import add_submission


def actual(page: BeautifulSoup, code: str, col: str, kind: str = "indicator", label: str | None = None) -> str:
    selector = f"tr[data-code='{code}'][data-kind='{kind}']"
    if label is not None:
        selector += f"[data-label='{label}']"
    found = page.select_one(f"{selector} td.actual[data-col='{col}']")
    assert found is not None, (selector, col)
    return str(found["data-value"])


def test_iptt_fiscal_years(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/iptt").text)
    assert page.select_one("#iptt-table")["data-granularity"] == "fy"
    periods = [th["data-period"] for th in page.select("th.period[data-period]")]
    # Peru's fiscal year starts in October: June 2017 is FY2017, June 2022 FY2022
    assert periods == [f"FY{y}" for y in range(2017, 2023)]
    # 2019Q1 (Jan-Mar), Q2 and Q3 (Jul-Sep) are all in FY2019
    assert float(actual(page, "1.1.a", "FY2019")) == OFFICIAL_11A
    assert actual(page, "1.1.a", "FY2020") == ""
    assert float(actual(page, "1.1.a", "LOP")) == OFFICIAL_11A
    pct = page.select_one("tr[data-code='1.1.a'][data-kind='indicator'] td.pct[data-col='LOP']").get_text(strip=True)
    assert pct == f"{OFFICIAL_11A / 1500 * 100:.1f} %"
    # grouped by level: impact, outcome, output
    assert [t["data-level"] for t in page.select("tbody.level")] == ["impact", "outcome", "output"]
    # a percent of two partners: no combined number, one partner row each
    assert actual(page, "1.1.b", "LOP") == ""
    partners = {
        tr["data-label"]: float(tr.select_one("td.actual[data-col='LOP']")["data-value"])
        for tr in page.select("tr[data-code='1.1.b'][data-kind='partner']")
    }
    names = {
        "ilo": "International Labour Organization (ILO)",
        "aba-roli": "American Bar Association Rule of Law Initiative (ABA-ROLI)",
    }
    assert partners == {names[k]: v for k, v in OFFICIAL_11B.items()}
    # disaggregation rows come on demand: a link per indicator (htmx swaps its group in place)
    group = page.select_one("tr[data-code='1.1.a'][data-kind='indicator']").find_parent("tbody")
    assert group.select_one("details summary") is not None and group.select("tr.child-partner")
    assert page.select("tr.child-category") == []
    link = group.select_one("a.expand")
    assert link["hx-select"] == "#" + group["id"] and link["hx-target"] == "#" + group["id"]
    expanded = soup(client.get(str(link["hx-get"]), headers={"HX-Request": "true"}).text)
    assert float(actual(expanded, "1.1.a", "LOP", "category", "Sex: Female")) == 60 + 30
    assert expanded.select_one("html") is None  # the table fragment, not the page
    assert expanded.select("tr.child-category[data-code='1.1.b']") == []  # only the one asked for
    full = soup(client.get(str(link["href"]).split("#")[0]).text)
    assert float(actual(full, "1.1.a", "LOP", "category", "Sex: Female")) == 60 + 30
    every = soup(client.get("/p/peru-cpc/iptt?expand=all").text)
    assert every.select("a.expand") == [] and every.select("tr.child-category[data-code='1.1.a']")


def test_iptt_quarters_and_lop(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/iptt?granularity=quarter").text)
    assert float(actual(page, "1.1.a", "2019Q1")) == 150
    assert float(actual(page, "1.1.a", "2019Q2")) == 30
    assert float(actual(page, "1.1.a", "2019Q3")) == 10
    assert float(actual(page, "1.1.b", "2019Q2", "partner", "International Labour Organization (ILO)")) == 75
    lop = soup(client.get("/p/peru-cpc/iptt?granularity=lop").text)
    assert lop.select("th.period[data-period]") == []
    assert float(actual(lop, "1.1.a", "LOP")) == OFFICIAL_11A


def test_iptt_filters_and_htmx(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    response = client.get("/p/peru-cpc/iptt?granularity=lop&partner=ilo&from=2019Q2", headers={"HX-Request": "true"})
    part = soup(response.text)
    assert part.html is None and part.select_one("#iptt-table") is not None
    assert float(actual(part, "1.1.a", "LOP")) == 30 + 10
    outputs = soup(client.get("/p/peru-cpc/iptt?level=output&pillar=prevention").text)
    codes = {tr["data-code"] for tr in outputs.select("tr[data-kind='indicator']")}
    assert codes == {"3.1.a", "3.1.b", "3.2.a"}
    prov = soup(client.get("/p/peru-cpc/iptt?provisional=1&granularity=lop").text)
    assert float(actual(prov, "1.1.a", "LOP")) == PROVISIONAL_11A
    # partner users: official figures only, and another partner's filter is not found
    client = login_as(client, "partner", partner="ilo")
    mine = soup(client.get("/p/peru-cpc/iptt?provisional=1&granularity=lop").text)
    assert float(actual(mine, "1.1.a", "LOP")) == OFFICIAL_11A
    assert client.get("/p/peru-cpc/iptt?partner=aba-roli").status_code == 404


def test_iptt_xlsx(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    response = client.get("/p/peru-cpc/iptt.xlsx?granularity=fy")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["IPTT"]
    assert sheet.freeze_panes == "E3"
    top = [c.value for c in sheet[1]]
    measures = [c.value for c in sheet[2]]
    assert "FY2019" in top and "Life of partnership" in top
    fy2019 = top.index("FY2019")
    lop = top.index("Life of partnership")
    assert measures[fy2019 : fy2019 + 3] == ["Target", "Actual", "% of target"]
    rows = {(r[2].value, r[4].value): r for r in sheet.iter_rows(min_row=3)}
    main = rows[("1.1.a", "")]
    assert main[5].value == "count"
    assert main[fy2019 + 1].value == OFFICIAL_11A
    assert main[lop].value == 1500 and main[lop + 1].value == OFFICIAL_11A
    assert main[lop + 2].value == round(OFFICIAL_11A / 1500 * 100, 1)
    assert main[lop + 1].number_format == "#,##0.##"
    b = rows[("1.1.b", "")]
    assert b[lop + 1].value is None  # percents never added
    assert rows[("1.1.b", "International Labour Organization (ILO)")][lop + 1].value == 75
    assert rows[("1.1.a", "Sex: Female")][lop + 1].value == 90


def test_small_cells_of_sensitive_indicators(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    """Victim counts of 1 to 4 read '<5' in the download and for evaluators; officers see them on the page."""
    add_submission(session, partner="chs", period="2019Q1", values=[("2.a", {}, 3), ("2.a", {"sex": "female"}, 0)])
    session.commit()
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/iptt?granularity=lop").text)
    assert float(actual(page, "2.a", "LOP")) == 3
    book = openpyxl.load_workbook(io.BytesIO(client.get("/p/peru-cpc/iptt.xlsx?granularity=lop").content))
    rows = {(r[2].value, r[4].value): r for r in book["IPTT"].iter_rows(min_row=3)}
    top = [c.value for c in book["IPTT"][1]]
    lop = top.index("Life of partnership")
    assert rows[("2.a", "")][lop + 1].value == "<5"
    assert rows[("2.a", "Sex: Female")][lop + 1].value == 0  # zero is not suppressed
    client = login_as(client, "evaluator")
    page = soup(client.get("/p/peru-cpc/iptt?granularity=lop").text)
    cell = page.select_one("tr[data-code='2.a'][data-kind='indicator'] td.actual[data-col='LOP']")
    assert cell.get_text(strip=True) == "<5" and cell["data-value"] == ""
