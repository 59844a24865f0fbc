"""mel.workbooks.reader: rows aligned to real cell names, sheets chosen by name, percent number formats."""

from __future__ import annotations

from typing import Any

import pytest
from openpyxl.chart import BarChart, Reference

from mel.workbooks.book import Special, WorkbookError, cell_name, column_letter
from mel.workbooks.reader import read_workbook
from mel.workbooks.styles import is_percent_format
from tests.workbook_factory import (
    BILLION_LAUGHS_SHEET,
    MAX,
    NO_VALUE,
    PERCENT,
    one_sheet,
    openpyxl_bytes,
    read_one,
    styles,
    worksheet,
    xlsx,
)

# ---------------------------------------------------------------------------------------------
# Cell names


@pytest.mark.parametrize(
    ("row", "col", "name"),
    [
        (0, 0, "A1"),
        (11, 5, "F12"),
        (0, 25, "Z1"),
        (0, 26, "AA1"),
        (0, 27, "AB1"),
        (9, 51, "AZ10"),
        (0, 52, "BA1"),
        (0, 701, "ZZ1"),
        (0, 702, "AAA1"),
        (1_048_575, 16_383, "XFD1048576"),
    ],
)
def test_cell_name(row: int, col: int, name: str) -> None:
    assert cell_name(row, col) == name


def test_column_letter_round_trips_and_refuses_negative() -> None:
    assert [column_letter(c) for c in (0, 1, 25, 26, 701, 702)] == ["A", "B", "Z", "AA", "ZZ", "AAA"]
    assert len({column_letter(c) for c in range(20_000)}) == 20_000
    with pytest.raises(ValueError):
        column_letter(-1)
    with pytest.raises(ValueError):
        cell_name(-1, 0)


# ---------------------------------------------------------------------------------------------
# Rows


def test_rows_start_at_a1_when_data_starts_at_c5() -> None:
    def build(book: Any) -> None:
        sheet = book.active
        sheet.title = "Indicators"
        sheet["C5"] = "indicator"
        sheet["D5"] = "value"
        sheet["C6"] = "1.1.a"
        sheet["E7"] = 7

    sheet = read_one(openpyxl_bytes(build))
    assert sheet.name == "Indicators"
    assert all(value == "" for row in sheet.rows[:4] for value in row)
    assert sheet.rows[4][2] == "indicator"
    assert sheet.rows[4][3] == "value"
    assert sheet.rows[5][2] == "1.1.a"
    assert sheet.rows[6][4] == 7
    assert cell_name(4, 2) == "C5"
    assert sheet.special == {}


def test_sheet_names_order_and_predicate() -> None:
    data = xlsx(
        [
            ("Portada", worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Socio</t></is></c></row>')),
            ("Región & Co", worksheet('<row r="2"><c r="B2" t="e"><v>#REF!</v></c></row>')),
            ("Notas", worksheet('<row r="1"><c r="A1" t="e"><v>#N/A</v></c></row>')),
        ]
    )
    everything = read_workbook(data, max_bytes=MAX)
    assert [s.name for s in everything.sheets] == ["Portada", "Región & Co", "Notas"]
    assert everything.sheets[2].special_at(0, 0) == Special("error", "#N/A")

    chosen = read_workbook(data, max_bytes=MAX, sheets=lambda name: name != "Notas")
    assert [s.name for s in chosen.sheets] == ["Portada", "Región & Co", "Notas"]
    assert chosen.sheets[0].rows[0][0] == "Socio"
    assert chosen.sheets[1].special_at(1, 1) == Special("error", "#REF!")
    assert chosen.sheets[2].rows == []
    assert chosen.sheets[2].special == {}


def test_unselected_sheet_is_never_parsed_so_its_dtd_does_not_matter() -> None:
    data = xlsx(
        [
            ("Cover", worksheet('<row r="1"><c r="A1"><v>1</v></c></row>')),
            ("Junk", BILLION_LAUGHS_SHEET),
        ]
    )
    with pytest.raises(WorkbookError):
        read_workbook(data, max_bytes=MAX)
    book = read_workbook(data, max_bytes=MAX, sheets=lambda name: name == "Cover")
    assert book.sheets[0].rows == [[1.0]]
    assert book.sheets[1].rows == []


def test_chartsheet_reads_as_empty() -> None:
    def build(book: Any) -> None:
        sheet = book.active
        sheet.title = "Data"
        for i in range(1, 4):
            sheet.append([i])
        chart = BarChart()
        chart.add_data(Reference(sheet, min_col=1, min_row=1, max_row=3))
        book.create_chartsheet("Chart").add_chart(chart)

    book = read_workbook(openpyxl_bytes(build), max_bytes=MAX)
    assert [s.name for s in book.sheets] == ["Data", "Chart"]
    assert [row[0] for row in book.sheets[0].rows] == [1, 2, 3]
    assert book.sheets[1].rows == []


# ---------------------------------------------------------------------------------------------
# Percent number formats


def test_percent_formats_written_by_openpyxl() -> None:
    formats = {
        2: "0%",
        3: "0.0%",
        4: "0.00%",
        5: "#,##0.0%",
        6: "0%;[Red]-0%",  # percent
        7: "General",
        8: '0.0"%"',
        9: "0\\%",
        10: "0.00",
        11: "0_%",
        12: "[$-409]0",  # not percent
    }

    def build(book: Any) -> None:
        sheet = book.active
        for row, fmt in formats.items():
            sheet.cell(row, 1, fmt)
            sheet.cell(row, 2, 0.45).number_format = fmt
        sheet.cell(13, 2, "45%").number_format = "0%"  # text in a percent cell stays text
        sheet.cell(14, 2, 1).number_format = "0%"  # an int shown as 100 %
        sheet.cell(15, 2).number_format = "0%"  # styled but empty

    data = openpyxl_bytes(build)
    sheet = read_one(data)
    flagged = {r + 1 for (r, c), special in sheet.special.items() if c == 1 and special == PERCENT}
    assert flagged == {2, 3, 4, 5, 6, 14}
    assert all(sheet.rows[r - 1][1] == 0.45 for r in formats)  # values are left as calamine gives them
    assert sheet.rows[12][1] == "45%"
    assert sheet.special_at(14, 1) is None
    assert set(sheet.special.values()) == {PERCENT}


@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0%", True),
        ("0.0%", True),
        ('#,##0.00 "pts";-0%', True),
        ("[Blue]0%", True),
        ("%0", True),
        ('0"%"', False),
        ("0\\%", False),
        ("0_%", False),
        ("0*%", False),
        ("[$%-409]0", False),
        ('"100%"', False),
        ("General", False),
        ("", False),
        ('"unterminated%', False),
    ],
)
def test_is_percent_format(code: str, percent: bool) -> None:
    assert is_percent_format(code) is percent


def test_percent_style_found_in_any_attribute_form() -> None:
    rows = (
        '<row r="2">'
        '<c r="A2" s="1"><v>0.25</v></c>'  # canonical
        '<c s="1" r="B2"><v>0.5</v></c>'  # attributes in another order
        "<c r='C2' s='1' t='n'><v>0.75</v></c>"  # single quotes
        '<c r="D2"  s = "1" ><v>1</v></c>'  # spaces around '='
        '<c r="E2" s="1"><f>A2*2</f><v>0.5</v></c>'  # formula with a cached value
        '<c r="F2" s="2"><v>0.25</v></c>'  # a custom percent format
        '<c r="G2" s="3"><v>0.25</v></c>'  # a non-percent format
        '<c r="H2"><v>0.25</v></c>'  # default style
        '<c r="I2" s="1" t="inlineStr"><is><t>0.5</t></is></c>'  # text with a percent style
        '<c r="J2" s="1"/>'  # styled, empty
        '<c r="K2" s="1"><v></v></c>'  # styled, empty value
        '<c r="L2" s="1"><f>A2</f><v></v></c>'  # styled formula never computed: that is what matters
        "</row>"
    )
    sheet = read_one(one_sheet(rows, styles_xml=styles([0, 9, 164, 165], {164: "0.0%", 165: "0.0"})))
    assert sheet.special == {**{(1, c): PERCENT for c in range(6)}, (1, 11): NO_VALUE}


def test_percent_default_style_walks_every_cell() -> None:
    """When cellXfs[0] itself is a percent format, cells without s are percent too."""
    rows = (
        '<row r="1"><c r="A1"><v>0.3</v></c><c r="B1" s="1"><v>0.3</v></c>'
        '<c r="C1" t="inlineStr"><is><t>x</t></is></c><c r="D1" s="0"><v>1</v></c></row>'
    )
    sheet = read_one(one_sheet(rows, styles_xml=styles([9, 0])))
    assert sheet.special == {(0, 0): PERCENT, (0, 3): PERCENT}
