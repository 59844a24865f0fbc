"""Real workbooks for the parser's tests: sheets given as rows, written by openpyxl, read by the real reader."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from mel.reports.parse import parse_workbook
from mel.reports.parse_results import Issue, ParsedWorkbook
from mel.workbooks.reader import read_workbook

Rows = Sequence[Sequence[Any]]

COVER: Rows = [["Quarterly report"], [], ["Partner", "ilo"], ["Period", "2021Q3"]]
INDICATOR_HEADER = ["Indicator", "Sex", "Institution", "Region", "Value", "Comment"]
TRAINING_HEADER = ["Title", "Start date", "End date", "Pillar", "Region", "Modality", "Institution", "Female", "Male"]
TRAINING_ROW = ["Prosecution course", "2021-08-12", "2021-08-14", "Prosecution", "Cusco", "Virtual", "MPFN", 12, 9]


def xlsx(sheets: dict[str, Rows], edit: Callable[[Workbook], None] | None = None) -> bytes:
    """An .xlsx with one sheet per item (rows from A1); ``edit`` may style or add cells before saving."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for name, rows in sheets.items():
        ws: Worksheet = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    if edit is not None:
        edit(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def report(indicators: Rows = (), *, cover: Rows = COVER, **more: Rows) -> dict[str, Rows]:
    """A quarterly report's sheets: Cover, Indicators (header + ``indicators``) and any other sheets."""
    return {"Cover": cover, "Indicators": [INDICATOR_HEADER, *indicators], **more}


def parse_bytes(session: Session, data: bytes, **kwargs: Any) -> ParsedWorkbook:
    return parse_workbook(session, read_workbook(data, max_bytes=50_000_000), **kwargs)


def parse(
    session: Session, sheets: dict[str, Rows], edit: Callable[[Workbook], None] | None = None, **kwargs: Any
) -> ParsedWorkbook:
    return parse_bytes(session, xlsx(sheets, edit), **kwargs)


def codes(parsed: ParsedWorkbook) -> list[tuple[str, str, str]]:
    """(code, sheet, cell) of every error, in order."""
    return [(e.code, e.sheet, e.cell) for e in parsed.errors]


def only_error(parsed: ParsedWorkbook) -> Issue:
    assert len(parsed.errors) == 1, parsed.errors
    return parsed.errors[0]
