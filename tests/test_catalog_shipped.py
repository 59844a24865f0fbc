"""The shipped catalogs are complete: reference sheets, Spanish, contacts, targets and context."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.catalog_file import LineDict
from mel.catalog.models import PILLARS, Partnership, Result
from mel.catalog.schema import parse_catalog
from mel.core.paths import INDICATORS_DIR

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "peru-cpc.yaml"

PIRS = ("definition", "rationale", "data_source", "collection_method", "limitations")
CATALOGS = sorted(INDICATORS_DIR.glob("*.yaml"))


def _load(path: Path) -> LineDict:
    return parse_catalog(path)


def test_both_partnerships_are_shipped() -> None:
    codes = {_load(p)["partnership"]["code"]: _load(p)["partnership"]["country"] for p in CATALOGS}
    assert codes.get("peru-cpc") == "PE"
    assert codes.get("philippines-cpc") == "PH"


@pytest.mark.parametrize("path", CATALOGS, ids=[p.stem for p in CATALOGS])
def test_every_indicator_has_a_reference_sheet_in_two_languages(path: Path) -> None:
    data = _load(path)
    for ind in data["indicators"]:
        for key in PIRS:
            text = str(ind.get(key) or "")
            assert len(text) >= 60, (ind["code"], key, text)
            spanish = str(ind.get(f"{key}_es") or "")
            # translated, not copied: a Spanish text of comparable length that differs from the English
            assert spanish != text and 0.6 * len(text) <= len(spanish) <= 1.8 * len(text), (ind["code"], key)
        assert ind.get("name_es") and ind["name_es"] != ind["name"], ind["code"]
        assert ind.get("frequency") in ("quarterly", "annual"), ind["code"]
    for event in data.get("context_events") or []:
        if event.get("description"):
            assert event.get("description_es") and event["description_es"] != event["description"], event["title"]
    for res in data["results"]:
        assert res.get("statement_es") and res["statement_es"] != res["statement"], res["code"]
    assert data["partnership"].get("name_es")


@pytest.mark.parametrize("path", CATALOGS, ids=[p.stem for p in CATALOGS])
def test_partners_have_role_based_contacts(path: Path) -> None:
    for partner in _load(path)["partners"]:
        contact = partner.get("contact") or {}
        assert contact.get("name") and str(contact.get("email", "")).endswith("@example.org"), partner["code"]


@pytest.mark.parametrize("path", CATALOGS, ids=[p.stem for p in CATALOGS])
def test_fiscal_year_targets_add_up_within_the_partnership(path: Path) -> None:
    data = _load(path)
    partnership = data["partnership"]
    fy_start = int(partnership.get("fiscal_year_starts", 10))
    # the fiscal year named after the calendar year in which it ends (U.S. convention when fy_start > 1)
    first_fy = partnership["starts_on"].year + (1 if fy_start > 1 and partnership["starts_on"].month >= fy_start else 0)
    last_fy = partnership["ends_on"].year + (1 if fy_start > 1 and partnership["ends_on"].month >= fy_start else 0)
    with_years = [i for i in data["indicators"] if (i.get("target") or {}).get("fiscal_years")]
    assert with_years, "some count indicators carry fiscal-year targets"
    for ind in with_years:
        years = ind["target"]["fiscal_years"]
        assert ind["unit"] == "count" and ind["aggregation"] == "sum", ind["code"]
        assert sum(years.values()) == ind["target"]["value"], ind["code"]
        assert all(first_fy <= int(str(fy)[2:]) <= last_fy for fy in years), (ind["code"], list(years))


@pytest.mark.parametrize("path", CATALOGS, ids=[p.stem for p in CATALOGS])
def test_context_events_include_the_covid_19_emergency(path: Path) -> None:
    data = _load(path)
    partnership = data["partnership"]
    events = data.get("context_events") or []
    assert len(events) >= 2
    covid = [e for e in events if "COVID-19" in e["title"]]
    assert len(covid) == 1
    assert dt.date(2020, 3, 15) <= covid[0]["starts_on"] <= dt.date(2020, 3, 31)
    assert sorted(covid[0]["pillars"]) == sorted(PILLARS)
    for event in events:
        assert event.get("title_es") and event.get("description")
        assert partnership["starts_on"] <= event["starts_on"] <= partnership["ends_on"], event["title"]


@pytest.mark.parametrize("path", CATALOGS, ids=[p.stem for p in CATALOGS])
def test_victim_counts_are_sensitive(path: Path) -> None:
    """Counts of victims or survivors are flagged so exports suppress small cells."""
    data = _load(path)
    sensitive = [i for i in data["indicators"] if i.get("sensitive")]
    assert sensitive
    for ind in data["indicators"]:
        name = ind["name"].lower()
        counts_children = ind["unit"] == "count" and ("victims who" in name or "survivors who" in name)
        assert bool(ind.get("sensitive")) == counts_children, ind["code"]


# --- the shipped catalogs -------------------------------------------------------------------


def _reference() -> dict:
    """The reference framework as its authors meant it (some flow-style statements contain commas)."""
    return yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference catalog is not beside the checkout")
def test_peru_catalog_carries_the_reference_exactly() -> None:
    ref = _reference()
    ours = parse_catalog(INDICATORS_DIR / "peru-cpc.yaml")
    assert ours["partnership"]["code"] == ref["partnership"]["code"]
    assert ours["partnership"]["fiscal_year_starts"] == ref["partnership"]["fiscal_year_starts"]
    assert {p["code"]: p.get("parent") for p in ours["partners"]} == {
        p["code"]: p.get("parent") for p in ref["partners"]
    }
    for code, dim in ref["dimensions"].items():
        assert [c["code"] for c in ours["dimensions"][code]["categories"]] == [c["code"] for c in dim["categories"]]
    assert {r["code"]: (r["level"], r.get("pillar"), r.get("contributes_to")) for r in ours["results"]} == {
        r["code"]: (r["level"], r.get("pillar"), r.get("contributes_to")) for r in ref["results"]
    }
    keys = ("result", "unit", "aggregation", "direction", "dimensions", "partners", "sensitive", "denominator")
    ours_ind = {i["code"]: i for i in ours["indicators"]}
    ref_codes = [i["code"] for i in ref["indicators"]]
    # every reference code, in the reference's order; codes added since (outcomes beyond counts) are new
    # codes under the reference's results, never a reference code redefined
    assert [c for c in ours_ind if c in set(ref_codes)] == ref_codes
    added = [ours_ind[c] for c in ours_ind if c not in set(ref_codes)]
    assert {i["code"] for i in added} == {"1.d", "1.1.c", "4.1.c", "4.1.d"}
    assert all(i["result"] in {r["code"] for r in ref["results"]} for i in added)
    for ref_ind in ref["indicators"]:
        mine = ours_ind[ref_ind["code"]]
        for key in keys:
            assert mine.get(key) == ref_ind.get(key), (ref_ind["code"], key)
        assert (mine.get("baseline") or {}).get("value") == (ref_ind.get("baseline") or {}).get("value")
        assert (mine.get("target") or {}).get("value") == (ref_ind.get("target") or {}).get("value")
        for field in ("definition", "rationale", "data_source", "collection_method", "limitations"):
            assert mine.get(field), (ref_ind["code"], field)


def test_shipped_catalogs_load(session: Session) -> None:
    codes = set(session.scalars(select(Partnership.code)))
    assert {"peru-cpc", "philippines-cpc"} <= codes
    assert (
        session.scalar(select(func.count()).select_from(Result).join(Partnership).where(Partnership.code == "peru-cpc"))
        == 12
    )
