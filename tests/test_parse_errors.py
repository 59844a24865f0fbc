"""Every error code of REPORT-FORMAT.md from a real workbook: its code, sheet, cell and a message in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.orm import Session

from mel.reports.parse import parse_bytes as parse_file
from mel.workbooks.instructions import ERROR_CODES
from tests.parse_factory import COVER, TRAINING_HEADER, TRAINING_ROW, parse, report, xlsx

CONTRACT_CODES = {
    "not_a_workbook", "missing_sheet", "missing_column", "unknown_partner", "partner_mismatch", "bad_period",
    "period_mismatch", "unknown_indicator", "indicator_not_assigned", "dimension_not_used", "unknown_category",
    "duplicate_row", "not_a_number", "ambiguous_number", "not_an_integer", "negative_value", "out_of_range",
    "formula_without_value", "cell_error", "total_mismatch", "breakdown_exceeds_total", "bad_date",
    "date_outside_period", "personal_data", "file_too_large",
}  # fmt: skip


def _cover(partner: Any = "ilo", period: Any = "2021Q3") -> list[list[Any]]:
    return [["Quarterly report"], [], ["Partner", partner], ["Period", period]]


def _trainings(*rows: list[Any], header: list[str] = TRAINING_HEADER) -> dict[str, Any]:
    return {"Trainings": [header, *rows]}


def _training(**changes: Any) -> list[Any]:
    row = list(TRAINING_ROW)
    for key, value in changes.items():
        row[TRAINING_HEADER.index(key)] = value
    return row


def _formula(wb: Workbook) -> None:
    wb["Indicators"]["E2"] = "=10+2"


# (case, sheets, parse arguments, workbook edit, expected (code, sheet, cell), words the English message holds)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], Any, tuple[str, str, str], list[str]]] = [
    ("missing_sheet", {"Cover": COVER}, {}, None, ("missing_sheet", "Indicators", ""), ["Indicators"]),
    (
        "missing_column",
        {"Cover": COVER, "Indicators": [["Indicator", "Comment"], ["1.1.a", "x"]]},
        {},
        None,
        ("missing_column", "Indicators", ""),
        ["Value"],
    ),
    ("unknown_partner", report(cover=_cover("acme")), {}, None, ("unknown_partner", "Cover", "B3"), ["acme"]),
    (
        "partner_mismatch",
        report([["1.1.a", None, None, None, 5]]),
        {"partner_code": "aba-roli"},
        None,
        ("partner_mismatch", "Cover", "B3"),
        ["aba-roli", "ilo"],
    ),
    ("bad_period", report(cover=_cover(period="2021Q5")), {}, None, ("bad_period", "Cover", "B4"), ["2021Q5"]),
    (
        "period_mismatch",
        report([["1.1.a", None, None, None, 5]]),
        {"period": "2021-Q4"},
        None,
        ("period_mismatch", "Cover", "B4"),
        ["2021Q3", "2021Q4"],
    ),
    (
        "unknown_indicator",
        report([["1.1.x", None, None, None, 5]]),
        {},
        None,
        ("unknown_indicator", "Indicators", "A2"),
        ["1.1.x", "1.1.a"],
    ),
    (
        "indicator_not_assigned",
        report([["3.1.b", None, None, None, 5]]),
        {},
        None,
        ("indicator_not_assigned", "Indicators", "A2"),
        ["3.1.b", "ilo"],
    ),
    (
        "dimension_not_used",
        report([["1.2.a", "Female", None, None, 1]]),
        {},
        None,
        ("dimension_not_used", "Indicators", "B2"),
        ["1.2.a", "Sex"],
    ),
    (
        "unknown_category",
        report([["1.1.a", None, None, "Lima Metropolitana", 4]]),
        {},
        None,
        ("unknown_category", "Indicators", "D2"),
        ["Lima Metropolitana", "Lima, Cusco"],
    ),
    (
        "duplicate_row",
        report([["1.1.a", None, None, None, 4], ["1.1.a", None, None, None, 5]]),
        {},
        None,
        ("duplicate_row", "Indicators", "E3"),
        ["E2", "E3"],
    ),
    (
        "not_a_number",
        report([["1.1.a", None, None, None, "twelve"]]),
        {},
        None,
        ("not_a_number", "Indicators", "E2"),
        [],
    ),
    (
        "ambiguous_number",
        report([["1.1.a", None, None, None, "1.250"]]),
        {},
        None,
        ("ambiguous_number", "Indicators", "E2"),
        ["1250"],
    ),
    (
        "not_an_integer",
        report([["1.1.a", None, None, None, 12.5]]),
        {},
        None,
        ("not_an_integer", "Indicators", "E2"),
        [],
    ),
    ("negative_value", report([["1.1.a", None, None, None, -3]]), {}, None, ("negative_value", "Indicators", "E2"), []),
    (
        "out_of_range",
        report([["1.1.b", None, None, None, 120]]),
        {},
        None,
        ("out_of_range", "Indicators", "E2"),
        ["100"],
    ),
    (
        "formula_without_value",
        report([["1.1.a", None, None, None, None]]),
        {},
        _formula,
        ("formula_without_value", "Indicators", "E2"),
        ["save"],
    ),
    (
        "cell_error",
        report([["1.1.a", None, None, None, "#DIV/0!"]]),
        {},
        None,
        ("cell_error", "Indicators", "E2"),
        ["#DIV/0!"],
    ),
    (
        "total_mismatch",
        report(
            [
                ["1.1.a", None, None, None, 20],
                ["1.1.a", "Female", None, None, 10],
                ["1.1.a", "Male", None, None, 5],
                ["1.1.a", "Other or not recorded", None, None, 3],
            ]
        ),
        {},
        None,
        ("total_mismatch", "Indicators", "E2"),
        ["18", "20", "E3"],
    ),
    (
        "breakdown_exceeds_total",
        report([["1.1.a", None, None, None, 10], ["1.1.a", "F", None, None, 8], ["1.1.a", "M", None, None, 5]]),
        {},
        None,
        ("breakdown_exceeds_total", "Indicators", "E2"),
        ["13", "10"],
    ),
    (
        "bad_date",
        report(**_trainings(_training(**{"Start date": "31/02/2021", "End date": None}))),
        {},
        None,
        ("bad_date", "Trainings", "B2"),
        ["31/02/2021"],
    ),
    (
        "date_outside_period",
        report(**_trainings(_training(**{"Start date": "2021-06-28", "End date": None}))),
        {},
        None,
        ("date_outside_period", "Trainings", "B2"),
        ["2021-06-28", "2021Q3"],
    ),
    (
        "personal_data",
        report(**_trainings([*_training(), "Ana Pérez"], header=[*TRAINING_HEADER, "Nombre del participante"])),
        {},
        None,
        ("personal_data", "Trainings", "J1"),
        ["Nombre del participante"],
    ),
    (
        "missing_value",
        report(**_trainings(_training(Title=None))),
        {},
        None,
        ("missing_value", "Trainings", "A2"),
        [],
    ),
]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("case", "sheets", "kwargs", "edit", "expected", "words"), CASES, ids=[c[0] for c in CASES])
def test_each_error_code(
    session: Session,
    lang: str,
    case: str,
    sheets: dict[str, Any],
    kwargs: dict[str, Any],
    edit: Any,
    expected: tuple[str, str, str],
    words: list[str],
) -> None:
    parsed = parse(session, sheets, edit, lang=lang, **kwargs)
    found = [(e.code, e.sheet, e.cell) for e in parsed.errors]
    if lang == "es" and expected[0] == "missing_sheet":
        expected = ("missing_sheet", "Indicadores", "")
    assert found == [expected], parsed.errors
    message = parsed.errors[0].message
    english = parse(session, sheets, edit, lang="en", **kwargs).errors[0].message
    if lang == "en":
        for word in words:
            assert word in message, (word, message)
    else:
        assert message != english
        for word in words:
            if word not in ("Indicators", "Sex", "Value", "save"):
                assert word in message, (word, message)


def test_codes_are_the_contract_ones_and_listed_in_the_instructions() -> None:
    produced = {c[4][0] for c in CASES} | {"not_a_workbook", "file_too_large"}
    assert produced >= CONTRACT_CODES
    assert produced <= set(ERROR_CODES)
    assert set(ERROR_CODES) >= CONTRACT_CODES


@pytest.mark.parametrize("lang", ["en", "es"])
def test_not_a_workbook_and_file_too_large(session: Session, lang: str) -> None:
    refused = parse_file(session, b"%PDF-1.4 not a workbook", max_bytes=1_000_000, lang=lang)
    assert [(e.code, e.sheet, e.cell) for e in refused.errors] == [("not_a_workbook", "", "")]
    assert ".xlsx" in refused.errors[0].message

    data = xlsx(report([["1.1.a", None, None, None, 5]]))
    big = parse_file(session, data, max_bytes=len(data) - 1, lang=lang)
    assert [(e.code, e.sheet, e.cell) for e in big.errors] == [("file_too_large", "", "")]
    assert "MB" in big.errors[0].message
    assert not parse_file(session, data, max_bytes=len(data), lang=lang).errors


def test_every_error_at_once(session: Session) -> None:
    sheets = report(
        [
            ["9.9", None, None, None, 5],
            ["1.1.a", "Girl", None, None, "x"],
            ["1.1.a", None, None, "Loreto", -1],
            ["3.1.b", None, None, None, 2],
        ],
        cover=_cover("ilo", "2021-Q9"),
        **_trainings(_training(Pillar="Prosperity", Female=1.5)),
        Narrative=[["Section", "Text"], ["Logros", "Avances"], ["Other", "x"]],
    )
    parsed = parse(session, sheets)
    assert [(e.code, e.sheet, e.cell) for e in parsed.errors] == [
        ("bad_period", "Cover", "B4"),
        ("unknown_indicator", "Indicators", "A2"),
        ("unknown_category", "Indicators", "B3"),
        ("not_a_number", "Indicators", "E3"),
        ("negative_value", "Indicators", "E4"),
        ("indicator_not_assigned", "Indicators", "A5"),
        ("unknown_category", "Trainings", "D2"),
        ("not_an_integer", "Trainings", "H2"),
        ("unknown_category", "Narrative", "A3"),
    ]
    assert parsed.narrative[0].section == "achievements"


def test_cover_labels_missing_and_empty_values(session: Session) -> None:
    parsed = parse(session, report(cover=[["Title only"], ["Partner", None], ["Prepared by", "Ana"]]))
    assert [(e.code, e.sheet, e.cell) for e in parsed.errors] == [
        ("unknown_partner", "Cover", "B2"),
        ("bad_period", "Cover", ""),
    ]
    assert parsed.prepared_by == "Ana"


def test_stated_partner_and_period_must_be_known(session: Session) -> None:
    parsed = parse(session, report(), partner_code="nobody", period="last quarter")
    assert [(e.code, e.sheet, e.cell) for e in parsed.errors] == [("unknown_partner", "", ""), ("bad_period", "", "")]


def test_indicator_errors_suggest_and_list(session: Session) -> None:
    parsed = parse(session, report([["1.1.x", None, None, None, 1], ["2.a", "Femenino", "PNP", None, 3]]))
    first, second = parsed.errors
    assert first.code == "unknown_indicator" and "1.1.a" in first.message and "1.1.b" in first.message
    # 2.a belongs to ilo too; institution is not one of its dimensions
    assert (second.code, second.cell) == ("dimension_not_used", "C3")


def test_duplicate_rows_with_categories_and_sub_recipients(session: Session) -> None:
    rows = [["1.1.a", "Female", "PNP", None, 3], ["1.1.a", "F", "Policía Nacional del Perú (PNP)", None, 4]]
    parsed = parse(session, report(rows))
    assert [(e.code, e.cell) for e in parsed.errors] == [("duplicate_row", "E3")]
    assert "E2" in parsed.errors[0].message

    # a sub-recipient reports its own assignments only: idl has 1.1.a, not its prime's 2.a
    idl = parse(session, report([["1.1.a", None, None, None, 3], ["2.a", None, None, None, 1]], cover=_cover("idl")))
    assert [(e.code, e.cell) for e in idl.errors] == [("indicator_not_assigned", "A3")]
