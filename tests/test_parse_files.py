"""Whole files: a filled template, the committed samples, files written by LibreOffice and by openpyxl formulas."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from mel.core.paths import PACKAGE_DIR
from mel.reports.parse_results import ParsedWorkbook
from mel.results.prefill import build_template
from mel.workbooks.labels import indicator_headers, sheet_names, training_headers
from mel.workbooks.spec import partner_spec
from mel.workbooks.template import HEADER_ROW
from tests import libreoffice
from tests.parse_factory import COVER, TRAINING_HEADER, TRAINING_ROW, parse, parse_bytes, report, xlsx

IMPORTS = PACKAGE_DIR.parent / "imports"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_filled_template_parses_without_error(session: Session, lang: str) -> None:
    spec = partner_spec(session, partner_code="ilo", period="2021Q3", lang=lang)
    wb = load_workbook(io.BytesIO(build_template(session=session, partner_code="ilo", period="2021Q3", lang=lang)))
    names = sheet_names(lang)
    ws = wb[names["indicators"]]
    header = [c.value for c in ws[HEADER_ROW]]
    value_col = header.index(indicator_headers(lang)["value"]) + 1
    typed: dict[str, float] = {}
    heads = indicator_headers(lang)
    for offset, indicator in enumerate(spec.indicators):
        if indicator.unit == "stage":  # typed by the second level's name, stored as its number
            number: float = 2
            ws.cell(row=HEADER_ROW + 1 + offset, column=value_col, value=indicator.levels[1])
        else:
            number = {"count": 10 + offset, "percent": 55.5, "yes_no": 1}[indicator.unit]
            ws.cell(row=HEADER_ROW + 1 + offset, column=value_col, value=number)
        if indicator.pooled:  # a pooled rate: its counts beside the value (111 of 200 is 55.5 %)
            ws.cell(row=HEADER_ROW + 1 + offset, column=header.index(heads["numerator"]) + 1, value=111)
            ws.cell(row=HEADER_ROW + 1 + offset, column=header.index(heads["denominator"]) + 1, value=200)
        typed[indicator.code] = number
    # a row by category below the totals, typed with the dropdown's label
    extra = HEADER_ROW + 1 + len(spec.indicators)
    sex_col = header.index(spec.dimensions["sex"].label) + 1
    ws.cell(row=extra, column=1, value="1.1.a")
    ws.cell(row=extra, column=sex_col, value=spec.dimensions["sex"].label_of("female"))
    ws.cell(row=extra, column=value_col, value=3)
    trainings = wb[names["trainings"]]
    keys = list(training_headers(lang))
    row = {
        "title": "Curso",
        "start_date": dt.date(2021, 8, 2),
        "pillar": "Prosecution" if lang == "en" else "Persecución",
        "region": spec.dimensions["region"].label_of("puno"),
        "modality": spec.dimensions["modality"].label_of("hybrid"),
        "institution": spec.dimensions["institution"].label_of("judiciary"),
        "female": 4,
        "male": 5,
    }
    for key, value in row.items():
        trainings.cell(row=HEADER_ROW + 1, column=keys.index(key) + 1, value=value)
    buffer = io.BytesIO()
    wb.save(buffer)

    parsed = parse_bytes(session, buffer.getvalue(), lang=lang, partner_code="ilo", period="2021Q3")
    assert parsed.errors == []
    assert (parsed.kind, parsed.partner, parsed.period) == ("quarterly_report", "ilo", "2021Q3")
    totals = {v.indicator: v.value for v in parsed.values if not v.categories}
    assert totals == typed
    assert [(v.indicator, v.categories, v.value) for v in parsed.values if v.categories] == [
        ("1.1.a", {"sex": "female"}, 3)
    ]
    assert [(t.title, t.region, t.modality, t.institution, t.female + t.male) for t in parsed.trainings] == [
        ("Curso", "puno", "hybrid", "judiciary", 9)
    ]
    assert {i.code for i in parsed.infos} == {"ignored_sheet"}


def _sample(session: Session, name: str, **kwargs: Any) -> ParsedWorkbook:
    return parse_bytes(session, (IMPORTS / name).read_bytes(), **kwargs)


def test_committed_samples(session: Session) -> None:
    for path in sorted(IMPORTS.glob("*-2021Q3.xlsx")):
        parsed = _sample(session, path.name, period="2021Q3")
        assert parsed.errors == [], path.name
        assert parsed.values and parsed.trainings and parsed.narrative, path.name
    wrong = _sample(session, "ilo-2021Q3-errores.xlsx", lang="es", partner_code="ilo")
    assert [(e.code, e.sheet, e.cell) for e in wrong.errors] == [
        ("ambiguous_number", "Indicadores", "H15"),
        ("unknown_category", "Indicadores", "G21"),
        ("date_outside_period", "Capacitaciones", "B5"),
    ]


def test_formula_without_cached_value_and_error_cells(session: Session) -> None:
    def edit(wb: Workbook) -> None:
        ws = wb["Indicators"]
        ws["E2"] = "=SUM(E3:E4)"
        ws["E3"] = "=1/0"
        ws["E4"] = "#DIV/0!"
        ws["E5"] = "#REF!"
        ws["D6"] = "=A1"

    rows = [["1.1.a", None, None, None], *(["1.1.a", "Female", None, r] for r in ("Lima", "Cusco", "Puno"))]
    rows.append(["1.b", None, None, None, 2])
    parsed = parse(session, report(rows), edit)
    assert [(e.code, e.cell) for e in parsed.errors] == [
        ("formula_without_value", "D6"),
        ("formula_without_value", "E2"),
        ("formula_without_value", "E3"),
        ("cell_error", "E4"),
        ("cell_error", "E5"),
    ]
    assert "#REF!" in parsed.errors[-1].message


def _through_libreoffice(data: bytes, tmp_path: Path) -> bytes:
    source = tmp_path / "in" / "report.xlsx"
    source.parent.mkdir()
    source.write_bytes(data)
    libreoffice.convert(tmp_path / "profile", "xlsx", tmp_path / "out", [source])
    return (tmp_path / "out" / "report.xlsx").read_bytes()


def test_libreoffice_written_workbook_parses_the_same(session: Session, tmp_path: Path) -> None:
    libreoffice.soffice()  # installed, or a skip (a failure in CI) before anything is built

    def edit(wb: Workbook) -> None:
        wb["Indicators"]["E3"].number_format = "0%"
        wb["Indicators"]["E6"] = "=E4+1"

    sheets = report(
        [
            ["1.1.a", None, None, None, "1,250"],
            ["1.1.b", None, None, None, 0.45],
            ["1.1.a", "Female", "PNP", "Lima", 700],
            ["4.1.b", None, None, None, "sí"],
            ["1.b", None, None, None, None],
            ["2.a", "M", None, None, "n/a"],
        ],
        Trainings=[TRAINING_HEADER, TRAINING_ROW, ["Taller", "03/09/2021", None, "Prevention", "Lima", "In person"]],
        Narrative=[["Section", "Text"], ["Achievements", "Protocol adopted"]],
    )
    sheets["Trainings"][2] = [*sheets["Trainings"][2], "Community members", 7, 3]
    original = xlsx(sheets, edit)
    converted = _through_libreoffice(original, tmp_path)
    ours = parse_bytes(session, original)
    theirs = parse_bytes(session, converted)
    # openpyxl computes no formula; LibreOffice caches every one
    assert [(e.code, e.cell) for e in ours.errors] == [("formula_without_value", "E6")]
    assert theirs.errors == []
    assert [v.as_json() for v in theirs.values] == [v.as_json() for v in ours.values] + [
        {"indicator": "1.b", "categories": {}, "value": 701, "comment": None}
    ]
    assert [(v.cell, v.category_ids) for v in theirs.values][:-1] == [(v.cell, v.category_ids) for v in ours.values]
    assert [t.as_json() for t in theirs.trainings] == [t.as_json() for t in ours.trainings]
    assert len(ours.trainings) == 2
    assert [n.as_json() for n in theirs.narrative] == [n.as_json() for n in ours.narrative]
    assert [(i.code, i.cell) for i in theirs.infos] == [(i.code, i.cell) for i in ours.infos]
    assert ours.values[1].value == 45


def test_sheet_cover_only_values(session: Session) -> None:
    parsed = parse(session, {"Indicators": report()["Indicators"], "Cover": COVER})
    assert parsed.errors == [] and parsed.values == []
