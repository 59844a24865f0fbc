"""The partnership dashboard and the portfolio's progress columns, on stored values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership, indicator_partner
from mel.core.periods import quarter_end, quarter_of, quarters
from mel.reports.models import Submission
from tests.html_soup import soup
from tests.progress_data import OFFICIAL_11A, OFFICIAL_11B, PROVISIONAL_11A, PROVISIONAL_11B, store_history


def number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip())


def actual_cell(page: BeautifulSoup, code: str) -> BeautifulSoup:
    cell = page.select_one(f"tr.indicator[data-code='{code}'] td.actual")
    assert cell is not None
    return cell


def test_dashboard_official_figures(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc").text)
    # grouped by pillar: outcome 1 and its outputs under prosecution, outcome 4 cross-cutting
    prosecution = page.select_one("section.pillar-group[data-pillar='prosecution']")
    assert prosecution is not None
    assert prosecution.select_one("[data-code='1'] .outputs [data-code='1.1'] tr.indicator[data-code='1.1.a']")
    assert page.select_one("section.pillar-group[data-pillar='cross-cutting'] [data-code='4']") is not None
    assert [s["data-pillar"] for s in page.select("section.pillar-group")] == [
        "prosecution",
        "protection",
        "prevention",
        "cross-cutting",
    ]
    # a sum indicator: life-of-partnership total of the approved current versions
    assert float(actual_cell(page, "1.1.a")["data-value"]) == OFFICIAL_11A
    # a percent reported by two partners: one value per partner, never their sum
    cell = actual_cell(page, "1.1.b")
    assert cell["data-value"] == ""
    shown = {li["data-partner"]: float(li["data-value"]) for li in cell.select("li[data-partner]")}
    assert shown == OFFICIAL_11B
    assert page.select_one("tr.indicator[data-code='1.1.a'] td.target").get_text(strip=True) == "1,500"
    # progress bar without inline style, status with its explanation on the page
    bar = page.select_one("tr.indicator[data-code='1.1.a'] progress")
    assert bar is not None and round(float(bar["value"]), 1) == round(OFFICIAL_11A / 1500 * 100, 1)
    assert page.select_one("[style]") is None
    # every quarter of the partnership is due by now, so the expected value is the whole target
    assert page.select_one("tr.indicator[data-code='1.1.a']")["data-status"] == "off_track"
    assert page.select_one("details.method") is not None
    assert page.select_one(".provisional") is None
    # percentages in the reader's format: 1.1.a's share of its target, with one decimal
    share = OFFICIAL_11A / 1500 * 100
    row = "tr.indicator[data-code='1.1.a'] small.pct-of-target"
    assert page.select_one(row).get_text(strip=True).endswith(f"{share:.1f} %")
    spanish = soup(client.get("/p/peru-cpc?lang=es").text)
    assert spanish.select_one(row).get_text(strip=True).endswith(f"{share:.1f} %".replace(".", ","))


def test_dashboard_provisional_toggle(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    store_history(session)
    client = login_as(client, "officer")
    full = soup(client.get("/p/peru-cpc?provisional=1").text)
    assert full.select_one("form.toggle input[name=provisional][checked]") is not None
    assert float(actual_cell(full, "1.1.a")["data-value"]) == PROVISIONAL_11A
    assert actual_cell(full, "1.1.a").select_one("abbr.provisional") is not None
    shown = {li["data-partner"]: float(li["data-value"]) for li in actual_cell(full, "1.1.b").select("li")}
    assert shown == PROVISIONAL_11B
    # htmx asks for the results block only
    fragment = client.get("/p/peru-cpc?provisional=1", headers={"HX-Request": "true"})
    part = soup(fragment.text)
    assert part.html is None and part.select_one("h1") is None
    root = part.select_one("#dashboard-results")
    assert root is not None and root["data-provisional"] == "1"
    assert float(actual_cell(part, "1.1.a")["data-value"]) == PROVISIONAL_11A


def test_partner_user_sees_official_figures_only(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    store_history(session)
    client = login_as(client, "partner", partner="ilo")
    page = soup(client.get("/p/peru-cpc?provisional=1").text)
    assert page.select_one("form.toggle") is None
    assert float(actual_cell(page, "1.1.a")["data-value"]) == OFFICIAL_11A
    assert page.select_one("abbr.provisional") is None


def test_dashboard_unknown_partnership(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "officer")
    assert client.get("/p/nowhere").status_code == 404


def test_dashboard_in_spanish(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc?lang=es").text)
    assert page.select_one("section.pillar-group[data-pillar='prosecution'] h2").get_text(strip=True) == "Persecución"
    assert page.select_one("tr.indicator[data-code='1.1.a'] .pstatus").get_text(strip=True) == "Fuera de ruta"


def test_portfolio_progress_and_late_reports(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    store_history(session)
    client = login_as(client, "officer")
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    assigned = set(session.scalars(select(indicator_partner.c.partner_id)))
    partners = [
        p for p in session.scalars(select(Partner).where(Partner.partnership_id == partnership.id)) if p.id in assigned
    ]
    today = dt.date.today()
    arrived: dict[tuple[int, str], dt.date] = {}
    for pid, period, at in session.execute(select(Submission.partner_id, Submission.period, Submission.uploaded_at)):
        arrived[(pid, period)] = min(arrived.get((pid, period), at.date()), at.date())
    expected_late = 0
    for p in partners:  # late: received after the due date, or not received by it, within the agreement
        first = quarter_of(max(partnership.starts_on, p.starts_on or partnership.starts_on))
        last = quarter_of(min(partnership.ends_on, p.ends_on or partnership.ends_on))
        for q in quarters(first, last):
            due = quarter_end(q) + dt.timedelta(days=30)
            got = arrived.get((p.id, q))
            expected_late += (got is not None and got > due) or (got is None and today > due)
    page = soup(client.get("/").text)
    peru = page.select_one("section.partnership[data-code='peru-cpc']")
    assert int(peru.select_one("dd.late-count").get_text(strip=True)) == expected_late
    late = {(tr["data-partner"], tr["data-period"]): tr["data-received"] for tr in peru.select("tr.late-report")}
    # uploaded today, years after their due date: received late (a returned report arrived all the same)
    assert late[("ilo", "2019Q1")] == today.isoformat() and late[("aba-roli", "2019Q3")] == today.isoformat()
    assert late[("yanapanakusun", "2019Q1")] == ""  # not received
    on_track = peru.select_one("dd.on-track")
    assert int(on_track["data-judged"]) >= 2  # 1.1.a and 1.1.b at least have data and targets
    # the results-framework outline is still there
    assert peru.select_one("ul.framework > li.result[data-code='IMP']") is not None


def test_dashboard_numbers_link_to_their_sources(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    subs = store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc").text)
    link = actual_cell(page, "1.1.a").select_one("a.evidence")
    assert link is not None
    sources = soup(client.get(link["href"], headers={"HX-Request": "true"}).text)
    listed = {int(tr["data-submission"]): float(tr["data-value"]) for tr in sources.select("tr.source")}
    # the life-of-partnership total is the sum of exactly these stored values
    assert sum(listed.values()) == OFFICIAL_11A
    assert subs["ilo-2019Q3-v1"].id not in listed and subs["aba-2019Q2"].id not in listed
    # a percent: each partner's number links to that partner's latest value
    ilo = actual_cell(page, "1.1.b").select_one("li[data-partner='ilo'] a.evidence")
    rows = soup(client.get(ilo["href"], headers={"HX-Request": "true"}).text).select("tr.source")
    assert [float(r["data-value"]) for r in rows] == [OFFICIAL_11B["ilo"]]
