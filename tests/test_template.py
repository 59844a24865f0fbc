"""Templates: generated from the catalog, protected, with dropdowns, and a filled one always imports."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.cli import app
from mel.core.settings import Settings
from mel.reports.service import import_workbook
from mel.results.prefill import build_template
from mel.workbooks.instructions import ERROR_CODES
from mel.workbooks.labels import cover_labels, followup_headers, indicator_headers, sheet_names, training_headers
from mel.workbooks.spec import PartnerSpec, SpecError, partner_spec
from mel.workbooks.template import HEADER_ROW

PERIOD = "2021Q3"


def _header(ws: Worksheet) -> list[str]:
    return [c.value for c in ws[HEADER_ROW] if c.value is not None]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_template_structure(session: Session, lang: str) -> None:
    spec = partner_spec(session, partner_code="ilo", period=PERIOD, lang=lang)
    wb = load_workbook(io.BytesIO(build_template(session=session, partner_code="ilo", period=PERIOD, lang=lang)))
    names = sheet_names(lang)
    order = ("cover", "indicators", "trainings", "followup", "narrative", "instructions")
    assert wb.sheetnames[:6] == [names[k] for k in order]
    assert wb[names["lists"]].sheet_state == "hidden"

    cover = wb[names["cover"]]
    labels = cover_labels(lang)
    pairs = {row[0]: row[1] for row in cover.iter_rows(min_row=1, max_row=20, max_col=2, values_only=True) if row[0]}
    assert pairs[labels["partner"]] == "ilo"
    assert pairs[labels["period"]] == PERIOD
    assert labels["prepared_by"] in pairs and labels["date"] in pairs

    ind = wb[names["indicators"]]
    heads = indicator_headers(lang)
    header = _header(ind)
    assert header[:3] == [heads["indicator"], heads["description"], heads["unit"]]
    # ILO reports 1.1.b, a pooled rate: the template asks for its numerator and denominator too
    assert any(i.pooled for i in spec.indicators)
    assert header[-4:] == [heads["value"], heads["numerator"], heads["denominator"], heads["comment"]]
    assert set(header[3:-4]) == {d.label for d in spec.used_dimensions()}
    codes = [ind.cell(row=HEADER_ROW + 1 + i, column=1).value for i in range(len(spec.indicators))]
    assert codes == [i.code for i in spec.indicators]
    assert ind.cell(row=HEADER_ROW + 1, column=header.index(heads["value"]) + 1).value is None

    trainings = wb[names["trainings"]]
    assert _header(trainings) == list(training_headers(lang).values())
    followup = wb[names["followup"]]  # optional: left empty it adds nothing (the filled template imports)
    assert _header(followup) == list(followup_headers(lang).values())
    assert followup.protection.sheet and not followup.cell(row=HEADER_ROW + 1, column=1).protection.locked

    for sheet in (ind, trainings, wb[names["narrative"]]):
        assert sheet.protection.sheet, sheet.title
        lists = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
        assert lists, sheet.title
        assert all(names["lists"] in (dv.formula1 or "") for dv in lists)
        assert sheet.cell(row=HEADER_ROW, column=1).protection.locked
        assert not sheet.cell(row=HEADER_ROW + 1 + len(spec.indicators), column=1).protection.locked
    assert cover.protection.sheet
    value_col = header.index(heads["value"]) + 1
    assert not ind.cell(row=HEADER_ROW + 1, column=value_col).protection.locked
    assert ind.cell(row=HEADER_ROW + 1, column=1).protection.locked

    instructions = wb[names["instructions"]]
    first_column = {row[0] for row in instructions.iter_rows(values_only=True)}
    assert set(ERROR_CODES) <= first_column


def test_template_is_reproducible(session: Session) -> None:
    first = build_template(session=session, partner_code="yanapanakusun", period=PERIOD, lang="es")
    assert first == build_template(session=session, partner_code="yanapanakusun", period=PERIOD, lang="es")


def test_template_refuses_unknown_partner_and_bad_period(session: Session) -> None:
    with pytest.raises(SpecError):
        build_template(session=session, partner_code="nobody", period=PERIOD)
    with pytest.raises(SpecError):
        build_template(session=session, partner_code="ilo", period="2021-13")


def fill(data: bytes, spec: PartnerSpec) -> bytes:
    """Type a number in every pre-filled value cell, the way a partner would, plus one row by category."""
    lang = spec.lang
    wb = load_workbook(io.BytesIO(data))
    names = sheet_names(lang)
    ws = wb[names["indicators"]]
    header = _header(ws)
    value_col = header.index(indicator_headers(lang)["value"]) + 1
    typed: dict[str, object] = {"count": 12, "percent": 75, "yes_no": 1}
    for offset, ind in enumerate(spec.indicators):
        assert ws.cell(row=HEADER_ROW + 1 + offset, column=1).value == ind.code
        # a stage is typed as its dropdown shows it: the second level's name in the sheet's language
        value = ind.levels[1] if ind.unit == "stage" else typed[ind.unit]
        ws.cell(row=HEADER_ROW + 1 + offset, column=value_col, value=value)
    cover = wb[names["cover"]]
    cover["B5"] = "M&E"
    cover["B6"] = dt.date(2021, 10, 15)
    # one value by category, typed in the first free row with a label from the dropdown's list
    ind = next(i for i in spec.indicators if i.unit == "count" and i.dimensions)
    dim = spec.dimensions[ind.dimensions[0]]
    row = HEADER_ROW + 1 + len(spec.indicators)
    ws.cell(row=row, column=1, value=ind.code)
    ws.cell(row=row, column=header.index(dim.label) + 1, value=dim.categories[0].label)
    ws.cell(row=row, column=value_col, value=5)
    return _save(wb)


def _save(wb: object) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


@pytest.mark.parametrize(("partner", "lang"), [("ilo", "en"), ("yanapanakusun", "es"), ("chs", "es"), ("idl", "en")])
def test_filled_template_imports_without_errors(session: Session, settings: Settings, partner: str, lang: str) -> None:
    spec = partner_spec(session, partner_code=partner, period=PERIOD, lang=lang)
    data = fill(build_template(session=session, partner_code=partner, period=PERIOD, lang=lang), spec)
    result = import_workbook(
        session=session, data=data, filename="filled.xlsx", settings=settings, partner_code=partner, period=PERIOD
    )
    assert result.errors == []
    assert result.status == "accepted"


def test_template_command_writes_a_workbook(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEL_DATABASE_URL", settings.database_url)
    out = tmp_path / "aba.xlsx"
    result = CliRunner().invoke(
        app, ["template", "--partner", "aba-roli", "--period", "2022Q1", "--lang", "es", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Portada"
    bad = CliRunner().invoke(app, ["template", "--partner", "nobody", "--period", "2022Q1", "--out", str(out)])
    assert bad.exit_code == 2
