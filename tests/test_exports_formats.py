"""Export formats for spreadsheet readers: number formats by unit, yes/no in the reader's language, the BOM.

Counts read ``1,480`` (not ``1,480.0``), percents ``59.4``; booleans read yes/no (sí/no), never
true/false; a CSV for Excel starts with a UTF-8 byte-order mark (downloads, ``--excel``), a CSV for
programs (``--format csv``) does not.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.cli import app
from mel.core.settings import Settings
from mel.exports.writer import BOM, UNIT_FORMATS, Column, Table, YesNo, flag, write
from tests import comparison_scenario

DB_SCENARIOS = {"stored": comparison_scenario.build}


@pytest.fixture
def stored(session: Session, stored_scenarios: tuple[object, ...]) -> Session:
    """The test's session over the comparison scenario (``DB_SCENARIOS``: its database holds it)."""
    assert comparison_scenario.build in stored_scenarios, "the test module's DB_SCENARIOS must name this fixture"
    return session


def run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(app, ["export", *args], env={"MEL_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_xlsx_number_formats_follow_each_rows_unit(stored: Session, settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "comparison.xlsx"
    run(settings, "comparison", "--partnership", "peru-cpc", "--format", "xlsx", "--out", str(out))
    sheet = load_workbook(out).worksheets[0]
    header = [c.value for c in sheet[1]]
    unit_at, base_at, end_at = header.index("unit"), header.index("baseline_value"), header.index("endline_value")
    seen = set()
    for row in sheet.iter_rows(min_row=2):
        unit = row[unit_at].value
        for cell in (row[base_at], row[end_at]):
            if isinstance(cell.value, int | float):
                assert cell.number_format == UNIT_FORMATS[unit], (row[0].value, unit, cell.number_format)
                seen.add(unit)
    assert {"count", "percent"} <= seen


def test_yes_no_in_the_readers_language(stored: Session, settings: Settings, tmp_path: Path) -> None:
    english = list(csv.DictReader(io.StringIO(run(settings, "comparison", "--partnership", "peru-cpc"))))
    assert {r["comparable"] for r in english} <= {"yes", "no"} and {r["suppressed"] for r in english} <= {"yes", "no"}
    assert "no" in {r["comparable"] for r in english}, "the scenario has a measurement marked not comparable"
    spanish_text = run(settings, "comparison", "--partnership", "peru-cpc", "--lang", "es")
    spanish = list(csv.DictReader(io.StringIO(spanish_text)))
    assert {r["comparable"] for r in spanish} == {"sí", "no"}
    out = tmp_path / "es.xlsx"
    run(settings, "comparison", "--partnership", "peru-cpc", "--format", "xlsx", "--lang", "es", "--out", str(out))
    sheet = load_workbook(out).worksheets[0]
    col = [c.value for c in sheet[1]].index("comparable")
    assert {r[col].value for r in sheet.iter_rows(min_row=2)} == {"sí", "no"}
    # JSON keeps real booleans: it is a contract for programs
    assert run(settings, "comparison", "--partnership", "peru-cpc", "--format", "json", "--lang", "es").count(
        '"comparable": true'
    )


def test_csv_bom_for_spreadsheets_only(stored: Session, settings: Settings, tmp_path: Path) -> None:
    plain = run(settings, "values", "--partnership", "peru-cpc", "--format", "csv")
    assert not plain.startswith(BOM) and plain.startswith("indicator,")
    excel = run(settings, "values", "--partnership", "peru-cpc", "--format", "csv", "--excel")
    assert excel.startswith(BOM) and excel[1:] == plain
    out = tmp_path / "values.csv"
    run(settings, "values", "--partnership", "peru-cpc", "--excel", "--out", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfindicator,")


def test_download_csv_has_bom_and_the_pages_language(
    stored: Session, client: TestClient, login_as: Callable[..., TestClient]
) -> None:
    evaluator = login_as(client, "evaluator")
    response = evaluator.get("/p/peru-cpc/exports/comparison.csv?lang=es")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["comparable"] for r in rows} == {"sí", "no"}
    assert not evaluator.get("/p/peru-cpc/exports/comparison.json").content.startswith(b"\xef\xbb\xbf")


def test_writer_without_unit_column_formats_whole_numbers_without_decimals(tmp_path: Path) -> None:
    table = Table(
        name="T",
        columns=[Column("n", "a number", "number"), Column("ok", "a flag")],
        rows=lambda: [[1480, flag(True)], [2.5, flag(False)], [None, None]],
        records=lambda: [],
        lang="es",
    )
    out = tmp_path / "t.xlsx"
    with out.open("wb") as fh:
        write(table, "xlsx", fh)
    sheet = load_workbook(out).worksheets[0]
    assert sheet["A2"].number_format == "#,##0" and sheet["A3"].number_format == "#,##0.0##"
    assert (sheet["B2"].value, sheet["B3"].value) == ("sí", "no")
    text = io.StringIO()
    write(table, "csv", text, bom=True)
    assert text.getvalue() == BOM + "n,ok\n1480,sí\n2.5,no\n,\n"
    assert isinstance(flag(True), YesNo) and flag(None) is None
