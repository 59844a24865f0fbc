"""Seeded reporting histories for the data-quality tests: one clean partner and one flaw per check.

Stored through the real tables (``tests.value_factory``, ``tests.training_factory``); ``FLAGS``
lists, by hand, every flag the history must produce, so the tests compare with what was seeded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Partnership
from mel.core.periods import quarter_end, quarters
from mel.reports.models import Submission
from tests.training_factory import Event, Row, add_trainings
from tests.value_factory import add_submission

TODAY = dt.date(2019, 2, 15)
"""Judged on this day: 2017Q2-2018Q4 have ended; 2018Q4 was due on 2019-01-30."""
DUE_DAYS = 30
PERIODS = list(quarters("2017Q2", "2018Q4"))

CLEAN = "yanapanakusun"
CLEAN_31A = [100, 104, 98, 102, 101, 99, 103]
CLEAN_TRAINED = [40, 42, 38, 41, 43, 39, 40]
CLEAN_PERCENT = [40, 42, 41, 43, 42, 44, 43]

LATE = ("aba-roli", "2018Q2")
MISSING = ("aba-roli", "2018Q3")
TOTAL_ONLY = ("aba-roli", "2018Q1")
"""A report with 1.1.a as a total only: 1.1.a must be broken down by sex, institution and region."""
OUTLIER = ("ilo", "2018Q4", "4.a")
ILO_4A = [100, 102, 98, 101, 99, 103, 5]
RUNNING_TOTAL = ("ilo", "2018Q3", "1.2.a")
ILO_12A = [3, 2, 4, 3, 2, 17]
"""Quarterly 3, 2, 4, 3, 2, then the total to date (14 + 3): a running total reported by mistake."""
DECREASED = ("chs", "2018Q2", "2.2.a")
CHS_22A = [1, 2, 2, 4, 3]
"""2.2.a made cumulative (a running total) for the test: 4 then 3 cannot be."""
MISMATCH = ("ilo", "2018Q1", "1.1.a")
MISMATCH_TRAINED, MISMATCH_REPORTED = 45, 50

FLAGS = {
    ("outlier", *OUTLIER),
    ("cumulative_by_mistake", *RUNNING_TOTAL),
    # 17 is also far outside 3 ± 5 × 1.4826 (median 3, MAD 1 of 3, 2, 4, 3, 2): both checks see it
    ("outlier", *RUNNING_TOTAL),
    ("decreased", *DECREASED),
}
CONTACT = ("Ana Quispe", "ana.quispe@example.org")


def _report(
    session: Session,
    partner: str,
    period: str,
    values: list[tuple[str, Mapping[str, str], float]],
    *,
    late: bool = False,
    status: str = "approved",
) -> Submission:
    sub = add_submission(session, partner=partner, period=period, values=values, status=status)
    sub.uploaded_at = dt.datetime.combine(quarter_end(period) + dt.timedelta(days=45 if late else 10), dt.time(9))
    session.flush()
    return sub


def _trainees(total: int, pillar: str) -> Event:
    female = total // 2
    return Event(f"{pillar} course", pillar, "cusco", "in-person", [Row("minedu", female=female, male=total - female)])


def seed(session: Session) -> dict[tuple[str, str], int]:
    """Store the whole history; returns submission ids by (partner, period)."""
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    # these partners' agreements run the whole partnership: every quarter from 2017Q2 owes a report
    session.execute(update(Partner).values(starts_on=None, ends_on=None))
    session.execute(
        update(Partner).where(Partner.code == "aba-roli").values(contact_name=CONTACT[0], contact_email=CONTACT[1])
    )
    session.execute(
        update(Indicator)
        .where(Indicator.partnership_id == partnership.id, Indicator.code == "2.2.a")
        .values(cumulative=True)
    )
    ids: dict[tuple[str, str], int] = {}
    for n, period in enumerate(PERIODS):
        # the clean partner: every assigned indicator, every required breakdown, on time, trainings = 3.1.b
        trained = CLEAN_TRAINED[n]
        sub = _report(
            session,
            CLEAN,
            period,
            [
                ("3.a", {}, CLEAN_PERCENT[n]),
                ("3.a", {"sex": "female"}, CLEAN_PERCENT[n] + 1),
                ("3.a", {"age_group": "12-17"}, CLEAN_PERCENT[n] - 1),
                ("3.1.a", {}, CLEAN_31A[n]),
                ("3.1.a", {"sex": "female"}, CLEAN_31A[n] // 2),
                ("3.1.a", {"age_group": "12-17"}, CLEAN_31A[n] // 3),
                ("3.1.a", {"region": "cusco"}, CLEAN_31A[n]),
                ("3.1.b", {}, trained),
                ("3.1.b", {"sex": "female"}, trained // 2),
                ("3.1.b", {"region": "cusco"}, trained),
                ("3.2.a", {}, 3),
                ("3.2.a", {"region": "cusco"}, 3),
            ],
        )
        ids[(CLEAN, period)] = sub.id
        add_trainings(session, sub, [_trainees(trained, "prevention")])
    for n, period in enumerate(PERIODS):
        values: list[tuple[str, Mapping[str, str], float]] = [("4.a", {}, ILO_4A[n])]
        if n < len(ILO_12A):
            values.append(("1.2.a", {}, ILO_12A[n]))
        if (("ilo", period)) == MISMATCH[:2]:
            values.append(("1.1.a", {}, MISMATCH_REPORTED))
            values.append(("1.1.c", {}, MISMATCH_TRAINED))  # new participants: they match (no repeat)
        sub = _report(session, "ilo", period, values)
        ids[("ilo", period)] = sub.id
        if ("ilo", period) == MISMATCH[:2]:
            add_trainings(session, sub, [_trainees(MISMATCH_TRAINED, "prosecution")])
    for period in PERIODS:
        if ("aba-roli", period) == MISSING:
            continue
        breakdown = [] if ("aba-roli", period) == TOTAL_ONLY else [("1.1.a", {"sex": "female"}, 5)]
        reported = [("1.1.a", {}, 10), ("1.1.c", {}, 10), *breakdown]  # 10 trainees, none trained before
        sub = _report(session, "aba-roli", period, reported, late=("aba-roli", period) == LATE)
        ids[("aba-roli", period)] = sub.id
        add_trainings(session, sub, [_trainees(10, "prosecution")])
    for n, value in enumerate(CHS_22A):
        ids[("chs", PERIODS[n])] = _report(session, "chs", PERIODS[n], [("2.2.a", {}, value)]).id
    session.commit()
    return ids
