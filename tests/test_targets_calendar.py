"""Target history and the reporting calendar: revisions in force from their quarter, reasons
required on reload, annual indicators, partner reporting spans, received dates, one "late"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.catalog_file import CatalogError
from mel.catalog.load_shared import TargetReason
from mel.catalog.models import Indicator, Partner, Partnership, Target, TargetRevision, indicator_partner
from mel.catalog.service import load_catalog
from mel.core.audit import AuditEntry
from mel.core.db import transaction
from mel.core.periods import quarter_end
from mel.quality.completeness import reporting_grid
from mel.quality.reminders import due_reports
from mel.results.counting import Scope
from mel.results.iptt import iptt_table
from mel.results.portfolio import late_reports
from mel.results.progress import load_partnership
from tests.html_soup import soup
from tests.value_factory import add_submission

CATALOG = """\
partnership:
  code: tc-cpc
  name: Targets and calendar
  country: PE
  starts_on: 2019-01-01
  ends_on: 2020-12-31
  fiscal_year_starts: 10
partners:
  - code: tc-alpha
    name: Alpha
  - code: tc-beta
    name: Beta
    starts_on: 2019-07-01
    ends_on: 2020-03-31
results:
  - code: "1"
    level: outcome
    statement: More prosecutions
indicators:
  - code: 1.a
    result: "1"
    unit: count
    aggregation: sum
    direction: increase
    frequency: quarterly
    name: Cases supported
    partners: [tc-alpha, tc-beta]
    target:
      value: 100
      quarters: {2019Q1: 10, 2019Q2: 10, 2019Q3: 10, 2019Q4: 10}
      partners: {tc-alpha: {value: 60}}
      revisions:
        - effective: 2019Q3
          date: 2019-06-20
          reason: Second prosecutors' office added
          approved_by: Donor
          value: 140
          quarters: {2019Q1: 20, 2019Q2: 20, 2019Q3: 20, 2019Q4: 20}
  - code: 1.b
    result: "1"
    unit: percent
    aggregation: latest
    direction: increase
    frequency: annual
    reported_in: Q4
    name: Survey share
    partners: [tc-alpha]
"""


def _load(session_factory: sessionmaker[Session], path: Path, reason: TargetReason | None = None) -> list[str]:
    with transaction(session_factory) as s:
        return load_catalog(session=s, path=path, target_reason=reason).updated


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _partnership(session: Session, code: str = "tc-cpc") -> Partnership:
    partnership = load_partnership(session, code)
    assert partnership is not None
    return partnership


@pytest.fixture
def tc(session_factory: sessionmaker[Session], tmp_path: Path) -> Path:
    path = _write(tmp_path, CATALOG)
    _load(session_factory, path)
    return path


def test_revision_changes_targets_and_statuses_only_from_its_quarter(tc: Path, session: Session) -> None:
    for period in ("2019Q1", "2019Q2", "2019Q3", "2019Q4"):
        add_submission(session, partner="tc-alpha", period=period, values=[("1.a", {}, 10)])
    session.commit()
    partnership = _partnership(session)
    table = iptt_table(session, partnership, Scope(), granularity="quarter")
    row = next(r for r in table.rows if r.indicator == "1.a")
    cells = {b.label: c for b, c in zip(table.buckets, row.cells, strict=True)}
    # before 2019Q3 the original 10 is in force: 10 of 10 is 100 %, no deviation
    for q in ("2019Q1", "2019Q2"):
        assert (cells[q].target, cells[q].pct_of_target, cells[q].deviation) == (10, 100, None)
        assert cells[q].original_target == 10  # revised since, so the original is carried beside it
    # from 2019Q3 the revised 20: 10 of 20 is 50 %, under the band
    for q in ("2019Q3", "2019Q4"):
        assert (cells[q].target, cells[q].pct_of_target, cells[q].deviation) == (20, 50, "under")
        assert cells[q].original_target == 10
    assert row.lop.target == 140 and row.lop.original_target == 100  # the LOP stands at 2019Q4
    assert row.lop.pct_of_target == pytest.approx(40 / 140 * 100)
    # the partner row has its own target, hence a % of target
    alpha = next(c for c in row.children if c.kind == "partner")
    assert alpha.lop.target == 60 and alpha.lop.pct_of_target == pytest.approx(40 / 60 * 100)
    records = table.records("en", originals=True)
    assert records[0]["2019Q3 original target"] == 10 and records[0]["LOP original target"] == 100
    assert "2019Q3 original target" not in table.records("en")[0]  # exports show originals when asked


def _lop(s: Session) -> Target:
    """The life-of-partnership target of the whole indicator 1.a of the test partnership."""
    return s.scalars(
        select(Target)
        .join(Indicator)
        .join(Partnership)
        .where(Partnership.code == "tc-cpc", Indicator.code == "1.a", Target.period == "", Target.partner_id.is_(None))
    ).one()


def test_reload_with_a_changed_target_needs_a_reason(
    tc: Path, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    assert _load(session_factory, tc) == []  # an unchanged reload records nothing
    changed = _write(tmp_path, CATALOG.replace("          value: 140\n", "          value: 120\n"))
    with pytest.raises(CatalogError) as info:
        _load(session_factory, changed)
    message = "\n".join(info.value.problems)
    assert "indicators.1.a.target: the life-of-partnership target changes from 140 to 120" in message
    assert "mel catalog load --reason" in message
    with session_factory() as s:  # nothing was written
        lop = _lop(s)
        assert lop.value == 140 and len(lop.revisions) == 2

    # the file's own revision entry is the other way to give the reason
    updated = _load(session_factory, changed, TargetReason("Budget cut", "2020Q2", dt.date(2020, 4, 10)))
    assert any("revised from 2020Q2: Budget cut" in u for u in updated)
    with session_factory() as s:
        lop = _lop(s)
        assert [(r.value, r.effective_from, r.reason) for r in lop.revisions] == [
            (100, None, None),
            (140, "2019Q3", "Second prosecutors' office added"),
            (120, "2020Q2", "Budget cut"),
        ]
        assert lop.value == 120
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.load")).all()
        assert any("Budget cut" in str(a.after) for a in audit)
    assert _load(session_factory, changed) == []  # recorded: the same file reloads silently


def test_revision_entry_without_reason_is_refused(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    text = CATALOG.replace("          reason: Second prosecutors' office added\n", "")
    with pytest.raises(CatalogError) as info:
        _load(session_factory, _write(tmp_path, text))
    assert any("target.revisions[1].reason: a revised target needs the reason" in p for p in info.value.problems)


def _due_set(session: Session, partner: str, quarterly_only: bool) -> set[int]:
    rows = session.execute(
        select(Indicator.id, Indicator.frequency)
        .join(indicator_partner, indicator_partner.c.indicator_id == Indicator.id)
        .join(Partner, Partner.id == indicator_partner.c.partner_id)
        .where(Partner.code == partner)
    ).all()
    return {iid for iid, freq in rows if not quarterly_only or freq in (None, "quarterly")}


def test_annual_indicator_is_due_in_its_quarter_only(tc: Path, session: Session) -> None:
    for period in ("2019Q1", "2019Q4"):
        sub = add_submission(session, partner="tc-alpha", period=period, values=[("1.a", {}, 5)])
        sub.uploaded_at = dt.datetime.combine(quarter_end(period), dt.time(12))
    session.commit()
    grid = reporting_grid(session, _partnership(session), today=dt.date(2020, 3, 1), due_days=30)
    alpha = session.scalars(select(Partner).where(Partner.code == "tc-alpha")).one()
    q1, q4 = grid.cells[(alpha.id, "2019Q1")], grid.cells[(alpha.id, "2019Q4")]
    quarterly, every = _due_set(session, "tc-alpha", True), _due_set(session, "tc-alpha", False)
    assert q1.indicator_share == 1 / len(quarterly) == 1.0  # the annual 1.b is not due in Q1
    assert q4.indicator_share == 1 / len(every) == 0.5  # it is in Q4, and was not reported


def test_partner_reporting_span(tc: Path, session: Session) -> None:
    partnership = _partnership(session)
    beta = session.scalars(select(Partner).where(Partner.code == "tc-beta")).one()
    today = dt.date(2021, 3, 1)
    grid = reporting_grid(session, partnership, today=today, due_days=30)
    owed = [q for q in grid.periods if grid.cells[(beta.id, q)].state != "not_due"]
    assert owed == ["2019Q3", "2019Q4", "2020Q1"]  # its agreement: July 2019 to March 2020
    assert {grid.cells[(beta.id, q)].state for q in owed} == {"missing"}
    reminders = [
        r.period for r in due_reports(session, partnership, today=today, due_days=30) if r.partner == "tc-beta"
    ]
    assert reminders == owed


def test_one_definition_of_late(tc: Path, session: Session) -> None:
    on_time = add_submission(session, partner="tc-alpha", period="2019Q1", values=[("1.a", {}, 5)])
    on_time.uploaded_at = dt.datetime(2019, 4, 20, 9)
    late = add_submission(session, partner="tc-alpha", period="2019Q2", values=[("1.a", {}, 5)])
    late.uploaded_at = dt.datetime(2019, 9, 1, 9)  # due 2019-07-30
    session.commit()
    partnership = _partnership(session)
    today = dt.date(2019, 12, 1)
    grid = reporting_grid(session, partnership, today=today, due_days=30)
    portfolio = late_reports(session, [partnership], today=today, due_days=30)[partnership.id]
    # alpha: 2019Q2 received late, 2019Q3 not received (due 2019-10-30); beta: 2019Q3 not received
    expected = {("tc-alpha", "2019Q2"), ("tc-alpha", "2019Q3"), ("tc-beta", "2019Q3")}
    assert {(r.partner.code, r.period) for r in portfolio} == expected
    assert grid.late == len(expected) == len(portfolio)
    by_key = {(r.partner.code, r.period): r for r in portfolio}
    assert by_key[("tc-alpha", "2019Q2")].received_on == dt.date(2019, 9, 1)
    assert by_key[("tc-alpha", "2019Q2")].days_late == (dt.date(2019, 9, 1) - quarter_end("2019Q2")).days - 30


def _csrf(page: str) -> str:
    field = soup(page).select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def test_received_date_set_by_an_officer(
    client: TestClient, session: Session, login_as: object, settings: object
) -> None:
    sub = add_submission(session, partner="ilo", period="2019Q1", values=[("1.b", {}, 3)], status="submitted")
    sub.uploaded_at = dt.datetime(2019, 6, 1, 10)  # uploaded late (due 2019-04-30)
    session.commit()
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    ilo = session.scalars(select(Partner).where(Partner.code == "ilo")).one()
    today = dt.date(2019, 7, 1)
    assert reporting_grid(session, partnership, today=today, due_days=30).cells[(ilo.id, "2019Q1")].state == "late"

    partner = login_as(client, "partner", partner="ilo")  # type: ignore[operator]
    partner_page = partner.get(f"/submissions/{sub.id}").text
    assert soup(partner_page).select_one("form.received-form") is None  # the route's policy refuses partners
    token = _csrf(partner_page)
    refused = partner.post(f"/submissions/{sub.id}/received", data={"received_on": "2019-04-10", "csrf_token": token})
    assert refused.status_code == 403

    officer = login_as(client, "officer")  # type: ignore[operator]
    page = officer.get(f"/submissions/{sub.id}").text
    assert soup(page).select_one("form.received-form") is not None
    no_token = officer.post(f"/submissions/{sub.id}/received", data={"received_on": "2019-04-10"})
    assert no_token.status_code == 403
    token = _csrf(page)
    after = officer.post(f"/submissions/{sub.id}/received", data={"received_on": "2019-06-02", "csrf_token": token})
    assert after.status_code == 422  # after its upload
    ok = officer.post(
        f"/submissions/{sub.id}/received",
        data={"received_on": "2019-04-10", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    session.expire_all()
    assert session.get(type(sub), sub.id).received_on == dt.date(2019, 4, 10)  # type: ignore[union-attr]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission.received_on")).one()
    assert entry.entity_id == str(sub.id) and entry.after == {"received_on": "2019-04-10"}
    assert entry.user_id is not None
    cell = reporting_grid(session, partnership, today=today, due_days=30).cells[(ilo.id, "2019Q1")]
    assert (cell.state, cell.received_on) == ("on_time", dt.date(2019, 4, 10))


def test_target_history_page_and_officer_revision(client: TestClient, session: Session, login_as: object) -> None:
    officer = login_as(client, "officer")  # type: ignore[operator]
    page = soup(officer.get("/p/peru-cpc/targets").text)
    revised = page.select("tr.target-revision.revision[data-indicator='1.b']")
    assert len(revised) == 1 and "extended" in revised[0].select_one("td.reason").get_text()  # type: ignore[union-attr]
    target = session.scalars(
        select(Target)
        .join(Indicator)
        .join(Partnership)
        .where(Partnership.code == "peru-cpc", Indicator.code == "1.b", Target.period == "")
    ).one()
    assert page.select_one("form#revise-target") is not None
    token = _csrf(str(page))
    form = {"target": str(target.id), "value": "170", "effective": "2021Q1", "reason": "", "csrf_token": token}
    assert officer.post("/p/peru-cpc/targets/revise", data=form).status_code == 422  # a reason is required
    form["reason"] = "Mid-term review"
    assert officer.post("/p/peru-cpc/targets/revise", data=form, follow_redirects=False).status_code == 303
    session.expire_all()
    values = [
        (r.value, r.effective_from, r.source)
        for r in session.scalars(
            select(TargetRevision).where(TargetRevision.target_id == target.id).order_by(TargetRevision.id)
        )
    ]
    assert values[-1] == (170, "2021Q1", "officer") and len(values) == 3
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "target.revise")).one().user_id is not None

    evaluator = login_as(client, "evaluator")  # type: ignore[operator]
    shown = evaluator.get("/p/peru-cpc/targets")
    assert shown.status_code == 200 and soup(shown.text).select_one("form#revise-target") is None
    assert evaluator.post("/p/peru-cpc/targets/revise", data=form).status_code == 403

    partner = login_as(client, "partner", partner="idl")  # type: ignore[operator]
    rows = soup(partner.get("/p/peru-cpc/targets").text).select("tr.target-revision")
    scopes = {row.select_one("td.scope").get_text(" ", strip=True) for row in rows}  # type: ignore[union-attr]
    assert any("Instituto de Defensa Legal" in s for s in scopes)  # its own partner target
    assert not any("International Labour" in s or "ABA" in s for s in scopes)  # not other partners'
    assert partner.post("/p/peru-cpc/targets/revise", data=form).status_code == 403
    outsider = login_as(client, "partner", partner="ijm")  # type: ignore[operator]
    assert outsider.get("/p/peru-cpc/targets").status_code == 404  # another partnership's partner


def test_cli_catalog_load_with_a_reason(
    tc: Path, tmp_path: Path, db_url: str, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mel.cli import app

    monkeypatch.setenv("MEL_DATABASE_URL", db_url)
    changed = _write(tmp_path, CATALOG.replace("          value: 140\n", "          value: 160\n"))
    refused = CliRunner().invoke(app, ["catalog", "load", str(changed)])
    assert refused.exit_code == 1 and "changes from 140 to 160 without a recorded reason" in refused.output
    bad = CliRunner().invoke(app, ["catalog", "load", str(changed), "--reason", "x", "--effective", "2020-04"])
    assert bad.exit_code == 2
    ok = CliRunner().invoke(app, ["catalog", "load", str(changed), "--reason", "New office", "--effective", "2020Q1"])
    assert ok.exit_code == 0, ok.output
    with session_factory() as s:
        last = _lop(s).revisions[-1]
        assert (last.value, last.effective_from, last.reason) == (160, "2020Q1", "New office")
