"""Every accepted spelling: sheet and header names in English and Spanish, periods, partners, indicator codes,
categories, number formats, percentages and yes/no, all read to the same catalog codes and numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, Dimension, Indicator
from tests.parse_factory import COVER, INDICATOR_HEADER, parse, report

TRAINING_ES = [
    "Título", "Fecha de inicio", "Fecha de fin", "Eje", "Región", "Modalidad", "Institución", "Mujeres", "Hombres",
    "No registrado", "Menores de 18", "Duración", "Prueba de entrada", "Prueba de salida",
]  # fmt: skip


TRAINING_ROW_ES = ["Curso", "12/08/2021", "14-08-2021", "Persecución", "Cusco", "En línea", "Ministerio Público (MPFN)"]


def _cover(partner: Any = "ilo", period: Any = "2021Q3") -> list[list[Any]]:
    return [["Partner", partner], ["Period", period]]


def _category_id(session: Session, dim: str, code: str) -> int:
    found = session.scalar(
        select(Category.id)
        .join(Dimension)
        .where(Dimension.code == dim, Category.code == code, Dimension.partnership_id == _partnership(session))
    )
    assert found is not None
    return found


def _partnership(session: Session) -> int:
    found = session.scalar(select(Indicator.partnership_id).where(Indicator.code == "1.1.a").order_by(Indicator.id))
    assert found is not None
    return found


@pytest.mark.parametrize(
    "written", ["2021Q3", "2021-Q3", "2021 Q3", "Q3 2021", "Q3-2021", "T3 2021", "2021-T3", " 2021q3 ", "t3-2021"]
)
def test_period_spellings(session: Session, written: str) -> None:
    parsed = parse(session, report([["1.1.a", None, None, None, 5]], cover=_cover(period=written)), period="2021Q3")
    assert not parsed.errors
    assert parsed.period == "2021Q3"


@pytest.mark.parametrize("written", ["ilo", "ILO", "International Labour Organization (ILO)", " Ilo "])
def test_partner_spellings(session: Session, written: str) -> None:
    parsed = parse(session, report([["1.1.a", None, None, None, 5]], cover=_cover(partner=written)), partner_code="ilo")
    assert not parsed.errors
    assert parsed.partner == "ilo"


@pytest.mark.parametrize(
    "written",
    ["1.1.a", "1.1.A", "1.1.a - Justice-sector operators trained", "1.1.a Operadores capacitados", "1.1.a: x"],
)
def test_indicator_code_followed_by_text(session: Session, written: str) -> None:
    parsed = parse(session, report([[written, None, None, None, 5]]))
    assert not parsed.errors
    assert [(v.indicator, v.value) for v in parsed.values] == [("1.1.a", 5)]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("12.0", 12),
        ("1,250", 1250),
        ("1 250", 1250),
        ("1\u00a0250", 1250),
        (" 7 ", 7),
    ],
)
def test_count_spellings(session: Session, written: Any, expected: int) -> None:
    parsed = parse(session, report([["1.1.a", None, None, None, written]]))
    assert not parsed.errors
    assert parsed.values[0].value == expected


@pytest.mark.parametrize(("written", "expected"), [(45, 45), ("45%", 45), ("45 %", 45), ("45,5", 45.5), (0.45, 0.45)])
def test_percent_spellings(session: Session, written: Any, expected: float) -> None:
    parsed = parse(session, report([["1.1.b", None, None, None, written]]))
    assert not parsed.errors
    assert parsed.values[0].value == expected


def test_percent_formatted_cell_is_read_as_shown(session: Session) -> None:
    def fmt(wb: Workbook) -> None:
        wb["Indicators"]["E2"].number_format = "0%"
        wb["Indicators"]["E3"].number_format = "0.0%"

    rows = [["1.1.b", None, None, None, 0.45], ["1.1.b", "Female", None, None, 0.525]]
    parsed = parse(session, report(rows), fmt)
    assert not parsed.errors
    assert [v.value for v in parsed.values] == [45, 52.5]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("yes", 1), ("Sí", 1), ("si", 1), ("TRUE", 1), (True, 1), (1, 1), ("no", 0), ("false", 0), (False, 0), (0, 0)],
)
def test_yes_no_spellings(session: Session, written: Any, expected: int) -> None:
    parsed = parse(session, report([["4.1.b", None, None, None, written]]))
    assert not parsed.errors
    assert parsed.values[0].value == expected


@pytest.mark.parametrize("written", ["N/A", "NA", "n/a", "-", "—", "s/d", "n/d", "No aplica"])
def test_not_reported_words(session: Session, written: str) -> None:
    parsed = parse(session, report([["1.1.a", None, None, None, written], ["1.1.b", None, None, None, written]]))
    assert not parsed.errors
    assert parsed.values == []
    assert [(i.code, i.cell) for i in parsed.infos] == [("not_reported", "E2"), ("not_reported", "E3")]


def test_spanish_workbook(session: Session) -> None:
    sheets = {
        "Portada ": [["Informe trimestral"], ["Socio implementador", None, "ILO"], ["Trimestre", "T3 2021"]],
        "INDICADORES": [
            ["Instrucciones: escriba un valor por fila"],
            [],
            ["Código", "Descripción", "Sexo", "Entidad", "Departamento", "Cantidad", "Observaciones"],
            ["1.1.a Operadores capacitados", "x", None, None, None, "1 250", "Total"],
            ["1.1.a", None, "Mujeres", "Fiscalía", "Cuzco", 700, None],
            ["2.a", None, "mujer", None, "Madre de Dios", 4, None],
            ["2.a", None, None, None, None, 9, None],
            [None, None, None, None, None, None, None],
            ["3.1.a", None, "Hombres", None, None, "n/d", None],
        ],
        "Capacitaciones": [
            TRAINING_ES,
            [*TRAINING_ROW_ES, 10, 8, None, 2, 16, "54,5", "81%"],
        ],
        "Narrativa": [["Sección", "Texto"], ["Desafíos", "Lluvias"], ["Retos", "Paro"], ["Contexto", "Elecciones"]],
    }
    parsed = parse(session, sheets, lang="es", partner_code="ilo", period="2021Q3")
    assert parsed.errors == []
    assert (parsed.partner, parsed.period) == ("ilo", "2021Q3")
    got = [(v.indicator, v.categories, v.value, v.comment, v.cell) for v in parsed.values]
    assert got == [
        ("1.1.a", {}, 1250, "Total", "F4"),
        ("1.1.a", {"sex": "female", "institution": "mpfn", "region": "cusco"}, 700, None, "F5"),
        ("2.a", {"sex": "female", "region": "madre-de-dios"}, 4, None, "F6"),
        ("2.a", {}, 9, None, "F7"),
    ]
    assert parsed.values[1].category_ids == frozenset(
        {
            _category_id(session, "sex", "female"),
            _category_id(session, "institution", "mpfn"),
            _category_id(session, "region", "cusco"),
        }
    )
    assert parsed.values[0].category_ids == frozenset()
    (training,) = parsed.trainings
    assert training.as_json() == {
        "title": "Curso",
        "start_date": "2021-08-12",
        "end_date": "2021-08-14",
        "pillar": "prosecution",
        "region": "cusco",
        "modality": "virtual",
        "institution": "mpfn",
        "female": 10,
        "male": 8,
        "other": 0,
        "under_18": 2,
        "hours": 16,
        "pre_score": 54.5,
        "post_score": 81.0,
        "repeat": None,  # the optional column is absent: not recorded, not zero
    }
    assert training.region_id == _category_id(session, "region", "cusco")
    assert [(n.section, n.text) for n in parsed.narrative] == [
        ("challenges", "Lluvias"),
        ("challenges", "Paro"),
        ("context", "Elecciones"),
    ]
    assert [i.code for i in parsed.infos] == ["not_reported"]


def test_english_workbook_with_rows_above_header_and_other_columns(session: Session) -> None:
    sheets = {
        "Notes": [["anything"]],
        "Cover": COVER,
        "Indicators": [
            ["ILO report"],
            ["Indicator code", "Region", "Result", "Comments", "Checked by"],
            ["1.b", "Department of Loreto", 3, None, "x"],
            ["1.b", "loreto", 3, "ok", None],
        ],
        "Trainings": [
            ["Event", "Date", "Pillar", "Departamento", "Modality", "Entidad", "Women", "Men", "Hours", "Event name"],
            ["Course", dt.date(2021, 9, 30), "protection", "Lima", "In person", "cso", 3, 0, 2.5, "x"],
        ],
    }
    parsed = parse(session, sheets)
    assert [(e.code, e.cell) for e in parsed.errors] == [("unknown_category", "B3")]
    assert [(i.code, i.sheet, i.cell) for i in parsed.infos] == [
        ("ignored_sheet", "Notes", ""),
        ("ignored_column", "Indicators", "E2"),
        ("ignored_column", "Trainings", "J1"),
    ]
    assert [(v.categories, v.value, v.comment) for v in parsed.values] == [({"region": "loreto"}, 3, "ok")]
    assert parsed.trainings[0].start_date == dt.date(2021, 9, 30)
    assert parsed.trainings[0].hours == 2.5


def test_header_row_beyond_fifteen_is_not_found(session: Session) -> None:
    rows: list[list[Any]] = [[f"note {i}"] for i in range(15)] + [INDICATOR_HEADER, ["1.1.a", None, None, None, 1]]
    parsed = parse(session, {"Cover": COVER, "Indicators": rows})
    assert [(e.code, e.sheet, e.cell) for e in parsed.errors] == [
        ("missing_column", "Indicators", ""),
        ("missing_column", "Indicators", ""),
    ]


def test_personal_data_headers(session: Session) -> None:
    header = ["Indicator", "Value", "DNI", "Nombre de la capacitación", "Teléfono", "Event name"]
    parsed = parse(session, {"Cover": COVER, "Indicators": [header, ["1.1.a", 3, None, "Curso", None, "x"]]})
    assert [(e.code, e.cell) for e in parsed.errors] == [("personal_data", "C1"), ("personal_data", "E1")]
    assert [(i.code, i.cell) for i in parsed.infos] == [("ignored_column", "D1"), ("ignored_column", "F1")]

    extra = parse(session, {**report([["1.1.a", None, None, None, 1]]), "Participants": [["Full name", "Email"]]})
    assert [(e.code, e.sheet, e.cell) for e in extra.errors] == [
        ("personal_data", "Participants", "A1"),
        ("personal_data", "Participants", "B1"),
    ]
