"""Beside a training event: its repeat participants, the officer's follow-up form, and the IPTT workbook's
stage names. Expected numbers are the ones typed here; pages are read through BeautifulSoup."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.core.audit import AuditEntry
from mel.reports.models import TrainingEvent, TrainingFollowUp
from mel.reports.training_followup import FollowUpCounts, followup_period
from mel.results.counting import Scope
from mel.results.followup import followup_rates
from mel.results.training_filters import TrainingFilter
from tests.html_soup import soup
from tests.training_factory import Event, Row, add_trainings
from tests.value_factory import add_submission

URL = "/p/peru-cpc/trainings"
Login = Callable[..., TestClient]


@pytest.fixture
def event_id(session: Session) -> int:
    """ILO's approved 2020Q3 report with one course: 30 participants, 8 of them trained before (MPFN row)."""
    sub = add_submission(session, partner="ilo", period="2020Q3", values=[("1.1.a", {}, 30.0)], status="approved")
    rows = [Row("mpfn", female=10, male=8, repeat=8), Row("pnp", female=6, male=6)]
    (eid,) = add_trainings(session, sub, [Event("Oral litigation", "prosecution", "cusco", "virtual", rows)])
    session.commit()
    return eid


def _form(page: str, event: int) -> BeautifulSoup:
    form = soup(page).select_one(f"article#event-{event} form.followup-form")
    assert form is not None
    return form


def _post(client: TestClient, event: int, token: str, **counts: object) -> Response:
    data = {"csrf_token": token, "back": "pillar=prosecution", **{k: str(v) for k, v in counts.items()}}
    return client.post(f"{URL}/events/{event}/followup", data=data, follow_redirects=False)


def test_repeat_participants_show_on_each_row_of_the_event(client: TestClient, login_as: Login, event_id: int) -> None:
    page = soup(login_as(client, "officer").get(URL).text)
    cells = [td.get_text(strip=True) for td in page.select(f"article#event-{event_id} table.attendance td.repeat")]
    assert cells == ["8", "—"]  # the PNP row recorded none: shown as not recorded, not as 0


def test_officer_records_a_followup_beside_the_event(
    client: TestClient, login_as: Login, session: Session, event_id: int
) -> None:
    officer = login_as(client, "officer")
    token = _form(officer.get(URL).text, event_id).select_one("input[name=csrf_token]")["value"]
    response = _post(officer, event_id, token, months=6, reached=20, in_post=15, applying=11)
    assert response.status_code == 303
    assert response.headers["location"] == f"{URL}?pillar=prosecution#event-{event_id}"
    session.expire_all()
    row = session.scalars(select(TrainingFollowUp)).one()
    assert (row.submission_id, row.months, row.participants, row.reached, row.in_post, row.applying) == (
        None,
        6,
        30,
        20,
        15,
        11,
    )
    assert row.entered_by_id is not None and row.period == "2021Q1"  # six months after 2020-07-01
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "training.followup")).one()
    assert audit.entity_id == str(event_id) and audit.user_id == row.entered_by_id
    # shown beside the event and pooled with the rates (an officer's entry counts like an approved one)
    page = soup(officer.get(URL).text)
    shown = page.select_one(f"article#event-{event_id} p.followup")
    assert shown is not None and (shown["data-reached"], shown["data-in-post"]) == ("20", "15")
    # the quarters chosen select the events; their follow-up shows whichever later quarter made it
    earlier = soup(officer.get(URL, params={"to": "2020Q4"}).text)
    assert earlier.select_one(f"article#event-{event_id} p.followup[data-reached='20']") is not None
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    rates = followup_rates(session, TrainingFilter(partnership.id, Scope()))
    assert (rates.reached, rates.in_post, rates.applying) == (20, 15, 11)
    assert rates.retention_pct == pytest.approx(75.0)
    # the same event after the same months again would count the same people twice
    again = _post(officer, event_id, token, months=6, reached=5, in_post=5, applying=5)
    assert again.status_code == 422
    assert session.scalar(select(func.count(TrainingFollowUp.id))) == 1


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"months": 6, "reached": 10, "in_post": 11, "applying": 3}, "Still in post cannot be more than reached."),
        ({"months": 6, "reached": 31, "in_post": 1, "applying": 1}, "Reached cannot be more than the event"),
        ({"months": 0, "reached": 1, "in_post": 1, "applying": 1}, "1 to 120"),
        ({"months": 6, "reached": "x", "in_post": 1, "applying": 1}, "whole numbers"),
    ],
)
def test_followup_form_refuses_impossible_counts(
    client: TestClient, login_as: Login, session: Session, event_id: int, counts: dict[str, object], message: str
) -> None:
    officer = login_as(client, "officer")
    token = _form(officer.get(URL).text, event_id).select_one("input[name=csrf_token]")["value"]
    response = _post(officer, event_id, token, **counts)
    assert response.status_code == 422
    assert message in response.text
    assert session.scalar(select(func.count(TrainingFollowUp.id))) == 0


def test_followup_refusal_is_translated(client: TestClient, login_as: Login, event_id: int) -> None:
    officer = login_as(client, "officer")
    token = _form(officer.get(URL + "?lang=es").text, event_id).select_one("input[name=csrf_token]")["value"]
    response = _post(officer, event_id, token, months=6, reached=10, in_post=11, applying=1)
    assert "Siguen en el puesto no puede ser mayor que los contactados." in response.text


def test_only_staff_with_a_csrf_token_may_record_a_followup(
    client: TestClient, login_as: Login, session: Session, event_id: int
) -> None:
    officer = login_as(client, "officer")
    assert _post(officer, event_id, "forged", months=6, reached=1, in_post=1, applying=1).status_code == 403
    partner = login_as(client, "partner", partner="ilo")
    page = partner.get(URL).text
    assert soup(page).select("form.followup-form") == []  # no form for a partner
    token = soup(page).select_one("input[name=csrf_token]")
    assert token is not None
    assert _post(partner, event_id, str(token["value"]), months=6, reached=1, in_post=1, applying=1).status_code == 403
    evaluator = login_as(client, "evaluator")
    token = soup(evaluator.get(URL).text).select_one("input[name=csrf_token]")
    assert token is not None
    assert (
        _post(evaluator, event_id, str(token["value"]), months=6, reached=1, in_post=1, applying=1).status_code == 403
    )
    assert session.scalar(select(func.count(TrainingFollowUp.id))) == 0
    # an event of another partnership (or none) is not found, not stored
    officer = login_as(client, "officer")
    token = _form(officer.get(URL).text, event_id).select_one("input[name=csrf_token]")["value"]
    missing = (session.scalar(select(func.max(TrainingEvent.id))) or 0) + 1
    assert _post(officer, missing, token, months=6, reached=1, in_post=1, applying=1).status_code == 404


def test_followups_beside_events_follow_the_partner_scope(
    client: TestClient, login_as: Login, session: Session, event_id: int
) -> None:
    officer = login_as(client, "officer")
    token = _form(officer.get(URL).text, event_id).select_one("input[name=csrf_token]")["value"]
    assert _post(officer, event_id, token, months=6, reached=20, in_post=15, applying=11).status_code == 303
    own = soup(login_as(client, "partner", partner="ilo").get(URL).text)
    assert own.select_one(f"article#event-{event_id} p.followup") is not None
    other = soup(login_as(client, "partner", partner="chs").get(URL).text)
    assert other.select(f"article#event-{event_id}") == []  # another organization's event and its follow-up


def test_followup_period_is_months_after_the_start_never_in_the_future() -> None:
    import datetime as dt

    assert followup_period(dt.date(2020, 8, 12), 6) == "2021Q1"
    assert followup_period(dt.date(2020, 11, 30), 2) == "2021Q1"
    assert followup_period(dt.date.today(), 12) == f"{dt.date.today().year}Q{(dt.date.today().month - 1) // 3 + 1}"
    assert FollowUpCounts(6, 1, 1, 1).months == 6


@pytest.mark.parametrize(("lang", "names"), [("en", {"Basic", "Established"}), ("es", {"Básica", "Consolidada"})])
def test_iptt_workbook_writes_stage_names(
    client: TestClient, login_as: Login, session: Session, lang: str, names: set[str]
) -> None:
    rows = [("1.d", {"region": "lima"}, 3.0), ("1.d", {"region": "cusco"}, 2.0)]
    add_submission(session, partner="ilo", period="2021Q4", values=rows, status="approved")
    session.commit()
    data = login_as(client, "officer").get(f"/p/peru-cpc/iptt.xlsx?lang={lang}&granularity=fy").content
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    stage_rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r[2] == "1.d"]
    cells = {v for r in stage_rows for v in r[7:] if v is not None}
    assert names <= cells  # the regions' stages by name
    assert not any(isinstance(v, int | float) and v in (2, 3) for r in stage_rows for v in r[7:])


def test_stage_values_pass_the_gate(client: TestClient, login_as: Login, session: Session) -> None:
    """ILO's regional stages: staff read the IPTT's region rows by level name and the values export's
    rows; another partner's user gets none of ILO's value rows, and no ILO unit on the indicator page."""
    rows = [("1.d", {"region": "lima"}, 3.0), ("1.d", {"region": "cusco"}, 2.0)]
    add_submission(session, partner="ilo", period="2021Q4", values=rows, status="approved")
    session.commit()
    officer = login_as(client, "officer")
    page = soup(officer.get("/p/peru-cpc/iptt?expand=1.d").text)
    lima = page.select_one("tr[data-code='1.d'][data-kind='category'][data-label='Region: Lima']")
    assert lima is not None and "Established" in lima.get_text()
    baseline = page.select_one("tr[data-code='1.d'][data-kind='indicator'] td.baseline")
    assert baseline is not None and baseline.get_text(strip=True) == "Initial"  # the catalog's baseline 1
    staff_rows = [ln for ln in officer.get("/p/peru-cpc/exports/values.csv").text.splitlines() if ln.startswith("1.d,")]
    assert len(staff_rows) == 2
    partner = login_as(client, "partner", partner="aba-roli")
    values = partner.get("/p/peru-cpc/exports/values.csv").content.decode("utf-8-sig")
    assert [ln for ln in values.splitlines() if ln.startswith("1.d,")] == []
    stages = soup(partner.get("/p/peru-cpc/indicators/1.d").text)
    assert sum(int(tr["data-count"]) for tr in stages.select("table.stage-distribution tr.stage-level")) == 0
