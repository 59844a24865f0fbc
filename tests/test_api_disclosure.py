"""The disclosure gate through the API, tried as an attacker would (see test_disclosure_matrix.py).

Over the sensitive fixture (2.a, counts 1 to 4 in several categories, partners and quarters), each
token reads the values and the figures, every hidden cell is taken as an unknown, the sums a reader
knows are written down, and an independent solver tries to work out a hidden small count.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api_factory import bearer
from tests.test_disclosure_matrix import (
    DATA,
    DB_SCENARIOS,  # noqa: F401 (stores the fixture's values in the test's database)
    PENDING,
    REGIONS,
    SEX,
    VIEWERS,
    _iptt_relations,
    assert_no_small_cell_determined,
    sensitive,  # noqa: F401 (the fixture)
    truth_by_quarter,
)
from tests.value_factory import add_submission

SHIP = "/api/v1/partnerships/peru-cpc"
pytestmark = pytest.mark.usefixtures("sensitive")


def _all(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = client.get(url, headers=headers, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        out += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def _headers(client: TestClient, role: str, partner: str | None) -> dict[str, str]:
    return bearer(client, role, partner=partner) if partner else bearer(client, role)


@pytest.mark.parametrize(("role", "partner", "sees"), VIEWERS)
def test_figures_give_no_small_count_away(
    client: TestClient, role: str, partner: str | None, sees: tuple[str, ...]
) -> None:
    headers = _headers(client, role, partner)
    for provisional in ("false", "true"):
        records = _all(
            client, f"{SHIP}/figures", headers, indicator="2.a", granularity="quarter", provisional=provisional
        )
        cells: dict[tuple[str, str], Any] = {}
        for r in records:
            if r["scope"] == "partnership":
                row = "total"
            elif r["scope"] == "partner":
                row = r["partner"]
            else:
                ((dim, cat),) = r["category"].items()
                row = f"{dim}:{cat}"
            value = "hidden" if r["suppressed"] else (None if r["actual"] is None else float(r["actual"]))
            cells[(row, r["period"])] = value
            if r["suppressed"]:
                assert r["actual"] is None and r["pct_of_target"] is None
        reporting = ("ilo", "chs")
        shown_partners = [p for p in reporting if any(row == p for row, _c in cells)]
        assert set(shown_partners) <= set(sees), f"{role}/{partner} got rows of {shown_partners}"
        assert cells[("total", PENDING[1])] is None, "a report awaiting review reached a non-staff token"
        relations = _iptt_relations(cells, shown_partners, reporting)
        where = f"API figures (provisional={provisional}) as {role}/{partner}"
        assert_no_small_cell_determined(cells, relations, truth_by_quarter(sees), where, own=sees if partner else ())
        assert any(v == "hidden" for v in cells.values()), "the fixture's small counts must be hidden"


def _value_truth() -> dict[tuple[str, str, str], float]:
    truth: dict[tuple[str, str, str], float] = {}
    for partner, quarters in DATA.items():
        for period, (total, sex, region) in quarters.items():
            truth[(partner, period, "total")] = total
            truth.update({(partner, period, f"sex:{s}"): v for s, v in zip(SEX, sex, strict=True)})
            truth.update({(partner, period, f"region:{r}"): v for r, v in zip(REGIONS, region or (), strict=False)})
    return truth


@pytest.mark.parametrize(("role", "partner", "sees"), VIEWERS)
def test_values_give_no_small_count_away(
    client: TestClient, role: str, partner: str | None, sees: tuple[str, ...]
) -> None:
    headers = _headers(client, role, partner)
    records = _all(client, f"{SHIP}/values", headers, indicator="2.a", provisional="1", limit=7)
    assert {r["status"] for r in records} <= {"approved"}, "a report awaiting review reached a non-staff token"
    assert {r["partner"] for r in records} <= (set(sees) if partner else {"ilo", "chs"})
    expected_rows = sum(
        1 + len(SEX) + (len(REGIONS) if region else 0)
        for p, quarters in DATA.items()
        if not partner or p in sees
        for _q, (_t, _s, region) in quarters.items()
    )
    assert len(records) == expected_rows
    cells: dict[Hashable, Any] = {}
    for r in records:
        cat = ",".join(f"{k}:{v}" for k, v in sorted(r["categories"].items())) or "total"
        cells[(r["partner"], r["period"], cat)] = "hidden" if r["suppressed"] else float(r["value"])
        if r["suppressed"]:
            assert r["value"] is None
    relations: list[tuple[Hashable, Sequence[Hashable]]] = []
    for p, quarters in DATA.items():
        for period, (_t, _s, region) in quarters.items():
            relations.append(((p, period, "total"), [(p, period, f"sex:{s}") for s in SEX]))
            if region:
                relations.append(((p, period, "total"), [(p, period, f"region:{r}") for r in REGIONS]))
    assert any(v == "hidden" for v in cells.values()) or not records
    assert_no_small_cell_determined(cells, relations, _value_truth(), f"API values as {role}/{partner}")


def test_staff_tokens_read_raw_and_provisional(client: TestClient) -> None:
    headers = bearer(client, "officer")
    records = _all(client, f"{SHIP}/figures", headers, indicator="2.a", granularity="quarter", provisional="true")
    by = {(r["scope"], r["partner"], r["period"]): r for r in records if not r["category"]}
    assert by[("partner", "chs", "2019Q1")]["actual"] == DATA["chs"]["2019Q1"][0]
    assert by[("partnership", None, PENDING[1])]["actual"] == PENDING[2]
    assert not any(r["suppressed"] for r in records)
    official = _all(client, f"{SHIP}/values", headers, indicator="2.a")
    assert {r["status"] for r in official} == {"approved"}
    raw = [r for r in official if r["partner"] == "chs" and r["period"] == "2019Q1" and not r["categories"]]
    assert [r["value"] for r in raw] == [DATA["chs"]["2019Q1"][0]]


@pytest.mark.parametrize("partner", ["aba-roli", "chs", "ilo"])
def test_partner_tokens_reach_only_their_partnership(client: TestClient, partner: str) -> None:
    headers = bearer(client, "partner", partner=partner)
    other = "/api/v1/partnerships/philippines-cpc"
    for path in ("", "/framework", "/indicators", "/figures", "/values", "/trainings"):
        answer = client.get(f"{other}{path}", headers=headers)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", path
    assert client.get("/api/v1/partnerships/nope", headers=headers).status_code == 404
    listed = client.get("/api/v1/partnerships", headers=headers).json()["data"]
    assert [p["code"] for p in listed] == ["peru-cpc"]
    if partner != "ilo":
        for path in ("/values", "/figures", "/trainings"):
            assert client.get(f"{SHIP}{path}", headers=headers, params={"partner": "ilo"}).status_code == 404
    submissions = client.get("/api/v1/submissions", headers=headers).json()["data"]
    allowed = {"ilo": {"ilo", "chs"}, "chs": {"chs"}, "aba-roli": set()}[partner]
    assert {s["partner"] for s in submissions} <= allowed
    if partner == "aba-roli":
        assert client.get("/api/v1/submissions/1", headers=headers).status_code == 404
    assert client.get(f"{SHIP}/comparison", headers=headers).status_code == 403


def test_evaluator_tokens_read_approved_data_only(client: TestClient) -> None:
    headers = bearer(client, "evaluator")
    assert client.get("/api/v1/submissions", headers=headers).status_code == 403
    indicator = client.get(f"{SHIP}/indicators/2.a", headers=headers).json()
    assert indicator["sensitive"] is True
    comparison = client.get(f"{SHIP}/comparison", headers=headers, params={"dimension": "sex"})
    assert comparison.status_code == 200
    for row in comparison.json()["data"]:
        for end in ("baseline", "endline"):
            value = row[end]["value"]
            if row["indicator"] == "2.a" and value is not None:
                assert not 0 < value < 5, row


def test_pages_and_etags(client: TestClient) -> None:
    headers = bearer(client, "officer")
    whole = client.get(f"{SHIP}/values", headers=headers, params={"limit": 5000}).json()
    assert whole["next_cursor"] is None
    paged = _all(client, f"{SHIP}/values", headers, limit=4)
    assert paged == whole["data"]
    first = client.get(f"{SHIP}/figures", headers=headers, params={"indicator": "2.a"})
    tag = first.headers["etag"]
    again = client.get(f"{SHIP}/figures", headers={**headers, "If-None-Match": tag}, params={"indicator": "2.a"})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = client.get(f"{SHIP}/figures", headers={**headers, "If-None-Match": tag}, params={"indicator": "1.1.a"})
    assert other.status_code == 200
    bad = client.get(f"{SHIP}/values", headers=headers, params={"cursor": "!!"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"


def test_guessed_submission_of_another_partner_is_404(client: TestClient, session: Session) -> None:
    other = add_submission(session, partner="aba-roli", period="2021Q1", values=[])
    own = add_submission(session, partner="chs", period="2021Q1", values=[])
    session.commit()
    headers = bearer(client, "partner", partner="ilo")
    assert client.get(f"/api/v1/submissions/{other.id}", headers=headers).status_code == 404
    mine = client.get(f"/api/v1/submissions/{own.id}", headers=headers)
    assert mine.status_code == 200 and mine.json()["partner"] == "chs"
