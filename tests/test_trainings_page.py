"""The trainings page: every disaggregation recomputed here from the rows the test stored.

The expected figures are plain Python sums over the ``Row`` objects the test created (only those of
submissions that count), compared with the page read through BeautifulSoup selectors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from bs4 import Tag
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.core.settings import Settings
from mel.quality.training_consistency import training_consistency
from mel.web.app import create_app
from tests.html_soup import soup
from tests.training_history import (  # noqa: F401 (the fixture and its stored rows)
    DB_SCENARIOS,
    MISMATCH,
    NEW_ONLY,
    TRAINED,
    URL,
    Flat,
    ages,
    approved,
    by_attribute,
    history,
    nonzero,
    num,
    participants,
    sexes,
    table_cells,
)


@pytest.fixture
def client(client: TestClient, login_as: Callable[..., TestClient]) -> TestClient:
    """The page needs a login: these tests read it as a program officer."""
    return login_as(client, "officer")


def test_page_disaggregations_match_the_stored_rows(client: TestClient, history: list[Flat]) -> None:  # noqa: F811
    rows = approved(history)
    response = client.get(URL, params={"rows": "institution", "cols": "sex", "lang": "en"})
    assert response.status_code == 200
    page = soup(response.text)
    assert page.select_one("script[src$='vendor/chart.umd.min.js']") is not None
    assert page.select_one("script[src$='trainings.js']") is not None
    assert not [s for s in page.select("script") if not s.get("src") and s.get("type") != "application/json"]

    totals = page.select_one("dl.totals")
    assert totals is not None
    assert num(totals.select_one("dd.events")) == len({r.event for r in rows})
    assert num(totals.select_one("dd.participants")) == sum(r.row.participants for r in rows)
    hours = sum(r.row.participants * r.row.hours for r in rows if r.row.hours)
    assert num(totals.select_one("dd.participant-hours")) == pytest.approx(hours)

    # the two-way cross: institution × sex
    assert nonzero(table_cells(page, "cross")) == by_attribute(rows, "institution", sexes)
    # one-way tables
    assert nonzero(table_cells(page, "institution")) == by_attribute(rows, "institution", participants)
    assert nonzero(table_cells(page, "region")) == by_attribute(rows, "region", participants)
    assert nonzero(table_cells(page, "pillar")) == by_attribute(rows, "pillar", participants)
    assert nonzero(table_cells(page, "modality")) == by_attribute(rows, "modality", participants)
    sex_totals: dict[tuple[str, str], float] = defaultdict(float)
    age_totals: dict[tuple[str, str], float] = defaultdict(float)
    for r in rows:
        for code, n in sexes(r):
            sex_totals[(code, "participants")] += n
        for code, n in ages(r):
            age_totals[(code, "participants")] += n
    assert nonzero(table_cells(page, "sex")) == nonzero(sex_totals)
    assert nonzero(table_cells(page, "age")) == nonzero(age_totals)

    # the per-quarter modality trend: in person until 2020Q1, online from 2020Q2
    trend = table_cells(page, "trend")
    assert nonzero(trend) == by_attribute(rows, "quarter", lambda r: [(r.modality, r.row.participants)])
    assert trend[("2020Q1", "virtual")] == 0 and trend[("2020Q3", "in-person")] == 0
    assert trend[("2020Q2", "virtual")] > 0
    # every chart has its JSON data block and a canvas, and the table beside it
    for canvas in page.select("canvas[data-chart]"):
        data = page.select_one(f"script[type='application/json']#{canvas['data-chart']}")
        assert data is not None and '"datasets"' in data.get_text()


def test_other_crosses_region_by_modality_and_sex_by_pillar(client: TestClient, history: list[Flat]) -> None:  # noqa: F811
    rows = approved(history)
    page = soup(client.get(URL, params={"rows": "region", "cols": "modality"}).text)
    expected = by_attribute(rows, "region", lambda r: [(r.modality, r.row.participants)])
    assert nonzero(table_cells(page, "cross")) == expected
    table = page.select_one("table[data-table='cross']")
    assert table is not None
    assert num(table.select_one("tfoot td.total")) == sum(r.row.participants for r in rows)
    # a split as rows: sex × pillar is transposed from the grouped query
    page = soup(client.get(URL, params={"rows": "sex", "cols": "pillar"}).text)
    expected = {(s, p): v for (p, s), v in by_attribute(rows, "pillar", sexes).items()}
    assert nonzero(table_cells(page, "cross")) == expected
    # age × institution, with unknown ages kept apart
    page = soup(client.get(URL, params={"rows": "age", "cols": "institution"}).text)
    expected = {(a, i): v for (i, a), v in by_attribute(rows, "institution", ages).items()}
    assert nonzero(table_cells(page, "cross")) == expected


def test_filters_partner_pillar_period_and_provisional(client: TestClient, history: list[Flat]) -> None:  # noqa: F811
    params = {"partner": "ilo", "pillar": "prosecution", "from": "2019Q4", "to": "2020Q2", "rows": "institution"}
    page = soup(client.get(URL, params=params).text)
    rows = [
        r
        for r in approved(history)
        if r.partner == "ilo" and r.pillar == "prosecution" and "2019Q4" <= r.period <= "2020Q2"
    ]
    assert rows
    assert num(page.select_one("dd.participants")) == sum(r.row.participants for r in rows)
    assert nonzero(table_cells(page, "cross")) == by_attribute(rows, "institution", sexes)
    assert page.select_one("select[name=partner] option[selected]")["value"] == "ilo"  # type: ignore[index]

    provisional = soup(client.get(URL, params={"provisional": "1"}).text)
    assert num(provisional.select_one("dd.participants")) == sum(r.row.participants for r in history)
    assert provisional.select_one(".provisional-note") is not None
    plain = soup(client.get(URL).text)
    assert num(plain.select_one("dd.participants")) == sum(r.row.participants for r in approved(history))


def test_knowledge_gain_is_participant_weighted(client: TestClient, history: list[Flat]) -> None:  # noqa: F811
    rows = approved(history)
    page = soup(client.get(URL).text)

    def expected(group: list[Flat]) -> tuple[float, float, float]:
        scored = [r for r in group if r.row.pre_score is not None and r.row.participants]
        weight = sum(r.row.participants for r in scored)
        pre = sum(r.row.participants * (r.row.pre_score or 0) for r in scored) / weight
        post = sum(r.row.participants * (r.row.post_score or 0) for r in scored) / weight
        share = 100 * len({r.event for r in scored}) / len({r.event for r in group})
        return pre, post, share

    overall = page.select_one("table[data-table='gain'] tbody tr")
    assert overall is not None
    pre, post, share = expected(rows)
    assert num(overall.select_one("td.pre")) == pytest.approx(pre, abs=0.05)
    assert num(overall.select_one("td.post")) == pytest.approx(post, abs=0.05)
    assert num(overall.select_one("td.gain")) == pytest.approx(post - pre, abs=0.1)
    assert num(overall.select_one("td.share-scored")) == pytest.approx(share, abs=0.05)
    for modality in ("in-person", "virtual"):
        tr = page.select_one(f"table[data-table='gain-modality'] tr[data-code='{modality}']")
        assert tr is not None
        pre, post, _share = expected([r for r in rows if r.modality == modality])
        assert num(tr.select_one("td.pre")) == pytest.approx(pre, abs=0.05)
        assert num(tr.select_one("td.post")) == pytest.approx(post, abs=0.05)
    assert page.select_one("table[data-table='gain-institution'] tr[data-code='mpfn']") is not None
    assert page.select_one("#training-gain p.method") is not None


def test_consistency_flags_the_seeded_difference(client: TestClient, session: Session, history: list[Flat]) -> None:  # noqa: F811
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    rows = training_consistency(session, partnership_id=partnership.id)
    flagged = [r for r in rows if r.flag != "match"]
    assert [(r.partner, r.period, r.indicator) for r in flagged] == [MISMATCH[:3]]
    (bad,) = flagged
    trained = sum(
        r.row.participants for r in history if (r.partner, r.period, r.pillar) == ("ilo", "2020Q1", "prosecution")
    )
    assert bad.trained == trained and bad.reported == trained + MISMATCH[3] and bad.difference == MISMATCH[3]
    # every approved partner-quarter-indicator with trainings is compared once, 1.1.c on new participants
    code, pillar, assigned = NEW_ONLY
    keys = {(r.partner, r.period, TRAINED[r.pillar]) for r in approved(history)}
    keys |= {(r.partner, r.period, code) for r in approved(history) if r.pillar == pillar and r.partner in assigned}
    assert {(r.partner, r.period, r.indicator) for r in rows} == keys
    new: dict[tuple[str, str], int] = defaultdict(int)
    everyone: dict[tuple[str, str], int] = defaultdict(int)
    for r in approved(history):
        if r.pillar == pillar and r.partner in assigned:
            new[(r.partner, r.period)] += r.row.participants - (r.row.repeat or 0)
            everyone[(r.partner, r.period)] += r.row.participants
    assert {(r.partner, r.period): r.trained for r in rows if r.indicator == code} == new
    assert new != everyone  # repeat participants were there to leave out

    page = soup(client.get(URL).text)
    tr = page.select_one("table.consistency tr[data-partner='ilo'][data-period='2020Q1'][data-indicator='1.1.a']")
    assert tr is not None and tr["data-flag"] == "mismatch" and "flag-mismatch" in tr["class"]
    assert num(tr.select_one("td.difference")) == MISMATCH[3]
    assert len(page.select("table.consistency tr[data-flag='mismatch']")) == 1
    # with the pillar filter, only that pillar's indicator is compared
    prevention = soup(client.get(URL, params={"pillar": "prevention"}).text)
    assert {tr["data-indicator"] for tr in prevention.select("table.consistency tbody tr[data-indicator]")} == {"3.1.b"}


def test_htmx_renders_fragments(client: TestClient, history: list[Flat]) -> None:  # noqa: F811
    response = client.get(URL, params={"pillar": "prevention"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = soup(response.text)
    assert fragment.select_one("html") is None and fragment.select_one("form#training-filters") is None
    roots = [el for el in fragment.children if isinstance(el, Tag)]
    assert len(roots) == 1 and roots[0]["id"] == "training-results"
    rows = [r for r in approved(history) if r.pillar == "prevention"]
    assert num(fragment.select_one("dd.participants")) == sum(r.row.participants for r in rows)

    events = client.get(URL, params={"page": 2}, headers={"HX-Request": "true", "HX-Target": "training-events"})
    fragment = soup(events.text)
    roots = [el for el in fragment.children if isinstance(el, Tag)]
    assert len(roots) == 1 and roots[0]["id"] == "training-events"
    assert fragment.select_one("dl.totals") is None


def test_event_list_is_paginated_and_links_to_submissions(
    client: TestClient,
    session: Session,
    history: list[Flat],  # noqa: F811
) -> None:
    rows = approved(history)
    events = {r.event for r in rows}
    page = soup(client.get(URL).text)
    section = page.select_one("section#training-events")
    assert section is not None
    first = section.select("article.event")
    assert len(first) == 20
    assert section.select_one(".pagination .page").get_text(strip=True) == f"1 / {-(-len(events) // 20)}"  # type: ignore[union-attr]
    seen = []
    for n in range(1, -(-len(events) // 20) + 1):
        part = soup(
            client.get(URL, params={"page": n}, headers={"HX-Request": "true", "HX-Target": "training-events"}).text
        )
        seen += [a.select_one("h3").get_text(strip=True) for a in part.select("article.event")]  # type: ignore[union-attr]
    assert sorted(seen) == sorted(events)
    article = first[0]
    title = article.select_one("h3").get_text(strip=True)  # type: ignore[union-attr]
    expected = [r.row for r in rows if r.event == title]
    assert [num(td) for td in article.select("tbody td.female")] == [row.female for row in expected]
    link = article.select_one("a.submission")
    assert link is not None and str(link["href"]).startswith("/submissions/")


def test_spanish_page(client: TestClient, history: list[Flat]) -> None:  # noqa: F811
    page = soup(client.get(URL, params={"lang": "es"}).text)
    assert page.select_one("main h1").get_text(" ", strip=True).startswith("Capacitaciones")  # type: ignore[union-attr]
    sex = page.select_one("table[data-table='sex'] tr[data-code='female'] th")
    assert sex is not None and sex.get_text(strip=True) == "Femenino"
    inst = page.select_one("table[data-table='institution'] tr[data-code='mpfn'] th")
    assert inst is not None and inst.get_text(strip=True) == "Ministerio Público (MPFN)"
    pillar = page.select_one("select[name=pillar] option[value=prosecution]")
    assert pillar is not None and pillar.get_text(strip=True) == "Persecución"


def test_nav_link_leads_to_the_trainings_page(client: TestClient) -> None:
    page = soup(client.get("/").text)
    link = page.select_one("header nav a[href$='/trainings']")
    assert link is not None
    response = client.get(str(link["href"]))
    assert response.status_code == 200 and response.url.path.startswith("/p/")
    assert response.url.path.endswith("/trainings")


def test_the_trainings_link_opens_the_partnership_with_the_most_training_events(
    client: TestClient,
    session: Session,
    history: list[Flat],  # noqa: F811
) -> None:
    """Without a page to come from, /trainings opens the partnership whose partners reported the most
    training events (every stored version counts: the link only has to avoid an empty page)."""
    assert history and URL.startswith("/p/peru-cpc/")  # the stored trainings are all Peru's
    assert _earliest_partnership(session) != "peru-cpc"  # so the count decides, not the tie-break
    response = client.get("/trainings", follow_redirects=False)
    assert response.status_code == 303 and urlsplit(response.headers["location"]).path == URL


def test_without_training_events_the_link_opens_the_earliest_partnership(client: TestClient, session: Session) -> None:
    response = client.get("/trainings", follow_redirects=False)
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == f"/p/{_earliest_partnership(session)}/trainings"


def _earliest_partnership(session: Session) -> str:
    """The tie-break of the trainings link: the partnership that starts first (then by code)."""
    return min(session.scalars(select(Partnership)), key=lambda p: (p.starts_on, p.code)).code


def test_unknown_partnership_is_404(client: TestClient) -> None:
    assert client.get("/p/nowhere/trainings").status_code == 404


def test_page_needs_a_login(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as anonymous:
        response = anonymous.get(URL, follow_redirects=False)
    app.state.engine.dispose()
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


def test_partner_user_sees_aggregates_but_only_own_submissions(
    client: TestClient,
    login_as: Callable[..., TestClient],
    history: list[Flat],  # noqa: F811
) -> None:
    partner = login_as(client, "partner", partner="yanapanakusun")
    page = soup(partner.get(URL).text)
    # aggregates stay partnership-wide (approved figures only: no provisional choice for partners)
    assert num(page.select_one("dd.participants")) == sum(r.row.participants for r in approved(history))
    assert page.select_one("input[name=provisional]") is None
    own = {r.event for r in approved(history) if r.partner == "yanapanakusun"}
    seen: list[str] = []
    for n in range(1, -(-len(own) // 20) + 1):
        part = soup(
            partner.get(URL, params={"page": n}, headers={"HX-Request": "true", "HX-Target": "training-events"}).text
        )
        for article in part.select("article.event"):
            seen.append(article.select_one("h3").get_text(strip=True))  # type: ignore[union-attr]
            assert article.select_one("a.submission") is not None
            assert "Centro Yanapanakusun" in article.select_one("p.meta").get_text()  # the name, not the code
    assert sorted(seen) == sorted(own)
    # the consistency table compares only the user's own reports
    partners = {tr["data-partner"] for tr in page.select("table.consistency tbody tr[data-partner]")}
    assert partners == {"yanapanakusun"}
