"""The theory-of-change diagram (server-side layout, inline SVG), integrity warnings, context events."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mel.catalog.models import ContextEvent, Partnership, Result, result_link
from mel.core.audit import AuditEntry
from mel.core.i18n import t
from mel.quality.integrity import integrity_issues
from mel.results.progress import load_partnership
from tests.html_soup import soup
from tests.progress_data import store_history


def test_diagram(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    store_history(session)
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/theory-of-change").text)
    partnership = load_partnership(session, "peru-cpc")
    assert partnership is not None
    svg = page.select_one("svg.toc")
    assert svg is not None and page.select_one("script:not([src])") is None
    nodes = {a["data-code"]: a for a in svg.select("a.node")}
    assert set(nodes) == {r.code for r in partnership.results}
    # every contribution link is drawn, many-to-many included (outcome 4 feeds outcomes 1, 2 and 3)
    links = {(p["data-from"], p["data-to"]) for p in svg.select("polyline.link")}
    assert links == {(r.code, target.code) for r in partnership.results for target in r.contributes_to}
    assert {("4", "1"), ("4", "2"), ("4", "3")} <= links
    # impact at the top: its box is above every outcome's, outcomes above their outputs
    y = {code: float(a.select_one("rect")["y"]) for code, a in nodes.items()}
    assert all(y["IMP"] < y[r.code] for r in partnership.results if r.code != "IMP")
    assert y["1"] < y["1.1"]
    # colored by the worst status of the result's indicators: 1.1.a is far behind its target
    assert nodes["1.1"]["data-status"] == "off_track"
    assert "node-off_track" in nodes["1.1"]["class"]
    assert nodes["1.1"]["href"].endswith("/p/peru-cpc#result-1.1")
    # warnings beside it: indicators without a baseline, computed from the catalog
    kinds = {(li["data-kind"], li["data-code"]) for li in page.select("ul.warnings li")}
    no_baseline = {i.code for r in partnership.results for i in r.indicators if i.baseline_value is None}
    assert no_baseline and {code for kind, code in kinds if kind == "indicator_without_baseline"} == no_baseline


def test_integrity_warnings_find_gaps(session: Session) -> None:
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    impact = session.scalars(
        select(Result).where(Result.partnership_id == partnership.id, Result.level == "impact")
    ).one()
    session.add_all(
        [
            Result(
                partnership_id=partnership.id, code="9", level="outcome", statement="Unmeasured outcome", position=90
            ),
            Result(
                partnership_id=partnership.id,
                code="9.1",
                level="output",
                statement="Straight to the impact",
                position=91,
            ),
        ]
    )
    session.flush()
    ids = dict(session.execute(select(Result.code, Result.id).where(Result.partnership_id == partnership.id)).all())
    session.execute(insert(result_link), [{"from_result_id": ids["9.1"], "to_result_id": impact.id}])
    session.commit()
    found = {(w.kind, w.subject) for w in integrity_issues(session, partnership.id)}
    assert ("outcome_without_indicator", "9") in found
    assert ("result_without_indicator", "9.1") in found
    assert ("output_skips_outcome", "9.1") in found
    spanish = integrity_issues(session, partnership.id)
    assert t("es", "Outcome {code} has no outcome-level indicator.", code="9") in {w.message("es") for w in spanish}


def test_context_events_page(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/context").text)
    token = page.select_one("form.context-form input[name=csrf_token]")["value"]
    response = client.post(
        "/p/peru-cpc/context",
        data={
            "csrf_token": token,
            "title": "Regional elections",
            "starts_on": "2018-10-07",
            "ends_on": "2018-12-09",
            "regions": "cusco, puno",
            "pillars": ["prevention", "protection"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    event = session.scalars(select(ContextEvent).where(ContextEvent.title == "Regional elections")).one()
    assert event.regions == ["cusco", "puno"] and sorted(event.pillars) == ["prevention", "protection"]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "context_event.create")).one()
    assert audit.entity_id == str(event.id) and audit.user_id is not None
    listed = soup(client.get("/p/peru-cpc/context").text)
    assert "Regional elections" in [td.get_text(strip=True) for td in listed.select("tr.context-event td.title")]
    # the indicator charts mark it
    chart = soup(client.get("/p/peru-cpc/indicators/1.1.a").text).select_one("script#series-data").string
    assert "Regional elections" in chart
    # bad input is refused with a message; no CSRF token is refused outright
    bad = client.post(
        "/p/peru-cpc/context",
        data={"csrf_token": token, "title": "x", "starts_on": "2019-02-01", "ends_on": "2019-01-01"},
    )
    assert bad.status_code == 422 and soup(bad.text).select_one("p.errors") is not None
    assert client.post("/p/peru-cpc/context", data={"title": "y", "starts_on": "2019-01-01"}).status_code == 403
    # partner users may not record events
    client = login_as(client, "partner", partner="ilo")
    assert client.get("/p/peru-cpc/context").status_code == 403
