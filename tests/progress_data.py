"""A small stored history for the progress pages: approved, provisional and superseded reports.

Expected numbers in the tests are computed by hand from these rows (see ``OFFICIAL`` and
``PROVISIONAL``), never by the code under test.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mel.reports.models import Submission
from tests.value_factory import add_submission

F = {"sex": "female"}
M = {"sex": "male"}


def store_history(session: Session) -> dict[str, Submission]:
    """ILO and ABA-ROLI report 1.1.a (count, sum) and 1.1.b (percent, latest) in 2019."""
    subs = {}
    subs["ilo-2019Q1"] = add_submission(
        session,
        partner="ilo",
        period="2019Q1",
        values=[("1.1.a", {}, 100), ("1.1.a", F, 60), ("1.1.a", M, 40), ("1.1.b", {}, 70), ("1.1.b", F, 72)],
    )
    subs["aba-2019Q1"] = add_submission(
        session,
        partner="aba-roli",
        period="2019Q1",
        values=[("1.1.a", {}, 50), ("1.1.a", F, 30), ("1.1.a", M, 20), ("1.1.b", {}, 90), ("1.1.b", F, 88)],
    )
    subs["ilo-2019Q2"] = add_submission(
        session, partner="ilo", period="2019Q2", values=[("1.1.a", {}, 30), ("1.1.b", {}, 75)]
    )
    subs["aba-2019Q2"] = add_submission(
        session, partner="aba-roli", period="2019Q2", values=[("1.1.a", {}, 20), ("1.1.b", {}, 95)], status="submitted"
    )
    # a corrected report: version 1 (999) is superseded by version 2 (10)
    subs["ilo-2019Q3-v1"] = add_submission(session, partner="ilo", period="2019Q3", values=[("1.1.a", {}, 999)])
    subs["ilo-2019Q3"] = add_submission(session, partner="ilo", period="2019Q3", values=[("1.1.a", {}, 10)])
    # a returned report never counts
    subs["aba-2019Q3"] = add_submission(
        session, partner="aba-roli", period="2019Q3", values=[("1.1.a", {}, 500)], status="returned"
    )
    session.commit()
    return subs


# 1.1.a (count, sum): official = approved current versions; provisional adds ABA-ROLI 2019Q2
OFFICIAL_11A = 100 + 50 + 30 + 10
PROVISIONAL_11A = OFFICIAL_11A + 20
# 1.1.b (percent, latest): each partner's most recent value, never added
OFFICIAL_11B = {"ilo": 75, "aba-roli": 90}
PROVISIONAL_11B = {"ilo": 75, "aba-roli": 95}
