"""The IPTT as a formatted workbook (xlsxwriter): frozen header, number formats, units.

Text goes through ``mel.exports.safe.write_cell`` (neutralized, always written as text) so that a
name starting with ``=`` never becomes a formula.
"""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter

from mel.core.i18n import t
from mel.exports.safe import write_cell
from mel.results.disclosure import mark
from mel.results.iptt import Iptt, IpttCell

UNIT_FORMATS = {"count": "#,##0.##", "percent": '0.0"%"', "yes_no": '[=1]"Yes";[=0]"No";General'}
UNIT_FORMATS_ES = {"yes_no": '[=1]"Sí";[=0]"No";General'}


def iptt_xlsx(table: Iptt, *, lang: str = "en") -> bytes:
    """The table as XLSX bytes: one sheet, two header rows (period, measure), one row per table row.

    Pass a table that went through the disclosure gate: hidden cells are written as '<5' or 'x'.
    """
    buffer = io.BytesIO()
    # constant_memory: each row goes to a temporary file as it is written, so the quarterly table of
    # a large partnership never sits in memory as a grid of cell objects; rows are written in order
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet("IPTT")
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF5", "border": 1, "text_wrap": True, "valign": "top"})
    center = book.add_format({"bold": True, "bg_color": "#E8EEF5", "border": 1, "align": "center"})
    text = book.add_format({"text_wrap": True, "valign": "top"})
    child_text = book.add_format({"text_wrap": True, "valign": "top", "indent": 1, "italic": True})
    pct = book.add_format({"num_format": '0.0"%"'})
    units = {**UNIT_FORMATS, **(UNIT_FORMATS_ES if lang == "es" else {})}
    formats = {u: book.add_format({"num_format": f}) for u, f in units.items()}
    fixed = [
        t(lang, "Level"),
        t(lang, "Result"),
        t(lang, "Indicator"),
        t(lang, "Name"),
        t(lang, "Breakdown"),
        t(lang, "Unit"),
        t(lang, "Baseline"),
    ]
    measures = [t(lang, "Target"), t(lang, "Actual"), t(lang, "% of target")]
    groups = [b.label for b in table.buckets] + [t(lang, "Life of partnership")]
    for col, head in enumerate(fixed):  # first row: every cell of it, then the second row
        sheet.write_string(0, col, head, bold)
    for g, label in enumerate(groups):
        first = len(fixed) + g * 3
        sheet.merge_range(0, first, 0, first + 2, label, center)
    for col in range(len(fixed)):
        sheet.write_blank(1, col, None, bold)
        _merge_down(sheet, col)
    for g in range(len(groups)):
        for m, measure in enumerate(measures):
            sheet.write_string(1, len(fixed) + g * 3 + m, measure, bold)
    unit_names = {"count": t(lang, "count"), "percent": t(lang, "percent"), "yes_no": t(lang, "yes/no")}
    unit_names["stage"] = t(lang, "stage")
    level_names = {"impact": t(lang, "Impact"), "outcome": t(lang, "Outcome"), "output": t(lang, "Output")}
    row_no = 2
    names: list[str] = []  # the stage indicator's level names, for its rows and their children
    for row in table.flat():
        top = row.kind == "indicator"
        if top:
            names = [lv["es" if lang == "es" else "en"] for lv in row.levels or ()] if row.unit == "stage" else []
        fmt = formats.get(row.unit, formats["count"])
        write_cell(sheet, row_no, 0, level_names.get(row.level, row.level), text)
        write_cell(sheet, row_no, 1, row.result, text)
        write_cell(sheet, row_no, 2, row.indicator, text)
        write_cell(sheet, row_no, 3, row.name(lang) if top else "", text)
        write_cell(sheet, row_no, 4, row.label(lang), child_text)
        write_cell(sheet, row_no, 5, unit_names.get(row.unit, row.unit), text)
        if top and row.baseline_hidden:
            sheet.write_string(row_no, 6, mark(row.baseline_hidden))
        elif top and row.baseline is not None:
            _write_value(sheet, row_no, 6, row.baseline, fmt, names)
        for g, cell in enumerate([*row.cells, row.lop]):
            _write_cell(sheet, row_no, len(fixed) + g * 3, cell, fmt, pct, names)
            if top and cell.deviation:  # the explanation travels with the figure, as a cell note
                why = cell.explanation or t(lang, "No explanation given yet")
                over, under = (
                    t(lang, "more than 10 percent above the target"),
                    t(lang, "more than 10 percent below the target"),
                )
                words = over if cell.deviation == "over" else under
                sheet.write_comment(row_no, len(fixed) + g * 3 + 2, f"{words}: {why}")
        if not top:
            sheet.set_row(row_no, None, None, {"level": 1})
        row_no += 1
    sheet.freeze_panes(2, 4)
    sheet.set_column(0, 2, 10)
    sheet.set_column(3, 3, 48)
    sheet.set_column(4, 4, 28)
    sheet.set_column(5, 6, 10)
    sheet.set_column(len(fixed), len(fixed) + len(groups) * 3, 10)
    sheet.autofilter(1, 0, max(row_no - 1, 1), len(fixed) + len(groups) * 3 - 1)
    book.close()
    return buffer.getvalue()


def _merge_down(sheet: Any, col: int) -> None:
    """Merge the two header rows of column ``col``. ``merge_range`` cannot: in constant-memory mode
    it would write the first row again after the second was started, and be ignored. The worksheet
    writes its list of merged ranges at the end, whatever the mode."""
    sheet.merge.append([0, col, 1, col])


def _write_value(sheet: Any, row: int, col: int, value: float, fmt: Any, names: list[str]) -> None:
    """A number, or for a stage indicator the name of the level it stands for (a rank is no quantity)."""
    number = int(value) if float(value).is_integer() else 0
    if names and 1 <= number <= len(names):
        write_cell(sheet, row, col, names[number - 1])
    else:
        sheet.write_number(row, col, value, fmt)


def _write_cell(sheet: Any, row: int, col: int, cell: IpttCell, fmt: Any, pct: Any, names: list[str]) -> None:
    if cell.target is not None:
        _write_value(sheet, row, col, cell.target, fmt, names)
    if cell.hidden:
        sheet.write_string(row, col + 1, mark(cell.hidden))
        return
    if cell.actual is not None:
        _write_value(sheet, row, col + 1, cell.actual, fmt, names)
    if cell.pct_of_target is not None:
        sheet.write_number(row, col + 2, round(cell.pct_of_target, 1), pct)
