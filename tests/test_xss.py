"""Issue 12: every text that people type reaches pages escaped, in HTML and inside <script> JSON.

Each source (catalog names, context events, narrative, training titles, indicator comments, review
comments, measurement sources) gets its own payload that tries both to close a <script> element and
to break out of an attribute. The pages are parsed with BeautifulSoup: no <img> element, no event
handler attribute, every script either external or JSON that still parses, and each payload visible
as the text it was typed as.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.catalog.models import Indicator, Partner, Partnership, Result
from mel.core.audit import CLI, Actor
from mel.core.settings import Settings
from mel.reports.models import Submission
from mel.reports.review import review_submission
from mel.reports.service import import_workbook
from mel.workbooks.report_writer import (
    IndicatorRow,
    MeasurementRow,
    Report,
    TrainingRow,
    write_measurements,
    write_report,
)
from mel.workbooks.spec import dimension_specs, partner_spec
from tests.report_factory import csrf

Login = Callable[..., TestClient]
SHIP = "peru-cpc"
INDICATOR = "1.1.a"


def payload(kind: str) -> str:
    return f'{kind}</script><img src=x onerror=alert(1)>"><img src=x onerror=alert(1)>'


KINDS = (
    "partnership",
    "partner",
    "indicator",
    "result",
    "event",
    "narrative",
    "training",
    "comment",
    "review",
    "source",
)
P = {kind: payload(kind) for kind in KINDS}


def _catalog_names(session: Session) -> None:
    partnership = session.scalars(select(Partnership).where(Partnership.code == SHIP)).one()
    partnership.name = partnership.name_es = P["partnership"]
    session.execute(update(Partner).where(Partner.partnership_id == partnership.id).values(name=P["partner"]))
    session.execute(
        update(Indicator).where(Indicator.partnership_id == partnership.id).values(name=P["indicator"], name_es=None)
    )
    session.execute(
        update(Result).where(Result.partnership_id == partnership.id).values(statement=P["result"], statement_es=None)
    )
    session.commit()


def _report(session: Session, period: str, value: int) -> bytes:
    spec = partner_spec(session, partner_code="ilo", period=period, lang="en")
    year, quarter = int(period[:4]), int(period[-1])
    day = dt.date(year, 3 * quarter - 1, 10)
    report = Report(
        partner="ilo",
        period=period,
        indicators=[IndicatorRow(INDICATOR, value, comment=P["comment"]), IndicatorRow("1.2.a", 2)],
        trainings=[TrainingRow(P["training"], day, "prosecution", "cusco", "virtual", "mpfn", female=6, male=4)],
        narrative=[("achievements", P["narrative"]), ("challenges", P["narrative"])],
    )
    return write_report(report, spec.dimensions, "en")


def _measurements(session: Session) -> bytes:
    partnership_id = session.scalars(select(Partnership.id).where(Partnership.code == SHIP)).one()
    rows = [
        MeasurementRow(INDICATOR, "baseline", 2017, 8, source=P["source"], note=P["source"]),
        MeasurementRow(INDICATOR, "endline", 2022, 20, source=P["source"]),
    ]
    return write_measurements(rows, dimension_specs(session, partnership_id, "en"), "en")


@pytest.fixture
def hostile(client: TestClient, login_as: Login, session: Session, settings: Settings) -> dict[str, int]:
    """A partnership whose every typed text is hostile; returns the ids of the submissions made."""
    login_as(client, "partner", partner="ilo", email="ilo@example.org")
    login_as(client, "officer", email="reviewer@example.org")
    _catalog_names(session)
    partner = session.scalars(select(User).where(User.email == "ilo@example.org")).one()
    officer = session.scalars(select(User).where(User.email == "reviewer@example.org")).one()
    as_partner = Actor(partner.email, partner.id, "10.0.0.1", role="partner")
    as_officer = Actor(officer.email, officer.id, "10.0.0.2", role="officer")
    ids = {}
    for period, value in (("2021Q2", 11), ("2021Q3", 17), ("2021Q4", 23)):
        result = import_workbook(
            session=session,
            data=_report(session, period, value),
            filename=f"{period}.xlsx",
            settings=settings,
            partner_code="ilo",
            period=period,
            actor=as_partner,
        )
        assert result.status == "accepted", [e.message for e in result.errors]
        assert result.submission_id is not None
        ids[period] = result.submission_id
    review_submission(
        session=session, submission_id=ids["2021Q2"], action="returned", comment=P["review"], actor=as_officer
    )
    review_submission(
        session=session, submission_id=ids["2021Q3"], action="approved", comment=P["review"], actor=as_officer
    )
    measured = import_workbook(
        session=session,
        data=_measurements(session),
        filename="m.xlsx",
        settings=settings,
        partnership_code=SHIP,
        actor=CLI,
    )
    assert measured.status == "accepted", [e.message for e in measured.errors]
    session.commit()
    # the context event through the officer's own form
    token = csrf(client, f"/p/{SHIP}/context")
    added = client.post(
        f"/p/{SHIP}/context",
        data={
            "title": P["event"],
            "starts_on": "2021-07-01",
            "ends_on": "",
            "regions": "",
            "description": P["event"],
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert added.status_code in (200, 303), added.text
    return ids


def assert_safe(html: str, url: str) -> BeautifulSoup:
    page = BeautifulSoup(html, "html.parser")
    assert "<img src=x" not in html.lower(), url
    assert page.find("img") is None, url
    handlers = [(tag.name, attr) for tag in page.find_all(True) for attr in tag.attrs if attr.lower().startswith("on")]
    assert handlers == [], url
    for script in page.find_all("script"):
        if script.get("src"):
            assert not (script.string or "").strip(), url
        else:
            assert script.get("type") == "application/json", (url, script)
            json.loads(script.string or "")  # still one whole JSON document: nothing broke out of it
    return page


def texts_on(page: BeautifulSoup) -> set[str]:
    """Which payloads the page shows as text (or carries in its JSON), i.e. the texts that reached it."""
    shown = page.get_text(" ")
    data = " ".join(
        json.dumps(json.loads(s.string or "null")) for s in page.find_all("script", type="application/json")
    )
    found = {kind for kind, text in P.items() if text in shown}
    found |= {kind for kind, text in P.items() if json.dumps(text)[1:-1] in data}
    return found


PAGES = {
    "/": {"partnership"},
    f"/p/{SHIP}": {"indicator", "result"},
    f"/p/{SHIP}/theory-of-change": {"result"},
    f"/p/{SHIP}/indicators/{INDICATOR}": {"indicator", "event"},
    f"/p/{SHIP}/trainings": {"partnership"},
    f"/p/{SHIP}/context": {"event"},
    f"/p/{SHIP}/comparison": {"indicator"},
    f"/p/{SHIP}/comparison/sources/{INDICATOR}": {"source"},
    f"/p/{SHIP}/iptt": {"indicator", "partner"},
    f"/p/{SHIP}/quality": {"partner"},
    "/review": {"partner"},
    "/reports/history?partner=ilo": {"review"},
}


def test_every_typed_text_is_escaped(client: TestClient, login_as: Login, hostile: dict[str, int]) -> None:
    login_as(client, "officer", email="reviewer@example.org")
    pages = {**PAGES}
    pages |= {f"/submissions/{sid}": {"narrative", "training", "comment", "partner"} for sid in hostile.values()}
    pages[f"/submissions/{hostile['2021Q2']}"] = pages[f"/submissions/{hostile['2021Q2']}"] | {"review"}
    missing = {}
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        page = assert_safe(response.text, url)
        if not expected <= texts_on(page):
            missing[url] = expected - texts_on(page)
    assert missing == {}, "these pages did not show the texts the test meant to try on them"


def test_indicator_chart_json_keeps_the_event_title(
    client: TestClient, login_as: Login, hostile: dict[str, int]
) -> None:
    login_as(client, "officer", email="reviewer@example.org")
    html = client.get(f"/p/{SHIP}/indicators/{INDICATOR}").text
    page = assert_safe(html, "indicator")
    script = page.select_one("script#series-data")
    assert script is not None
    assert "</script" not in (script.string or "")
    chart = json.loads(script.string or "")
    assert P["event"] in [e["title"] for e in chart["events"]]  # with the catalog's own events


def test_pages_of_partners_and_evaluators_are_escaped(
    client: TestClient, login_as: Login, hostile: dict[str, int], session: Session
) -> None:
    approved = session.scalars(select(Submission.id).where(Submission.id == hostile["2021Q3"])).one()
    for role, urls in (
        (
            "partner",
            ["/", f"/p/{SHIP}", f"/p/{SHIP}/indicators/{INDICATOR}", f"/submissions/{approved}", "/reports/history"],
        ),
        ("evaluator", [f"/p/{SHIP}/comparison", f"/p/{SHIP}/indicators/{INDICATOR}", f"/p/{SHIP}/iptt"]),
    ):
        login_as(client, role, **({"partner": "ilo", "email": "ilo@example.org"} if role == "partner" else {}))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            assert_safe(response.text, f"{role} {url}")
