"""Evaluators see victim counts of 1 to 4 (sensitive indicators) as <5 on the progress pages too.

DESIGN.md: small cells are suppressed "in exports and for evaluators". Officers see the numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.html_soup import soup
from tests.value_factory import add_submission

PAGE = "/p/peru-cpc/indicators/2.a"


def _store(session: Session) -> None:
    add_submission(
        session,
        partner="ilo",
        period="2021Q1",
        values=[("2.a", {}, 12), ("2.a", {"sex": "female"}, 9), ("2.a", {"sex": "male"}, 3)],
    )
    add_submission(
        session,
        partner="ilo",
        period="2021Q2",
        values=[("2.a", {}, 4), ("2.a", {"sex": "female"}, 4)],
    )
    session.commit()


def _explorer(page: BeautifulSoup) -> dict[str, str]:
    return {
        tr.select_one("th").get_text(strip=True): tr.select_one("td.value").get_text(strip=True)  # type: ignore[union-attr]
        for tr in page.select("#explorer tr.category")
    }


def test_small_victim_counts_hidden_from_evaluators(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    _store(session)
    officer = login_as(client, "officer")
    seen = soup(officer.get(PAGE, params={"dimension": "sex"}).text)
    assert _explorer(seen) == {"Female": "13", "Male": "3"}
    quarter = seen.select_one("tr[data-period='2021Q2'] td.reported")
    assert quarter is not None and quarter["data-value"] == "4.0"

    evaluator = login_as(client, "evaluator")
    page = soup(evaluator.get(PAGE, params={"dimension": "sex"}).text)
    assert _explorer(page) == {"Female": "13", "Male": "<5"}
    male = next(tr for tr in page.select("#explorer tr.category") if "Male" in tr.get_text())
    assert male.select_one("td.value")["data-value"] == ""  # type: ignore[index]
    quarter = page.select_one("tr[data-period='2021Q2'] td.reported")
    assert quarter is not None and quarter["data-value"] == "" and "<5" in quarter.get_text()
    explorer_chart = json.loads(page.select_one("#explorer-data").get_text())  # type: ignore[union-attr]
    assert sorted(explorer_chart["datasets"][0]["data"], key=lambda v: v or 0) == [None, 13]
    series = json.loads(page.select_one("#series-data").get_text())  # type: ignore[union-attr]
    reported = next(d for d in series["datasets"] if d["kind"] == "reported")
    index = series["labels"].index("2021Q2")
    assert reported["data"][index] is None
    # the cumulative line must not give the hidden quarter back (16 - 12 = 4): one of its ends is hidden
    cumulative = next(d for d in series["datasets"] if d["kind"] == "actual")["data"]
    assert None in (cumulative[index], cumulative[index - 1])

    sources = soup(evaluator.get(f"{PAGE}/sources", params={"period": "2021Q2"}, headers={"HX-Request": "true"}).text)
    cells = [td.get_text(strip=True) for td in sources.select("tr.source td.num")]
    assert cells == ["<5"]
