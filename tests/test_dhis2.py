"""``mel export dhis2``: DHIS2 data value sets and ADX from the catalog's optional identifiers.

The catalog used here is the shipped peru-cpc file with ``dhis2:`` blocks added; values are stored
directly. Golden files fix the two outputs; the ADX is also parsed and its structure checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.catalog.catalog_file import CatalogError
from mel.catalog.service import load_catalog
from mel.cli import app
from mel.core.paths import INDICATORS_DIR
from mel.core.settings import Settings
from tests.test_exports import golden
from tests.value_factory import add_submission

ADX = "{urn:ihe:qrph:adx:2015}"
DATA_SET = "PeruCpcDs01"
ORG_UNITS = {"ilo": "OuIloLima01", "chs": "OuChsLima01"}  # aba-roli and idl are left unmapped on purpose
REGIONS = {"cusco": "OuCusco0001", "lima": "OuLima00001"}
COMBOS = {"": "CocTotal001", "sex=female": "CocFemale01", "sex=male": "CocMale0001"}


def _catalog(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load((INDICATORS_DIR / "peru-cpc.yaml").read_text(encoding="utf-8"))
    data["partnership"]["dhis2"] = {"data_set": DATA_SET}
    for partner in data["partners"]:
        if partner["code"] in ORG_UNITS:
            partner["dhis2"] = {"org_unit": ORG_UNITS[partner["code"]]}
    for cat in data["dimensions"]["region"]["categories"]:
        if cat["code"] in REGIONS:
            cat["dhis2"] = {"org_unit": REGIONS[cat["code"]]}
    for ind in data["indicators"]:
        if ind["code"] == "1.1.a":  # by partner, total and sex
            ind["dhis2"] = {"data_element": "DeTrained01", "category_option_combos": COMBOS}
        if ind["code"] == "2.a":  # by region
            ind["dhis2"] = {
                "data_element": "DeVictims01",
                "org_unit": "region",
                "category_option_combos": {"": "CocTotal001"},
            }
    for ind in data["indicators"]:
        ind.update(changes.get(ind["code"], {}))
    path = tmp_path / "peru-cpc.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def mapped(session: Session, tmp_path: Path) -> Session:
    load_catalog(session=session, path=_catalog(tmp_path))
    add_submission(
        session,
        partner="ilo",
        period="2021Q3",
        values=[
            ("1.1.a", {}, 30),
            ("1.1.a", {"sex": "female"}, 18),
            ("1.1.a", {"sex": "male"}, 12),
            ("1.1.a", {"region": "cusco"}, 7),  # no category option combo for a region: listed
            ("1.2.a", {}, 4),  # no data element: listed
            ("2.a", {}, 40),
            ("2.a", {"region": "cusco"}, 25),
            ("2.a", {"region": "lima"}, 15),
        ],
    )
    add_submission(session, partner="chs", period="2021Q3", values=[("2.a", {}, 9), ("2.a", {"region": "cusco"}, 9)])
    add_submission(session, partner="ilo", period="2021Q4", values=[("1.1.a", {}, 11)])
    add_submission(session, partner="aba-roli", period="2021Q4", values=[("1.1.a", {}, 5)])  # no org unit: listed
    add_submission(session, partner="ilo", period="2022Q1", values=[("1.1.a", {}, 99)], status="submitted")
    session.commit()
    return session


def _export(settings: Settings, fmt: str, *extra: str) -> tuple[str, str]:
    result = CliRunner().invoke(
        app,
        ["export", "dhis2", "--partnership", "peru-cpc", "--format", fmt, *extra],
        env={"MEL_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_data_value_set_golden(mapped: Session, settings: Settings) -> None:
    out, err = _export(settings, "json")
    golden("dhis2.json", out)
    body = json.loads(out)
    assert body["dataSet"] == DATA_SET
    got = {
        (v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"]): v["value"] for v in body["dataValues"]
    }
    # computed from the fixture: ilo's 1.1.a by sex; 2.a by region, both partners added up in Cusco
    assert got == {
        ("DeTrained01", "2021Q3", "OuIloLima01", "CocTotal001"): "30",
        ("DeTrained01", "2021Q3", "OuIloLima01", "CocFemale01"): "18",
        ("DeTrained01", "2021Q3", "OuIloLima01", "CocMale0001"): "12",
        ("DeTrained01", "2021Q4", "OuIloLima01", "CocTotal001"): "11",
        ("DeVictims01", "2021Q3", "OuCusco0001", "CocTotal001"): str(25 + 9),
        ("DeVictims01", "2021Q3", "OuLima00001", "CocTotal001"): "15",
    }
    assert all(isinstance(v["value"], str) for v in body["dataValues"])  # DHIS2 takes values as strings
    listed = err.splitlines()
    assert "not exported: indicator 1.2.a: no dhis2 data_element in the catalog" in listed
    assert "not exported: partner aba-roli: no dhis2 org_unit in the catalog" in listed
    assert "not exported: indicator 1.1.a: no dhis2 category option combo for region=cusco" in listed
    provisional = json.loads(_export(settings, "json", "--include-provisional")[0])
    assert ("2022Q1", "99") in {(v["period"], v["value"]) for v in provisional["dataValues"]}


def test_adx_golden_and_structure(mapped: Session, settings: Settings) -> None:
    out, _err = _export(settings, "adx")
    golden("dhis2.adx.xml", out)
    root = ET.fromstring(out.encode())
    assert root.tag == f"{ADX}adx"
    groups = root.findall(f"{ADX}group")
    keys = [(g.get("orgUnit"), g.get("period"), g.get("dataSet")) for g in groups]
    assert len(keys) == len(set(keys)), "one group per org unit x period x data set"
    assert set(keys) == {
        ("OuIloLima01", "2021-07-01/P3M", DATA_SET),
        ("OuIloLima01", "2021-10-01/P3M", DATA_SET),
        ("OuCusco0001", "2021-07-01/P3M", DATA_SET),
        ("OuLima00001", "2021-07-01/P3M", DATA_SET),
    }
    for group in groups:
        values = group.findall(f"{ADX}dataValue")
        assert values and all(v.get("dataElement") and v.get("value") for v in values)
        assert list(group) == values, "a group holds data values only"
    json_values = {
        (v["orgUnit"], v["dataElement"], v["categoryOptionCombo"], v["value"])
        for v in json.loads(_export(settings, "json")[0])["dataValues"]
    }
    adx_values = {
        (g.get("orgUnit"), v.get("dataElement"), v.get("categoryOptionCombo"), v.get("value"))
        for g in groups
        for v in g.findall(f"{ADX}dataValue")
    }
    assert adx_values == json_values


def test_small_cells_are_withheld_unless_asked(session: Session, settings: Settings, tmp_path: Path) -> None:
    load_catalog(session=session, path=_catalog(tmp_path))
    add_submission(session, partner="ilo", period="2021Q3", values=[("2.a", {}, 3), ("2.a", {"region": "cusco"}, 3)])
    session.commit()
    out, err = _export(settings, "json")
    assert json.loads(out)["dataValues"] == []
    assert "small counts withheld" in err
    raw = json.loads(_export(settings, "json", "--no-suppress")[0])["dataValues"]
    assert [(v["orgUnit"], v["value"]) for v in raw] == [("OuCusco0001", "3")]


def test_adx_needs_a_data_set_and_the_catalog_checks_identifiers(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["export", "dhis2", "--partnership", "peru-cpc", "--format", "adx"],
        env={"MEL_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 2 and "data set" in result.stderr
    bad = _catalog(tmp_path, **{"1.a": {"dhis2": {"data_element": "no", "colour": "x", "org_unit": "moon"}}})
    with pytest.raises(CatalogError) as refused:
        load_catalog(session=session, path=bad)
    problems = "\n".join(refused.value.problems)
    assert "indicators.1.a.dhis2.data_element: 'no' is not a DHIS2 identifier" in problems
    assert "indicators.1.a.dhis2.colour: unknown key" in problems
    assert "indicators.1.a.dhis2.org_unit: partner or region" in problems
