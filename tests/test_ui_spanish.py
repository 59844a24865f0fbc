"""Spanish where a Spanish reader looks: reference sheets, context events, warnings, names and numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mel.catalog.models import ContextEvent, Indicator, Partnership
from mel.catalog.service import load_catalog
from mel.core.i18n import format_day, format_number
from mel.reports.import_warnings import warning_message
from mel.reports.models import ImportWarning
from tests.catalog_factory import BASE, write
from tests.html_soup import soup
from tests.progress_data import store_history

SPANISH_SHEET = """\
    definition_es: Operadores que completaron un curso del proyecto.
    rationale_es: Mide el alcance de la capacitación.
"""
EVENTS = """\
context_events:
  - title: Lockdown
    title_es: Cuarentena
    description: Offices closed.
    description_es: Oficinas cerradas.
    starts_on: 2020-03-16
  - title: Flood
    starts_on: 2019-02-01
"""


def peru(session: Session) -> Partnership:
    return session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()


def indicator(session: Session, code: str) -> Indicator:
    return session.scalars(
        select(Indicator).join(Partnership).where(Partnership.code == "peru-cpc", Indicator.code == code)
    ).one()


def test_catalog_loads_spanish_sheet_and_event_fields(empty_session: Session, tmp_path: Path) -> None:
    text = BASE.replace("    name: Operators trained\n", "    name: Operators trained\n" + SPANISH_SHEET) + EVENTS
    load_catalog(session=empty_session, path=write(tmp_path, text))
    empty_session.commit()
    ind = empty_session.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
    assert ind.definition_es == "Operadores que completaron un curso del proyecto."
    assert ind.sheet_field("definition", "es").text == ind.definition_es
    assert not ind.sheet_field("definition", "es").fallback
    assert ind.sheet_field("limitations", "es").text is None  # nothing in either language: no mark
    events = {e.title: e for e in empty_session.scalars(select(ContextEvent))}
    assert events["Lockdown"].title_es == "Cuarentena"
    assert events["Lockdown"].description_es == "Oficinas cerradas."
    assert events["Flood"].localized_title("es").fallback
    assert not events["Flood"].localized_title("en").fallback
    # a translation added to the catalog later reaches the stored event on reload
    later = text.replace("    starts_on: 2019-02-01\n", "    title_es: Inundación\n    starts_on: 2019-02-01\n")
    load_catalog(session=empty_session, path=write(tmp_path, later))
    empty_session.commit()
    empty_session.refresh(events["Flood"])
    assert events["Flood"].title_es == "Inundación"


@pytest.fixture
def empty_session(empty_db_url: str) -> Session:
    from mel.core.db import make_engine, make_sessionmaker

    engine = make_engine(empty_db_url)
    with make_sessionmaker(engine)() as session:
        yield session  # type: ignore[misc]
    engine.dispose()


def test_reference_sheet_in_spanish_with_english_fallback_marked(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    ind = indicator(session, "1.1.a")
    ind.definition, ind.definition_es = "Operators who completed a course.", "Operadores que completaron un curso."
    ind.rationale, ind.rationale_es = "Measures reach.", None
    session.commit()
    client = login_as(client, "officer")
    sheet = soup(client.get("/p/peru-cpc/indicators/1.1.a?lang=es").text).select_one("dl.sheet")
    assert sheet.select_one("dd.definition").get_text(strip=True) == "Operadores que completaron un curso."
    assert sheet.select_one("dd.definition small.fallback") is None
    rationale = sheet.select_one("dd.rationale")
    assert rationale.select_one("span[lang=en]").get_text(strip=True) == "Measures reach."
    assert rationale.select_one("small.fallback").get_text(strip=True) == "(en inglés: aún sin traducción)"
    assert sheet.select_one("dd.frequency").get_text(strip=True) in {"trimestral", "anual", "—"}
    assert sheet.select_one("dd.target").get_text(strip=True) == "1.500"  # Babel, Spanish conventions
    english = soup(client.get("/p/peru-cpc/indicators/1.1.a?lang=en").text).select_one("dl.sheet")
    assert english.select_one("dd.definition").get_text(strip=True) == "Operators who completed a course."
    assert english.select(".fallback") == []
    assert english.select_one("dd.target").get_text(strip=True) == "1,500"


def test_context_events_in_the_viewers_language_with_region_names(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    partnership = peru(session)
    session.query(ContextEvent).filter(ContextEvent.partnership_id == partnership.id).delete()
    session.add_all(
        [
            ContextEvent(
                partnership_id=partnership.id,
                title="Lockdown",
                title_es="Cuarentena",
                starts_on=dt.date(2020, 3, 16),
                regions=["lima", "cusco"],
            ),
            ContextEvent(partnership_id=partnership.id, title="Flood", starts_on=dt.date(2019, 2, 1)),
        ]
    )
    session.commit()
    client = login_as(client, "officer")
    page = soup(client.get("/p/peru-cpc/context?lang=es").text)
    rows = {r.select_one("td.title span").get_text(strip=True): r for r in page.select("tr.context-event")}
    assert set(rows) == {"Cuarentena", "Flood"}
    assert rows["Cuarentena"].select_one(".fallback") is None
    assert rows["Flood"].select_one("td.title span")["lang"] == "en"
    assert rows["Flood"].select_one(".fallback") is not None
    regions = rows["Cuarentena"].select("td")[3].get_text(strip=True)
    assert "lima" not in regions and "Lima" in regions and "Cusco" in regions
    assert rows["Cuarentena"].select_one("time")["datetime"] == "2020-03-16"
    assert rows["Cuarentena"].select_one("time").get_text(strip=True) == format_day(dt.date(2020, 3, 16), "es")
    # the indicator chart's events are in Spanish too
    indicator_page = soup(client.get("/p/peru-cpc/indicators/1.1.a?lang=es").text)
    titles = [s.get_text(strip=True) for s in indicator_page.select("ol.events .event-title")]
    assert "Cuarentena" in titles


def test_stored_warning_reads_in_the_viewers_language(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    subs = store_history(session)
    sub = subs["ilo-2019Q2"]
    params = {"indicator": "1.1.a", "value": 1480.0, "median": 12.0, "low": 0.0, "high": 63.14}
    session.execute(
        insert(ImportWarning),
        [
            {
                "submission_id": sub.id,
                "code": "outlier",
                "sheet": "Indicadores",
                "cell": "F7",
                "message": warning_message("outlier", params, "es", ""),  # uploaded in Spanish
                "params": params,
            }
        ],
    )
    session.commit()
    client = login_as(client, "officer")
    english = soup(client.get(f"/submissions/{sub.id}?lang=en").text).select_one("tr.warning td.message")
    assert english.get_text(strip=True) == (
        "1.1.a: 1,480 is far from this partner's usual values (median 12, expected between 0 and 63.1); "
        "please check it."
    )
    spanish = soup(client.get(f"/submissions/{sub.id}?lang=es").text).select_one("tr.warning td.message")
    text = spanish.get_text(strip=True)
    assert "1.480" in text and "63,1" in text and "usual values" not in text


def test_old_warning_without_parameters_keeps_its_text() -> None:
    assert warning_message("outlier", None, "en", "stored text") == "stored text"
    assert warning_message("unknown_code", {"value": 1}, "es", "stored") == "stored"


@pytest.mark.parametrize(
    ("value", "digits", "en", "es"),
    [
        (1480, 0, "1,480", "1.480"),
        (1480.26, 1, "1,480.3", "1.480,3"),
        (63.14, 0, "63.1", "63,1"),
        (None, 0, "—", "—"),
        (0, 0, "0", "0"),
    ],
)
def test_numbers_follow_the_viewers_locale(value: float | None, digits: int, en: str, es: str) -> None:
    assert format_number(value, "en", digits) == en
    assert format_number(value, "es", digits) == es


def test_dates_follow_the_viewers_locale() -> None:
    assert format_day(dt.date(2019, 9, 30), "en") == "Sep 30, 2019"
    assert format_day("2019-09-30", "es") == "30 sept 2019"


def test_account_page_names_role_and_organization(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    login_as(client, "partner", partner="chs")
    page = soup(client.get("/account?lang=es").text)
    assert page.select_one("dd.role").get_text(strip=True) == "Socio implementador"
    partnership = peru(session)
    chs = next(p for p in partnership.partners if p.code == "chs")
    assert page.select_one("dd.organization").get_text(strip=True) == f"{chs.name} · {partnership.name_es}"
    login_as(client, "officer")
    page = soup(client.get("/account?lang=en").text)
    assert page.select_one("dd.role").get_text(strip=True) == "Program officer"
    assert page.select_one("dd.organization") is None
