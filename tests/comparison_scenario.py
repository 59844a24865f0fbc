"""One stored history for the comparison and export tests: measurements and reports of peru-cpc.

Every expected number in the tests is worked out by hand from the rows below.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.measurement_factory import add_measurements
from tests.value_factory import add_submission

MPFN = {"source": "MPFN records"}


def build(session: Session) -> None:
    """Store the scenario and commit."""
    add_measurements(
        session,
        partnership="peru-cpc",
        name="baseline.xlsx",
        rows=[
            # 1.a: two baselines, the later (2018: 9) wins over the catalog's 8
            ("1.a", "baseline", "2017", 8, {}, MPFN),
            ("1.a", "baseline", "2018", 9, {}, MPFN),
            ("3.a", "baseline", "2018", 38.5, {}, {"source": "Survey 2018"}),
            ("3.a", "baseline", "2018", 40.2, {"sex": "female"}, {"source": "Survey 2018"}),
            ("1.2.a", "baseline", "2018", 0, {}, {}),
            ("2.a", "baseline", "2018", 0, {}, {}),
        ],
    )
    add_measurements(
        session,
        partnership="peru-cpc",
        name="endline.xlsx",
        rows=[
            ("1.a", "endline", "2022", 14, {}, MPFN),
            ("IMP.a", "endline", "2022", 1105, {}, {"source": "INEI"}),
            ("3.a", "endline", "2022", 59.4, {}, {"source": "Survey 2022", "comparable": False, "note": "new sample"}),
            ("3.a", "endline", "2022", 62.1, {"sex": "female"}, {"source": "Survey 2022", "comparable": False}),
        ],
    )
    # 1.1.a (count, sum, no baseline, target 1500): reported only
    add_submission(
        session,
        partner="ilo",
        period="2021Q1",
        values=[
            ("1.1.a", {}, 100),
            ("1.1.a", {"sex": "female"}, 60),
            ("1.1.a", {"sex": "male"}, 40),
            ("1.1.b", {}, 70),
            ("2.a", {}, 2),
        ],
    )
    add_submission(session, partner="ilo", period="2021Q2", values=[("1.1.a", {}, 50)])
    add_submission(session, partner="ilo", period="2021Q2", values=[("1.1.a", {}, 60), ("1.2.a", {}, 2)])  # v2
    add_submission(session, partner="idl", period="2021Q1", values=[("1.1.a", {}, 30)])
    add_submission(session, partner="aba-roli", period="2021Q2", values=[("1.1.b", {}, 80), ("1.2.a", {}, 1)])
    add_submission(session, partner="aba-roli", period="2021Q3", values=[("1.1.a", {}, 20)], status="submitted")
    add_submission(session, partner="chs", period="2021Q2", values=[("2.a", {}, 1)])
    add_submission(session, partner="ilo", period="2021Q4", values=[("4.1.b", {}, 1)])
    add_submission(session, partner="chs", period="2021Q3", values=[("2.a", {}, 7)], status="returned")
    session.commit()
