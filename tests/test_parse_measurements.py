"""The measurement workbook: told apart by its sheets, rounds and dates in both languages, partnership by
upload or by column, comparable defaulting to yes, and its errors with sheet and cell."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from mel.workbooks.report_writer import MeasurementRow, write_measurements
from mel.workbooks.spec import dimension_specs
from tests.parse_factory import COVER, parse, parse_bytes, report

HEADER = ["Indicator", "Round", "Date", "Sex", "Value", "Source", "Comparable", "Note"]


def _partnership_id(session: Session) -> int:
    from sqlalchemy import select

    from mel.catalog.models import Partnership

    found = session.scalar(select(Partnership.id).where(Partnership.code == "peru-cpc"))
    assert found is not None
    return found


def test_written_measurements_read_back(session: Session) -> None:
    rows = [
        MeasurementRow("1.a", "baseline", 2017, 8, source="MPFN"),
        MeasurementRow("3.a", "endline", dt.date(2022, 5, 31), 61.5, {"sex": "female"}, comparable=False, note="n"),
        MeasurementRow("1.1.b", "midline", "2020", 70),
    ]
    data = write_measurements(rows, dimension_specs(session, _partnership_id(session), "es"), "es")
    parsed = parse_bytes(session, data, lang="es", partnership_code="peru-cpc")
    assert parsed.errors == []
    assert parsed.kind == "measurements"
    assert parsed.partnership_id == _partnership_id(session)
    assert [m.as_json() for m in parsed.measurements] == [
        {
            "indicator": "1.a",
            "round": "baseline",
            "date": "2017",
            "categories": {},
            "value": 8,
            "source": "MPFN",
            "comparable": True,
            "note": None,
        },
        {
            "indicator": "3.a",
            "round": "endline",
            "date": "2022-05-31",
            "categories": {"sex": "female"},
            "value": 61.5,
            "source": None,
            "comparable": False,
            "note": "n",
        },
        {
            "indicator": "1.1.b",
            "round": "midline",
            "date": "2020",
            "categories": {},
            "value": 70,
            "source": None,
            "comparable": True,
            "note": None,
        },
    ]
    assert parsed.measurements[1].cell == "E3"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("baseline", "baseline"),
        ("Línea de base", "baseline"),
        ("linea de base", "baseline"),
        ("Midline", "midline"),
        ("medio término", "midline"),
        ("ENDLINE", "endline"),
        ("Línea final", "endline"),
        ("Evaluación final", "endline"),
    ],
)
def test_round_words(session: Session, written: str, expected: str) -> None:
    sheets = {"Mediciones": [["Indicador", "Ronda", "Año", "Valor"], ["IMP.a", written, 2020, 692]]}
    parsed = parse(session, sheets, partnership_code="peru-cpc")
    assert parsed.errors == []
    assert [(m.round, m.date, m.value) for m in parsed.measurements] == [(expected, "2020", 692)]


def test_partnership_column_and_comparable(session: Session) -> None:
    sheets = {
        "Measurements": [
            ["Alianza", "Código", "Medición", "Fecha", "Valor", "Comparable con línea de base"],
            ["peru-cpc", "2.b", "endline", "2022", 7, "no"],
            ["U.S.-Peru Child Protection Compact Partnership", "2.b", "baseline", "31/12/2017", 3, None],
            ["nowhere", "2.b", "baseline", "2017", 3, None],
            ["peru-cpc", "2.b", "midline", "2020", 5, "maybe"],
        ]
    }
    parsed = parse(session, sheets)
    assert [(e.code, e.sheet, e.cell) for e in parsed.errors] == [
        ("unknown_partner", "Measurements", "A4"),
        ("not_a_number", "Measurements", "F5"),
    ]
    assert [(m.round, m.date, m.comparable) for m in parsed.measurements] == [
        ("endline", "2022", False),
        ("baseline", "2017-12-31", True),
    ]
    assert parsed.partnership_id == _partnership_id(session)


def test_measurement_errors(session: Session) -> None:
    rows: list[list[Any]] = [
        HEADER,
        ["1.z", "baseline", 2017, None, 1, None, None, None],
        ["1.a", "final", 2017, None, 1, None, None, None],
        ["1.a", "endline", "mid 2022", None, 1, None, None, None],
        ["1.a", "endline", 2022, "Female", 14, None, None, None],
        ["3.a", "endline", 2022, "Mujer", 140, None, None, None],
        ["3.a", "endline", 2022, "Girls", 40, None, None, None],
        ["1.a", "baseline", 2017, None, 8, None, None, None],
        ["1.a", "baseline", 2017, None, 8, None, None, None],
        ["1.a", "midline", 2019, None, "1.250", None, None, None],
    ]
    parsed = parse(session, {"Measurements": rows}, partnership_code="peru-cpc")
    assert [(e.code, e.cell) for e in parsed.errors] == [
        ("unknown_indicator", "A2"),
        ("unknown_category", "B3"),
        ("bad_date", "C4"),
        ("dimension_not_used", "D5"),
        ("out_of_range", "E6"),
        ("unknown_category", "D7"),
        ("duplicate_row", "E9"),
        ("ambiguous_number", "E10"),
    ]
    assert all(e.sheet == "Measurements" for e in parsed.errors)


def test_missing_columns_and_partnership(session: Session) -> None:
    parsed = parse(session, {"Measurements": [["Indicator", "Value"], ["1.a", 3]]})
    assert [(e.code, e.cell) for e in parsed.errors] == [
        ("missing_column", ""),
        ("missing_column", ""),
        ("missing_column", ""),
    ]
    stated = parse(session, {"Measurements": [HEADER]}, partnership_code="atlantis")
    assert [(e.code, e.sheet, e.cell) for e in stated.errors] == [("unknown_partner", "", "")]


def test_kinds_are_told_apart_by_sheets(session: Session) -> None:
    both = parse(session, {**report([["1.1.a", None, None, None, 1]]), "Measurements": [HEADER]})
    assert both.kind == "quarterly_report"
    assert [(i.code, i.sheet) for i in both.infos] == [("ignored_sheet", "Measurements")]
    alone = parse(session, {"Mediciones": [HEADER], "Cover page": COVER}, partnership_code="peru-cpc")
    assert alone.kind == "measurements"
    assert alone.errors == []
