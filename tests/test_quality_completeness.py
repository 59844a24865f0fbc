"""Reporting grid: on time, late, missing, returned, pending; indicator and disaggregation completeness."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Partnership, indicator_partner
from mel.quality.completeness import expected_reporters, reporting_grid
from tests.value_factory import add_submission


def _partnership(session: Session) -> Partnership:
    return session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()


def _partner(session: Session, code: str) -> Partner:
    return session.scalars(select(Partner).where(Partner.code == code)).one()


def test_grid_states_and_completeness(session: Session) -> None:
    partnership = _partnership(session)
    ilo = _partner(session, "ilo")
    on_time = add_submission(
        session,
        partner="ilo",
        period="2018Q1",
        values=[
            ("1.1.a", {}, 30),
            ("1.1.a", {"sex": "female"}, 18),
            ("1.1.a", {"sex": "male"}, 12),
            ("4.a", {}, 2),
        ],
    )
    on_time.uploaded_at = dt.datetime(2018, 4, 20)
    late = add_submission(session, partner="ilo", period="2018Q2", values=[("4.a", {}, 3)])
    late.uploaded_at = dt.datetime(2018, 8, 15)  # due 2018-07-30
    returned = add_submission(session, partner="ilo", period="2018Q4", values=[("4.a", {}, 1)], status="returned")
    returned.uploaded_at = dt.datetime(2019, 1, 10)
    session.flush()

    grid = reporting_grid(session, partnership, today=dt.date(2019, 2, 15), due_days=30, partner_ids=[ilo.id])
    # ILO's agreement starts in January 2018: the partnership's 2017 quarters owe nothing
    assert grid.periods == ["2018Q1", "2018Q2", "2018Q3", "2018Q4"]
    states = {period: grid.cells[(ilo.id, period)].state for period in grid.periods}
    assert states["2018Q1"] == "on_time"
    assert states["2018Q2"] == "late"
    assert states["2018Q3"] == "missing"
    assert states["2018Q4"] == "returned"
    # 2018Q4 was due 2019-01-30, before "today": had it not been returned it would count; a quarter
    # whose due date is still ahead is pending
    later = reporting_grid(session, partnership, today=dt.date(2019, 1, 5), due_days=30, partner_ids=[ilo.id])
    assert later.cells[(ilo.id, "2018Q4")].state == "pending"

    assigned = [
        i
        for i in session.scalars(
            select(Indicator).join(indicator_partner).where(indicator_partner.c.partner_id == ilo.id)
        )
        if i.frequency in (None, "quarterly")  # ILO's indicators due every quarter
    ]
    cell = grid.cells[(ilo.id, "2018Q1")]
    assert cell.indicator_share == 2 / len(assigned)
    required_pairs = sum(len(i.dimensions) for i in assigned)
    assert cell.disaggregation_share == 1 / required_pairs  # only 1.1.a by sex was broken down
    assert grid.count("missing") == 1 and grid.count("late") == 1 and grid.expected == 4
    assert grid.late == 2  # received late (2018Q2) and not received (2018Q3); 2018Q4 arrived on time


def test_expected_reporters_are_those_with_indicators(session: Session) -> None:
    partnership = _partnership(session)
    codes = [p.code for p in expected_reporters(session, partnership.id)]
    expected = session.scalars(
        select(Partner.code).where(
            Partner.partnership_id == partnership.id, Partner.id.in_(select(indicator_partner.c.partner_id))
        )
    ).all()
    assert sorted(codes) == sorted(expected) and "ilo" in codes
