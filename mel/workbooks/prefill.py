"""Writing the read-only "For reference" sheet of a quarterly template: what a partner working offline needs
beside the blank report (the period's targets, its approved values to date and last quarter, the
open queries on its values and the officers' return comments).

It is a separate sheet because REPORT-FORMAT.md ignores sheets it does not know (listed as
information), so nothing typed or left here can change an import; the Instructions sheet says so.
What goes in it is gathered by ``mel.results.prefill`` (figures through the disclosure gate).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mel.core.i18n import t
from mel.workbooks.spec import PartnerSpec

HEADER_ROW = 4
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HINT = Font(italic=True, color="555555")
FILL = PatternFill("solid", fgColor="F2F2F2")
WRAP = Alignment(wrap_text=True, vertical="top")
Shown = float | str | None
"""A number, or a mark standing for one withheld (``<5``, ``x``)."""


@dataclass
class IndicatorLine:
    code: str
    name: str
    target_quarter: float | None
    target_year: float | None
    target_lop: float | None
    to_date: Shown
    last_quarter: Shown


@dataclass
class ReturnLine:
    period: str
    version: int
    comment: str | None
    at: dt.datetime


@dataclass
class QueryLine:
    period: str
    indicator: str
    categories: list[tuple[str, str]]
    value: float | None
    question: str | None
    answered: bool
    last_message: str | None


@dataclass
class Prefill:
    previous: str
    fiscal_year: str
    lines: list[IndicatorLine] = field(default_factory=list)
    queries: list[QueryLine] = field(default_factory=list)
    returns: list[ReturnLine] = field(default_factory=list)


def previous_quarter(period: str) -> str:
    year, q = int(period[:4]), int(period[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def sheet_name(lang: str) -> str:
    return t(lang, "For reference")


def write(wb: Workbook, spec: PartnerSpec, prefill: Prefill) -> Worksheet:
    """Add the locked reference sheet after the Instructions sheet."""
    lang = spec.lang
    ws = wb.create_sheet(sheet_name(lang))
    ws["A1"] = t(lang, "For reference: {partner}, {period}", partner=spec.partner_code, period=spec.period)
    ws["A1"].font = TITLE
    ws["A2"] = t(
        lang,
        "Read only. This sheet is not imported: type your numbers in the Indicators sheet. Values to date "
        "and last quarter come from approved reports.",
    )
    ws["A2"].font = HINT
    heads = [
        t(lang, "Indicator"),
        t(lang, "Description"),
        t(lang, "Target this quarter"),
        t(lang, "Target {year}", year=prefill.fiscal_year),
        t(lang, "Life-of-partnership target"),
        t(lang, "To date (through {period})", period=prefill.previous),
        t(lang, "Last quarter ({period})", period=prefill.previous),
    ]
    row = _table(ws, HEADER_ROW, heads)
    for line in prefill.lines:
        values = [line.code, line.name, line.target_quarter, line.target_year, line.target_lop]
        _row(ws, row, [*values, line.to_date, line.last_quarter])
        row += 1
    row += 1
    ws.cell(row=row, column=1, value=t(lang, "Open queries on your values")).font = BOLD
    row = _table(
        ws,
        row + 1,
        [
            t(lang, "Quarter"),
            t(lang, "Indicator"),
            t(lang, "Categories"),
            t(lang, "Value queried"),
            t(lang, "Question"),
            t(lang, "Status"),
            t(lang, "Last message"),
        ],
    )
    for q in prefill.queries:
        cats = "; ".join(f"{d}: {c}" for d, c in q.categories) or t(lang, "Total")
        status = t(lang, "Answered") if q.answered else t(lang, "Open")
        _row(ws, row, [q.period, q.indicator, cats, q.value, q.question, status, q.last_message])
        row += 1
    if not prefill.queries:
        ws.cell(row=row, column=1, value=t(lang, "No open queries.")).font = HINT
        row += 1
    row += 1
    ws.cell(row=row, column=1, value=t(lang, "Comments of returned reports")).font = BOLD
    row = _table(ws, row + 1, [t(lang, "Quarter"), t(lang, "Version"), t(lang, "Comment"), t(lang, "Date")])
    for r in prefill.returns:
        _row(ws, row, [r.period, r.version, r.comment, r.at.date()])
        row += 1
    if not prefill.returns:
        ws.cell(row=row, column=1, value=t(lang, "No returned report.")).font = HINT
    for col, width in enumerate((12, 50, 16, 16, 18, 22, 22), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.protection.sheet = True
    return ws


def _table(ws: Worksheet, row: int, heads: list[str]) -> int:
    for col, text in enumerate(heads, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = BOLD
        cell.fill = FILL
        cell.alignment = WRAP
    return row + 1


def _row(ws: Worksheet, row: int, values: list[object]) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        cell.alignment = WRAP
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"


def note_in_instructions(ws: Worksheet, lang: str) -> None:
    """Tell the partner, below the instructions, that the reference sheet is never imported."""
    row = ws.max_row + 2
    ws.cell(row=row, column=1, value=sheet_name(lang)).font = BOLD
    ws.cell(
        row=row,
        column=2,
        value=t(
            lang,
            "The sheet {sheet} shows the period's targets, your approved values to date and of last quarter, "
            "the open queries on your values and the comments of returned reports. It is read only and the "
            "import ignores it: answer a query by correcting the value in the Indicators sheet (a new version "
            "that changes the value resolves the query) or in the report's page.",
            sheet=sheet_name(lang),
        ),
    ).alignment = WRAP
