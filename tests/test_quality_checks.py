"""Data-quality checks on a seeded history: each flaw gives its flag, the clean partner gives none.

The expectations come from ``tests.quality_history``, written by hand from the rows it stores.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Partnership, indicator_partner
from mel.quality.completeness import reporting_grid
from mel.quality.consistency import series_flags
from mel.quality.reminders import due_reports
from mel.quality.training_consistency import training_consistency
from mel.results.counting import Scope
from tests import quality_history as h


@pytest.fixture
def seeded(session: Session) -> dict[tuple[str, str], int]:
    return h.seed(session)


def _partnership(session: Session) -> Partnership:
    return session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()


def _pid(session: Session, code: str) -> int:
    found = session.scalar(select(Partner.id).where(Partner.code == code))
    assert found is not None
    return found


def test_grid_flags_missing_late_and_incomplete_disaggregation(session: Session, seeded: dict) -> None:
    partnership = _partnership(session)
    grid = reporting_grid(session, partnership, today=h.TODAY, due_days=h.DUE_DAYS)
    assert grid.periods == h.PERIODS
    aba = _pid(session, "aba-roli")
    states = {period: grid.cells[(aba, period)].state for period in h.PERIODS}
    assert states[h.MISSING[1]] == "missing"
    assert states[h.LATE[1]] == "late"
    assert {s for p, s in states.items() if p not in (h.MISSING[1], h.LATE[1])} == {"on_time"}
    # aba-roli's assigned indicators: 1.1.a and 1.1.c are reported; 1.1.a's breakdowns: sex only, or none
    assigned = session.scalars(
        select(Indicator).join(indicator_partner).where(indicator_partner.c.partner_id == aba)
    ).all()
    pairs = sum(len(i.dimensions) for i in assigned)
    total_only = grid.cells[(aba, h.TOTAL_ONLY[1])]
    assert total_only.indicator_share == pytest.approx(len({"1.1.a", "1.1.c"}) / len(assigned))
    assert total_only.disaggregation_share == 0
    assert grid.cells[(aba, "2017Q2")].disaggregation_share == pytest.approx(1 / pairs)
    assert grid.cells[(aba, h.MISSING[1])].submission_id is None


def test_clean_partner_has_no_flag(session: Session, seeded: dict) -> None:
    partnership = _partnership(session)
    clean = _pid(session, h.CLEAN)
    grid = reporting_grid(session, partnership, today=h.TODAY, due_days=h.DUE_DAYS, partner_ids=[clean])
    cells = grid.partner_cells(clean)
    assert [c.state for c in cells] == ["on_time"] * len(h.PERIODS)
    assert {c.indicator_share for c in cells} == {1.0}
    assert {c.disaggregation_share for c in cells} == {1.0}
    assert series_flags(session, partnership_id=partnership.id, partner_ids=[clean], k=5.0, min_history=4) == []
    assert (
        training_consistency(
            session, partnership_id=partnership.id, scope=Scope(partner_ids=[clean]), mismatches_only=True
        )
        == []
    )
    assert due_reports(session, partnership, today=h.TODAY, due_days=h.DUE_DAYS, partner_ids=[clean]) == []


def test_series_flags_outlier_running_total_and_decrease(session: Session, seeded: dict) -> None:
    partnership = _partnership(session)
    flags = series_flags(session, partnership_id=partnership.id, k=5.0, min_history=4)
    assert {(f.flag, f.partner, f.period, f.indicator) for f in flags} == h.FLAGS
    (running,) = [f for f in flags if f.flag == "cumulative_by_mistake"]
    assert running.value == h.ILO_12A[-1] and running.previous == sum(h.ILO_12A[:-1])
    (down,) = [f for f in flags if f.flag == "decreased"]
    assert (down.value, down.previous) == (h.CHS_22A[4], h.CHS_22A[3])
    outlier = next(f for f in flags if f.flag == "outlier" and f.indicator == "4.a")
    assert outlier.expected_low is not None and outlier.value < outlier.expected_low
    assert outlier.submission_id == seeded[h.OUTLIER[:2]]
    # a looser threshold lets the drop pass; a longer required history silences everything
    looser = series_flags(session, partnership_id=partnership.id, k=100.0, min_history=4)
    assert ("outlier", *h.OUTLIER) not in {(f.flag, f.partner, f.period, f.indicator) for f in looser}
    quiet = series_flags(session, partnership_id=partnership.id, k=5.0, min_history=50)
    assert {f.flag for f in quiet} == {"cumulative_by_mistake", "decreased"}


def test_training_mismatch_is_the_only_one(session: Session, seeded: dict) -> None:
    partnership = _partnership(session)
    rows = training_consistency(session, partnership_id=partnership.id, mismatches_only=True)
    assert [(r.partner, r.period, r.indicator) for r in rows] == [h.MISMATCH]
    assert (rows[0].reported, rows[0].trained) == (h.MISMATCH_REPORTED, h.MISMATCH_TRAINED)


def test_reminders_list_late_and_due_reports_with_contacts(session: Session, seeded: dict) -> None:
    partnership = _partnership(session)
    reminders = due_reports(session, partnership, today=h.TODAY, due_days=h.DUE_DAYS)
    keyed = {(r.partner, r.period): r for r in reminders}
    late = keyed[h.MISSING]
    assert late.state == "late" and (late.contact_name, late.contact_email) == h.CONTACT
    assert late.days == (h.TODAY - (dt.date(2018, 9, 30) + dt.timedelta(days=h.DUE_DAYS))).days
    # ilo reported every quarter, chs stopped after 2018Q2: its two last quarters are late
    assert ("ilo", "2018Q4") not in keyed
    assert {p for (partner, p) in keyed if partner == "chs"} == {"2018Q3", "2018Q4"}
    # on 2019-04-10 the 2019Q1 reports are due on 2019-04-30, and nobody has sent one yet
    later = due_reports(session, partnership, today=dt.date(2019, 4, 10), due_days=h.DUE_DAYS)
    due = [r for r in later if r.state == "due"]
    assert {r.period for r in due} == {"2019Q1"} and {r.days for r in due} == {20}
    assert h.CLEAN in {r.partner for r in due}
