"""Formula injection: formula-looking text is exported as text, in CSV and in XLSX."""

from __future__ import annotations

import csv
import io

import openpyxl
import xlsxwriter

from mel.exports.safe import neutralize, neutralize_row, write_cell

ROW = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "Lima", "", 42, -3.5, None]
EXPECTED_TEXT = ['\'=HYPERLINK("http://x","click")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd", "Lima", ""]


def test_neutralize_prefixes_only_dangerous_text() -> None:
    assert [neutralize(v) for v in ROW] == [*EXPECTED_TEXT, 42, -3.5, None]
    assert neutralize("a=b") == "a=b"


def test_csv_cells_are_neutralized() -> None:
    out = io.StringIO()
    csv.writer(out).writerow(neutralize_row(ROW))
    back = next(csv.reader(io.StringIO(out.getvalue())))
    assert back[:8] == EXPECTED_TEXT
    assert back[8:] == ["42", "-3.5", ""]


def test_xlsx_cells_are_text_never_formulas() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    for col, value in enumerate(ROW):
        write_cell(sheet, 0, col, value)
    book.close()
    sheet_back = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet_back is not None
    cells = [sheet_back.cell(row=1, column=c + 1) for c in range(len(ROW))]
    assert [c.data_type for c in cells[:7]] == ["s"] * 7
    assert [c.value for c in cells[:5]] == EXPECTED_TEXT[:5]
    assert str(cells[5].value).startswith("'")  # the carriage return is stored escaped (_x000D_)
    assert cells[6].value == "Lima"
    assert (cells[8].value, cells[9].value, cells[10].value) == (42, -3.5, None)
    assert all(c.data_type != "f" for c in cells)
