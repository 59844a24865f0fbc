"""The disclosure gate tried as an attacker would: every viewer, every table that shows victim counts.

A sensitive fixture (2.a, counts of child victims) has values 1 to 4 in several categories,
partners and quarters. For each table a viewer gets (pages, fragments, chart data, downloads), the
test reads what is shown, takes every hidden cell as an unknown, writes down the sums a reader
knows (quarters add up to the life of the partnership, partners to the partnership, complete
breakdowns to the total) and solves: no hidden small count may be determined. The solver here is
independent of ``mel.results.disclosure``: a rank test with numpy.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import openpyxl
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.html_soup import soup
from tests.value_factory import add_submission

Login = Callable[..., TestClient]
SHIP = "/p/peru-cpc"
SEX = ("female", "male", "other")
REGIONS = ("lima", "cusco", "loreto", "puno", "madre-de-dios", "other")
NAMES = {"ilo": "International Labour Organization (ILO)", "chs": "Capital Humano y Social Alternativo (CHS)"}

# partner -> quarter -> (total, by sex, by region or None)
DATA: dict[str, dict[str, tuple[int, tuple[int, int, int], tuple[int, ...] | None]]] = {
    "ilo": {
        "2019Q1": (9, (6, 3, 0), (2, 7, 0, 0, 0, 0)),
        "2019Q2": (4, (4, 0, 0), None),
        "2019Q3": (12, (9, 2, 1), None),
        "2019Q4": (20, (11, 9, 0), None),
    },
    "chs": {
        "2019Q1": (2, (1, 1, 0), None),
        "2019Q2": (7, (5, 2, 0), None),
        "2019Q3": (0, (0, 0, 0), None),
        "2019Q4": (3, (3, 0, 0), None),
    },
}
PENDING = ("ilo", "2020Q1", 3)  # awaiting review: never for evaluators or partners


def store_sensitive(session: Session) -> None:
    for partner, quarters in DATA.items():
        for period, (total, sex, region) in quarters.items():
            values: list[tuple[str, dict[str, str], float]] = [("2.a", {}, total)]
            values += [("2.a", {"sex": s}, v) for s, v in zip(SEX, sex, strict=True)]
            if region:
                values += [("2.a", {"region": r}, v) for r, v in zip(REGIONS, region, strict=True)]
            add_submission(session, partner=partner, period=period, values=values)
    partner, period, value = PENDING
    add_submission(session, partner=partner, period=period, values=[("2.a", {}, value)], status="submitted")
    session.commit()


DB_SCENARIOS = {"sensitive": store_sensitive}


@pytest.fixture
def sensitive(stored_scenarios: tuple[object, ...]) -> None:
    """The sensitive values, stored (``DB_SCENARIOS``: the test's database is a copy of a template that holds them)."""
    assert store_sensitive in stored_scenarios, "the test module's DB_SCENARIOS must name this fixture"


# -- the attacker's solver -------------------------------------------------------------------


def determined(unknown: Sequence[Hashable], relations: Sequence[tuple[Hashable, Sequence[Hashable]]]) -> set[Hashable]:
    """Unknowns the linear system fixes: e_i lies in the row space of the coefficient matrix."""
    index = {k: i for i, k in enumerate(unknown)}
    rows = []
    for total, parts in relations:
        row = np.zeros(len(index))
        if total in index:
            row[index[total]] -= 1
        for p in parts:
            if p in index:
                row[index[p]] += 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    out = set()
    for k, i in index.items():
        unit = np.zeros(len(index))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            out.add(k)
    return out


def shown_number(text: str) -> float | str | None:
    """A printed cell: a number, None for no data ('—', ''), or 'hidden' for '<5' and 'x'."""
    text = text.strip().replace(",", "").replace("\xa0", "")
    if text in ("<5", "x"):
        return "hidden"
    if text in ("", "—", "-"):
        return None
    return float(text)


def assert_no_small_cell_determined(
    cells: Mapping[Hashable, float | str | None],
    relations: Sequence[tuple[Hashable, Sequence[Hashable]]],
    truth: Mapping[Hashable, float],
    where: str,
    own: Sequence[str] = (),
) -> None:
    """``cells`` as shown ('hidden' for hidden cells); unknown cells absent from ``cells`` are unseen.

    Cells of the viewer's ``own`` organization are theirs to know: working them out is no leak.
    """
    for key, value in cells.items():
        if isinstance(value, float) and key in truth:
            assert not (0 < value < 5), f"{where}: raw small count {value} at {key}"
    keys = {k for t, ps in relations for k in (t, *ps)}
    unknown = sorted((k for k in keys if cells.get(k, "hidden") == "hidden"), key=str)
    mine = {k for k in keys if isinstance(k, tuple) and k[0] in own}
    leaks = [k for k in determined(unknown, relations) if 0 < truth.get(k, 0) < 5 and k not in mine]
    assert not leaks, f"{where}: hidden small counts can be worked out: {leaks}"


# -- truth, computed from the fixture --------------------------------------------------------


def truth_by_quarter(partners: Sequence[str]) -> dict[tuple[str, str], float]:
    """(row, quarter) -> value, rows 'total', partner codes, 'sex:female'... 'region:lima'..., and 'others'."""
    out: dict[tuple[str, str], float] = defaultdict(float)
    for partner, quarters in DATA.items():
        for period, (total, sex, region) in quarters.items():
            out[("total", period)] += total
            out[(partner, period)] += total
            if partner not in partners:
                out[("others", period)] += total
            for s, v in zip(SEX, sex, strict=True):
                out[(f"sex:{s}", period)] += v
            for r, v in zip(REGIONS, region or (), strict=False):
                out[(f"region:{r}", period)] += v
    for (row, _period), value in list(out.items()):
        out[(row, "LOP")] += value
    return dict(out)


VIEWERS = [
    ("evaluator", None, ("ilo", "chs")),
    ("partner", "aba-roli", ()),
    ("partner", "chs", ("chs",)),
    ("partner", "ilo", ("ilo", "chs")),
]


def _login(client: TestClient, login_as: Login, role: str, partner: str | None) -> TestClient:
    return login_as(client, role, partner=partner) if partner else login_as(client, role)


# -- the IPTT: page, fragment, workbook ---------------------------------------------------------


def _iptt_cells(page: BeautifulSoup, names: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    label_to_row = {v: k for k, v in names.items()}
    cells: dict[tuple[str, str], Any] = {}
    for tr in page.select("tr[data-code='2.a']"):
        kind = tr["data-kind"]
        label = str(tr.get("data-label", ""))
        if kind == "indicator":
            row = "total"
        elif kind == "partner":
            row = label_to_row[label]
        else:
            dim, cat = label.split(": ", 1)
            row = f"{'sex' if dim == 'Sex' else 'region' if dim == 'Region' else dim}:{cat.lower().replace(' ', '-')}"
        for td in tr.select("td.actual"):
            cells[(row, str(td["data-col"]))] = shown_number(td.find(string=True, recursive=False) or "")
            if td.get("data-value"):
                assert cells[(row, str(td["data-col"]))] != "hidden"
    return cells


def _iptt_relations(
    cells: Mapping[tuple[str, str], Any], partners_shown: Sequence[str], reporting: Sequence[str]
) -> list[tuple[Hashable, Sequence[Hashable]]]:
    quarters = sorted({c for _r, c in cells if c != "LOP"})
    rows = {r for r, _c in cells}
    relations: list[tuple[Hashable, Sequence[Hashable]]] = []
    for row in rows:
        relations.append(((row, "LOP"), [(row, q) for q in quarters if cells.get((row, q)) is not None]))
    for col in [*quarters, "LOP"]:
        parts: list[Hashable] = [(p, col) for p in partners_shown]
        if set(partners_shown) != set(reporting):
            parts.append(("others", col))
        relations.append((("total", col), parts))
        for dim, cats in (("sex", [c.replace("-", " ") for c in SEX]), ("region", REGIONS)):
            keys = [(f"{dim}:{c.replace(' ', '-')}", col) for c in cats]
            if all(cells.get(k) is not None for k in keys):
                relations.append((("total", col), keys))
    return relations


@pytest.mark.parametrize(("role", "partner", "sees"), VIEWERS)
def test_iptt_gives_no_small_count_away(
    client: TestClient, login_as: Login, sensitive: None, role: str, partner: str | None, sees: tuple[str, ...]
) -> None:
    viewer = _login(client, login_as, role, partner)
    reporting = ("ilo", "chs")
    names = {p: NAMES[p] for p in reporting}
    truth = truth_by_quarter(sees)
    for params in ({"granularity": "quarter", "expand": "2.a"}, {"granularity": "quarter", "provisional": "1"}):
        response = viewer.get(f"{SHIP}/iptt", params=params)
        assert response.status_code == 200
        page = soup(response.text)
        cells = _iptt_cells(page, names)
        shown_partners = [p for p in reporting if any(r == p for r, _c in cells)]
        assert set(shown_partners) <= set(sees), f"{role}/{partner} sees rows of {shown_partners}"
        assert ("ilo", "2020Q1") not in cells or cells[("ilo", "2020Q1")] in (None, "hidden")
        assert cells[("total", "2020Q1")] is None, "a report awaiting review reached a non-staff viewer"
        relations = _iptt_relations(cells, shown_partners, reporting)
        where = f"IPTT {params} as {role}/{partner}"
        assert_no_small_cell_determined(cells, relations, truth, where, own=sees if partner else ())
    # the htmx fragment is the same table
    fragment = viewer.get(
        f"{SHIP}/iptt", params={"granularity": "quarter", "expand": "2.a"}, headers={"HX-Request": "true"}
    )
    cells = _iptt_cells(soup(fragment.text), names)
    shown_partners = [p for p in reporting if any(r == p for r, _c in cells)]
    relations = _iptt_relations(cells, shown_partners, reporting)
    where = f"IPTT fragment as {role}/{partner}"
    assert_no_small_cell_determined(cells, relations, truth, where, own=sees if partner else ())


@pytest.mark.parametrize(("role", "partner", "sees"), VIEWERS)
def test_iptt_workbook_gives_no_small_count_away(
    client: TestClient, login_as: Login, sensitive: None, role: str, partner: str | None, sees: tuple[str, ...]
) -> None:
    viewer = _login(client, login_as, role, partner)
    response = viewer.get(f"{SHIP}/iptt.xlsx", params={"granularity": "quarter"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["IPTT"]
    top = [c.value for c in sheet[1]]
    groups = {i: v for i, v in enumerate(top) if v and i >= 7}
    labels = {v: k for k, v in NAMES.items()}
    cells: dict[tuple[str, str], Any] = {}
    for row in sheet.iter_rows(min_row=3, values_only=True):
        if row[2] != "2.a":
            continue
        label = row[4] or ""
        key = "total" if not label else labels.get(label) or "{}:{}".format(*label.lower().split(": ", 1))
        for i, group in groups.items():
            col = "LOP" if group == "Life of partnership" else str(group)
            value = row[i + 1]
            cells[(key, col)] = "hidden" if value in ("<5", "x") else (None if value is None else float(value))
    reporting = ("ilo", "chs")
    shown_partners = [p for p in reporting if any(r == p for r, _c in cells)]
    assert set(shown_partners) <= set(sees)
    relations = _iptt_relations(cells, shown_partners, reporting)
    where = f"IPTT.xlsx as {role}/{partner}"
    assert_no_small_cell_determined(cells, relations, truth_by_quarter(sees), where, own=sees if partner else ())


# -- the values export ----------------------------------------------------------------------


def test_values_export_gives_no_small_count_away(client: TestClient, login_as: Login, sensitive: None) -> None:
    viewer = login_as(client, "evaluator")
    records = json.loads(viewer.get(f"{SHIP}/exports/values.json", params={"provisional": "1"}).text)
    mine = [r for r in records if r["indicator"] == "2.a"]
    assert all(r["status"] == "approved" for r in records), "an evaluator got values awaiting review"
    cells: dict[tuple[str, str, str], Any] = {}
    truth: dict[tuple[str, str, str], float] = {}
    for r in mine:
        cat = ",".join(f"{k}:{v}" for k, v in sorted(r["categories"].items())) or "total"
        cells[(r["partner"], r["period"], cat)] = "hidden" if r["suppressed"] else float(r["value"])
    for partner, quarters in DATA.items():
        for period, (total, sex, region) in quarters.items():
            truth[(partner, period, "total")] = total
            truth.update({(partner, period, f"sex:{s}"): v for s, v in zip(SEX, sex, strict=True)})
            truth.update({(partner, period, f"region:{r}"): v for r, v in zip(REGIONS, region or (), strict=False)})
    relations: list[tuple[Hashable, Sequence[Hashable]]] = []
    for partner, quarters in DATA.items():
        for period, (_t, _s, region) in quarters.items():
            relations.append(((partner, period, "total"), [(partner, period, f"sex:{s}") for s in SEX]))
            if region:
                relations.append(((partner, period, "total"), [(partner, period, f"region:{r}") for r in REGIONS]))
    assert any(v == "hidden" for v in cells.values())
    assert_no_small_cell_determined(cells, relations, truth, "values.json")
    text = viewer.get(f"{SHIP}/exports/values.csv").content.decode("utf-8-sig")  # a download carries a BOM
    rows = list(csv.DictReader(io.StringIO(text)))
    shown = {(r["partner"], r["period"], r["categories"]): r["value"] for r in rows if r["indicator"] == "2.a"}
    assert all(v in ("<5", "x") or not 0 < float(v) < 5 for v in shown.values())
    assert sum(v in ("<5", "x") for v in shown.values()) == sum(v == "hidden" for v in cells.values())


# -- the indicator page: series, explorer, chart data, sources --------------------------------


@pytest.mark.parametrize(("role", "partner", "sees"), VIEWERS)
def test_indicator_page_gives_no_small_count_away(
    client: TestClient, login_as: Login, sensitive: None, role: str, partner: str | None, sees: tuple[str, ...]
) -> None:
    viewer = _login(client, login_as, role, partner)
    page = soup(viewer.get(f"{SHIP}/indicators/2.a", params={"dimension": "sex"}).text)
    cells: dict[tuple[str, str], Any] = {}
    truth: dict[tuple[str, str], float] = {}
    running = 0.0
    quarters = [str(tr["data-period"]) for tr in page.select("table.series tr[data-period]")]
    per_quarter = truth_by_quarter(sees)
    for q in quarters:
        tr = page.select_one(f"table.series tr[data-period='{q}']")
        assert tr is not None
        cells[("r", q)] = shown_number(tr.select_one("td.reported").get_text())  # type: ignore[union-attr]
        cells[("d", q)] = shown_number(tr.select_one("td.to-date").get_text())  # type: ignore[union-attr]
        running += per_quarter.get(("total", q), 0)
        truth[("r", q)], truth[("d", q)] = per_quarter.get(("total", q), 0), running
    relations: list[tuple[Hashable, Sequence[Hashable]]] = []
    for i, q in enumerate(quarters):
        relations.append((("d", q), [("d", quarters[i - 1]), ("r", q)] if i else [("r", q)]))
    chart = json.loads(page.select_one("#series-data").get_text())  # type: ignore[union-attr]
    for dataset in chart["datasets"]:
        if dataset.get("kind") != "target":
            assert not any(isinstance(v, int | float) and 0 < v < 5 for v in dataset["data"]), dataset["label"]
    assert_no_small_cell_determined(cells, relations, truth, f"indicator series as {role}/{partner}")
    # the explorer: categories by partner, and their totals
    explorer: dict[tuple[str, str], Any] = {}
    for tr in page.select("#explorer tr.category, #explorer tr.total"):
        row = "total" if "total" in tr["class"] else tr.select_one("th").get_text(strip=True).lower()  # type: ignore[union-attr]
        for td in tr.select("td.value"):
            col = str(td.get("data-partner-id", "all"))
            explorer[(row, col)] = shown_number(td.get_text())
    assert not any(isinstance(v, float) and 0 < v < 5 for v in explorer.values()), explorer
    data = json.loads(page.select_one("#explorer-data").get_text())  # type: ignore[union-attr]
    for dataset in data.get("datasets", []):
        assert not any(isinstance(v, int | float) and 0 < v < 5 for v in dataset["data"])
    sources = viewer.get(f"{SHIP}/indicators/2.a/sources", params={"period": "2019Q1", "combo": ""})
    listed = soup(sources.text)
    for tr in listed.select("tr.source"):
        value = shown_number(tr.select("td")[2].get_text())
        assert value == "hidden" or value is None or not (0 < value < 5)  # type: ignore[operator]


# -- who reaches what --------------------------------------------------------------------------


@pytest.mark.parametrize("partner", ["aba-roli", "chs", "ilo"])
def test_partners_reach_only_their_partnership_and_rows(
    client: TestClient, login_as: Login, sensitive: None, partner: str
) -> None:
    viewer = login_as(client, "partner", partner=partner)
    for path in ("", "/iptt", "/theory-of-change", "/trainings", "/indicators/1.a", "/iptt.xlsx"):
        assert viewer.get(f"/p/philippines-cpc{path}").status_code == 404, path
    assert viewer.get("/p/nope").status_code == 404
    portfolio = soup(viewer.get("/").text)
    assert "philippines-cpc" not in {a.get("href", "").split("/")[2] for a in portfolio.select("a[href^='/p/']")}
    if partner == "aba-roli":
        assert viewer.get(f"{SHIP}/trainings", params={"partner": "ilo"}).status_code == 404
        assert viewer.get(f"{SHIP}/iptt", params={"partner": "ilo"}).status_code == 404
    assert viewer.get(f"{SHIP}/comparison").status_code == 403


def test_evaluators_read_approved_data_only(
    client: TestClient, login_as: Login, sensitive: None, session: Session
) -> None:
    viewer = login_as(client, "evaluator")
    page = soup(viewer.get(f"{SHIP}/indicators/2.a", params={"provisional": "1"}).text)
    quarter = page.select_one("table.series tr[data-period='2020Q1'] td.reported")
    assert quarter is not None and shown_number(quarter.get_text()) is None
    values = json.loads(viewer.get(f"{SHIP}/exports/values.json", params={"provisional": "1"}).text)
    assert {r["status"] for r in values} == {"approved"}
    assert viewer.get("/submissions/1").status_code == 403
    assert viewer.get("/submissions/1/file").status_code == 403
    assert viewer.get(f"{SHIP}/quality").status_code == 200


def test_staff_still_see_raw_figures(client: TestClient, login_as: Login, sensitive: None) -> None:
    officer = login_as(client, "officer")
    page = soup(officer.get(f"{SHIP}/iptt", params={"granularity": "quarter", "expand": "2.a"}).text)
    cells = _iptt_cells(page, NAMES)
    assert cells[("chs", "2019Q1")] == 2 and cells[("sex:male", "2019Q1")] == 4 and cells[("total", "2019Q2")] == 11
    provisional = soup(officer.get(f"{SHIP}/iptt", params={"granularity": "quarter", "provisional": "1"}).text)
    assert _iptt_cells(provisional, NAMES)[("total", "2020Q1")] == 3
