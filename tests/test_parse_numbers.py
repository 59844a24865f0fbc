"""Value rules by unit, dates and personal-data headers, cell by cell (no database needed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from mel.reports.numbers import (
    NOT_REPORTED,
    read_count,
    read_date,
    read_date_or_year,
    read_percent,
    read_yes_no,
)
from mel.reports.vocab import is_personal_header
from mel.workbooks.book import Special

PERCENT = Special("percent")
NO_VALUE = Special("formula_without_value")
ERROR = Special("error", "#DIV/0!")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12.0, (12, None)),
        ("12", (12, None)),
        ("12.0", (12, None)),
        ("1,250", (1250, None)),
        ("1,250,000", (1250000, None)),
        ("1 250", (1250, None)),
        ("1\u202f250", (1250, None)),
        ("+7", (7, None)),
        ("", (None, None)),
        ("   ", (None, None)),
        (None, (None, None)),
        ("1.250", (None, "ambiguous_number")),
        ("12.500.000", (None, "ambiguous_number")),
        ("0.250", (None, "not_an_integer")),
        (12.5, (None, "not_an_integer")),
        ("12,5", (None, "not_an_integer")),
        (-3.0, (None, "negative_value")),
        ("-3", (None, "negative_value")),
        ("\u22123", (None, "negative_value")),
        ("twelve", (None, "not_a_number")),
        ("12 people", (None, "not_a_number")),
        ("1e3", (None, "not_a_number")),
        ("nan", (None, "not_a_number")),
        ("45%", (None, "not_a_number")),
        (True, (None, "not_a_number")),
        (dt.date(2021, 1, 1), (None, "not_a_number")),
        ("N/A", (None, NOT_REPORTED)),
        ("—", (None, NOT_REPORTED)),
        ("no aplica", (None, NOT_REPORTED)),
    ],
)
def test_count(raw: Any, expected: tuple[Any, Any]) -> None:
    assert read_count(raw, None) == expected


def test_specials_whatever_the_unit() -> None:
    for reader in (read_count, read_percent, read_yes_no):
        assert reader("", NO_VALUE) == (None, "formula_without_value")
        assert reader("", ERROR) == (None, "cell_error")
    assert read_count(0.45, PERCENT) == (None, "not_an_integer")  # a count is never rescaled
    assert read_date("", NO_VALUE) == (None, "formula_without_value")


@pytest.mark.parametrize(
    ("raw", "special", "expected"),
    [
        (0.45, PERCENT, (45, None)),
        (0.525, PERCENT, (52.5, None)),
        (1.2, PERCENT, (None, "out_of_range")),
        (45.0, None, (45, None)),
        (0.45, None, (0.45, None)),
        ("45%", None, (45, None)),
        ("45 %", None, (45, None)),
        ("45,5 %", None, (45.5, None)),
        ("100", None, (100, None)),
        (100.5, None, (None, "out_of_range")),
        (-1.0, None, (None, "out_of_range")),
        ("lots", None, (None, "not_a_number")),
    ],
)
def test_percent(raw: Any, special: Special | None, expected: tuple[Any, Any]) -> None:
    assert read_percent(raw, special) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", (1, None)),
        ("Sí", (1, None)),
        ("SI", (1, None)),
        ("true", (1, None)),
        (True, (1, None)),
        (1.0, (1, None)),
        ("1", (1, None)),
        ("No", (0, None)),
        ("FALSE", (0, None)),
        (False, (0, None)),
        (0.0, (0, None)),
        (2.0, (None, "out_of_range")),
        ("maybe", (None, "not_a_number")),
        ("n/a", (None, NOT_REPORTED)),
    ],
)
def test_yes_no(raw: Any, expected: tuple[Any, Any]) -> None:
    assert read_yes_no(raw, None) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (dt.datetime(2021, 8, 12), (dt.date(2021, 8, 12), None)),
        (dt.date(2021, 8, 12), (dt.date(2021, 8, 12), None)),
        ("2021-08-12", (dt.date(2021, 8, 12), None)),
        ("12/08/2021", (dt.date(2021, 8, 12), None)),
        ("2/8/2021", (dt.date(2021, 8, 2), None)),
        ("12-08-2021", (dt.date(2021, 8, 12), None)),
        ("31/02/2021", (None, "bad_date")),
        ("08/13/2021", (None, "bad_date")),
        ("August 12", (None, "bad_date")),
        (44420.0, (None, "bad_date")),
        ("", (None, None)),
    ],
)
def test_dates(raw: Any, expected: tuple[Any, Any]) -> None:
    assert read_date(raw, None) == expected


def test_date_or_year() -> None:
    assert read_date_or_year(2022.0, None) == ("2022", None)
    assert read_date_or_year(" 2018 ", None) == ("2018", None)
    assert read_date_or_year(dt.datetime(2022, 5, 31), None) == ("2022-05-31", None)
    assert read_date_or_year("31/05/2022", None) == ("2022-05-31", None)
    assert read_date_or_year(22.0, None) == (None, "bad_date")
    assert read_date_or_year("2022.5", None) == (None, "bad_date")


PERSONAL = [
    "Name", "NOMBRE", "Nombres", "Apellidos", "Nombre completo", "DNI", "Document number", "Número de documento",
    "Passport", "Pasaporte", "Date of birth", "Fecha de nacimiento", "Phone", "Teléfono", "Celular", "Address",
    "Dirección", "Email", "E-mail", "Correo", "Nombre del participante", "Nombre y apellidos", "Participant's phone",
    "DNI de la víctima", "First name", "Last name", "Surname", "Full name",
]  # fmt: skip
NOT_PERSONAL = [
    "Nombre de la capacitación", "Event name", "Institution name", "Dirección regional", "Fecha", "Region",
    "Nombre del evento", "Comentario", "Title", "Personal data",
]  # fmt: skip


@pytest.mark.parametrize("header", PERSONAL)
def test_personal_data_headers(header: str) -> None:
    assert is_personal_header(header)


@pytest.mark.parametrize("header", NOT_PERSONAL)
def test_not_personal_data(header: str) -> None:
    assert not is_personal_header(header)
