"""Blank quarterly-report templates, generated from the catalog for one partner and period.

A partner downloads it, types numbers and uploads it: the template pre-fills what the importer
checks (partner, period, the partner's indicator codes), offers dropdowns for every code and
category, and protects headers so they cannot be broken by accident. Everything it writes is a
name that REPORT-FORMAT.md accepts, so a filled template always reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from mel.core.i18n import t
from mel.workbooks import instructions, prefill
from mel.workbooks.labels import (
    cover_labels,
    followup_headers,
    indicator_headers,
    narrative_headers,
    pillar_labels,
    section_labels,
    sheet_names,
    training_headers,
    unit_labels,
)
from mel.workbooks.prefill import Prefill
from mel.workbooks.spec import PartnerSpec, partner_spec
from mel.workbooks.xlsx import reproducible_bytes

HEADER_ROW = 4
"""Two title rows and a blank row above each table's header (the importer looks in the first 15)."""
BLANK_INDICATOR_ROWS = 200
TRAINING_ROWS = 300
NARRATIVE_ROWS = 30
FOLLOWUP_ROWS = 100

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HINT = Font(italic=True, color="555555")
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
REFERENCE_FILL = PatternFill("solid", fgColor="F2F2F2")
UNLOCKED = Protection(locked=False)
WRAP = Alignment(wrap_text=True, vertical="top")


def write_template(
    *,
    session: Session,
    partner_code: str,
    period: str,
    lang: str = "en",
    reference: Callable[[PartnerSpec], Prefill] | None = None,
) -> bytes:
    """The .xlsx bytes of the template for ``partner_code`` and ``period`` (SpecError if impossible).

    ``reference`` gives the content of the read-only reference sheet (targets, values to date, open
    queries, return comments: ``mel.results.prefill``); without it the template has no such sheet.
    """
    spec = partner_spec(session, partner_code=partner_code, period=period, lang=lang)
    wb = render_template(spec)
    if reference is not None:
        sheet = prefill.write(wb, spec, reference(spec))
        wb.move_sheet(sheet, offset=wb.index(wb[sheet_names(lang)["instructions"]]) + 1 - wb.index(sheet))
        prefill.note_in_instructions(wb[sheet_names(lang)["instructions"]], lang)
    return reproducible_bytes(wb)


def render_template(spec: PartnerSpec) -> Workbook:
    """The template as an openpyxl workbook (callers may fill it before saving)."""
    lang = spec.lang
    names = sheet_names(lang)
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = names["cover"]
    lists = _Lists(wb.create_sheet(names["lists"]))
    _write_cover(cover, spec)
    _write_indicators(wb.create_sheet(names["indicators"]), spec, lists)
    _write_trainings(wb.create_sheet(names["trainings"]), spec, lists)
    _write_followup(wb.create_sheet(names["followup"]), spec, lists)
    _write_narrative(wb.create_sheet(names["narrative"]), spec, lists)
    instructions.write(wb.create_sheet(names["instructions"]), lang)
    wb.move_sheet(lists.ws, offset=len(wb.sheetnames) - 1 - wb.index(lists.ws))
    lists.ws.sheet_state = "hidden"
    lists.ws.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=False)
    wb.active = 0
    return wb


class _Lists:
    """The hidden sheet that holds dropdown choices (inline lists are capped at 255 characters)."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.ranges: dict[str, str] = {}

    def add(self, key: str, title: str, values: Sequence[str]) -> str:
        """Write ``values`` in the next column and return the absolute reference for a list validation."""
        if key in self.ranges:
            return self.ranges[key]
        col = get_column_letter(len(self.ranges) + 1)
        self.ws[f"{col}1"] = title
        self.ws[f"{col}1"].font = BOLD
        for i, value in enumerate(values, start=2):
            self.ws[f"{col}{i}"] = value
        quoted = self.ws.title.replace("'", "''")
        self.ranges[key] = f"'{quoted}'!${col}$2:${col}${len(values) + 1}"
        return self.ranges[key]


def _dropdown(ws: Worksheet, reference: str, cells: str, lang: str, *, strict: bool = False) -> None:
    """A list validation; warnings only, unless ``strict``, since codes and aliases are accepted too."""
    dv = DataValidation(
        type="list",
        formula1=reference,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop" if strict else "warning",
        errorTitle=t(lang, "Not in the list"),
        error=t(lang, "Choose a value from the list."),
    )
    ws.add_data_validation(dv)
    dv.add(cells)


def _titles(ws: Worksheet, title: str, hint: str) -> None:
    ws["A1"] = title
    ws["A1"].font = TITLE
    ws["A2"] = hint
    ws["A2"].font = HINT


def _header(ws: Worksheet, headers: Sequence[str], widths: Sequence[int]) -> None:
    for col, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=text)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)


def _protect(ws: Worksheet) -> None:
    """Headers and reference cells locked; partners may still resize, insert and delete rows."""
    p = ws.protection
    p.sheet = True
    p.formatColumns = False
    p.formatRows = False
    p.insertRows = False
    p.deleteRows = False
    p.sort = False
    p.autoFilter = False


def _unlock(ws: Worksheet, first_row: int, last_row: int, columns: Sequence[int], number_format: str = "") -> None:
    for row in range(first_row, last_row + 1):
        for col in columns:
            cell = ws.cell(row=row, column=col)
            cell.protection = UNLOCKED
            if number_format:
                cell.number_format = number_format


def _write_cover(ws: Worksheet, spec: PartnerSpec) -> None:
    lang = spec.lang
    labels = cover_labels(lang)
    ws["A1"] = t(lang, "Quarterly report")
    ws["A1"].font = TITLE
    rows = [
        (labels["partner"], spec.partner_code, False),
        (labels["period"], spec.period, False),
        (labels["prepared_by"], None, True),
        (labels["date"], None, True),
    ]
    for offset, (label, value, editable) in enumerate(rows):
        row = 3 + offset
        ws.cell(row=row, column=1, value=label).font = BOLD
        cell = ws.cell(row=row, column=2, value=value)
        if editable:
            cell.protection = UNLOCKED
        else:
            cell.fill = REFERENCE_FILL
    ws["B6"].number_format = "yyyy-mm-dd"
    ws["D3"] = spec.partner_name
    ws["D4"] = t(lang, "Fiscal period: {label}", label=spec.fiscal_period)
    ws["D3"].font = HINT
    ws["D4"].font = HINT
    ws["A9"] = t(lang, "Do not change the partner or the period: the upload is checked against them.")
    ws["A10"] = t(lang, "Fill the Indicators, Trainings and Narrative sheets, then upload this file.")
    ws["A9"].font = HINT
    ws["A10"].font = HINT
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 4
    ws.column_dimensions["D"].width = 60
    _protect(ws)


def _write_indicators(ws: Worksheet, spec: PartnerSpec, lists: _Lists) -> None:
    lang = spec.lang
    heads = indicator_headers(lang)
    dims = spec.used_dimensions()
    units = unit_labels(lang)
    _titles(
        ws,
        t(lang, "Indicator results: {partner}, {period}", partner=spec.partner_code, period=spec.period),
        t(lang, "Type each total in the Value column; add rows below for values by category (see Instructions)."),
    )
    pooled = any(i.pooled for i in spec.indicators)
    counts = [heads["numerator"], heads["denominator"]] if pooled else []
    headers = [heads["indicator"], heads["description"], heads["unit"]]
    headers += [d.label for d in dims] + [heads["value"], *counts, heads["comment"]]
    _header(ws, headers, [12, 60, 16, *[22 for _ in dims], 12, *[12 for _ in counts], 40])
    value_col = 4 + len(dims)
    editable = list(range(4, value_col + 2 + len(counts)))
    first = HEADER_ROW + 1
    for offset, ind in enumerate(spec.indicators):
        row = first + offset
        ws.cell(row=row, column=1, value=ind.code)
        ws.cell(row=row, column=2, value=ind.name).alignment = WRAP
        ws.cell(row=row, column=3, value=units[ind.unit])
        for col in (1, 2, 3):
            ws.cell(row=row, column=col).fill = REFERENCE_FILL
        _number_rule(ws, ind.unit, f"{get_column_letter(value_col)}{row}", lang)
        if ind.levels:  # a stage: its level names (numbers and aliases are accepted too)
            ref = lists.add(f"stage:{ind.code}", ind.code, list(ind.levels))
            _dropdown(ws, ref, f"{get_column_letter(value_col)}{row}", lang)
        if ind.pooled:  # the rate comes from its counts: the value may stay empty
            for col in (value_col + 1, value_col + 2):
                _number_rule(ws, "count", f"{get_column_letter(col)}{row}", lang)
        elif counts:
            for col in (value_col + 1, value_col + 2):
                ws.cell(row=row, column=col).fill = REFERENCE_FILL
    last_total = first + len(spec.indicators) - 1
    last = last_total + BLANK_INDICATOR_ROWS
    _unlock(ws, first, last_total, editable)
    _unlock(ws, last_total + 1, last, [1, *editable])
    codes = lists.add("indicator", heads["indicator"], [i.code for i in spec.indicators])
    _dropdown(ws, codes, f"A{last_total + 1}:A{last}", lang)
    for offset, dim in enumerate(dims):
        ref = lists.add(dim.code, dim.label, [c.label for c in dim.categories])
        letter = get_column_letter(4 + offset)
        _dropdown(ws, ref, f"{letter}{first}:{letter}{last}", lang)
    _protect(ws)


def _number_rule(ws: Worksheet, unit: str, cell: str, lang: str) -> None:
    """Excel-side guard on a pre-filled total: whole numbers for counts, 0-100 for percents."""
    if unit == "count":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        dv.error = t(lang, "Type a whole number, 0 or more.")
    elif unit == "percent":
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True)
        dv.error = t(lang, "Type a percentage between 0 and 100.")
    else:
        return
    dv.showErrorMessage = True
    dv.errorStyle = "warning"
    ws.add_data_validation(dv)
    dv.add(cell)


def _write_trainings(ws: Worksheet, spec: PartnerSpec, lists: _Lists) -> None:
    lang = spec.lang
    heads = training_headers(lang)
    _titles(
        ws,
        t(lang, "Training events: {partner}, {period}", partner=spec.partner_code, period=spec.period),
        t(lang, "One row per event and participant institution; dates within the quarter."),
    )
    keys = list(heads)
    widths = {"title": 40, "start_date": 13, "end_date": 13, "institution": 30, "region": 16, "modality": 13}
    _header(ws, [heads[k] for k in keys], [widths.get(k, 11) for k in keys])
    first, last = HEADER_ROW + 1, HEADER_ROW + TRAINING_ROWS
    _unlock(ws, first, last, range(1, len(keys) + 1))
    for key in ("start_date", "end_date"):
        col = keys.index(key) + 1
        _unlock(ws, first, last, [col], "yyyy-mm-dd")
    pillars = pillar_labels(lang)
    choices: dict[str, tuple[str, Sequence[str]]] = {
        "pillar": ("pillar", [pillars[p] for p in spec.pillars or pillars]),
    }
    for dim_code in ("region", "modality", "institution"):
        dim = spec.dimensions.get(dim_code)
        if dim is not None:
            choices[dim_code] = (dim.code, [c.label for c in dim.categories])
    for key, (list_key, values) in choices.items():
        ref = lists.add(list_key, heads[key], values)
        letter = get_column_letter(keys.index(key) + 1)
        _dropdown(ws, ref, f"{letter}{first}:{letter}{last}", lang)
    _protect(ws)


def _write_followup(ws: Worksheet, spec: PartnerSpec, lists: _Lists) -> None:
    """The optional Follow-up sheet: earlier courses' participants met again, as counts."""
    lang = spec.lang
    heads = followup_headers(lang)
    _titles(
        ws,
        t(lang, "Follow-up of earlier trainings: {partner}, {period}", partner=spec.partner_code, period=spec.period),
        t(
            lang,
            "Participants of an earlier course met again months later, as counts, never names: one row per "
            "course (title and start date as reported) or per institution and training quarter.",
        ),
    )
    keys = list(heads)
    _header(ws, [heads[k] for k in keys], [40 if k == "title" else 30 if k == "institution" else 13 for k in keys])
    first, last = HEADER_ROW + 1, HEADER_ROW + FOLLOWUP_ROWS
    _unlock(ws, first, last, range(1, len(keys) + 1))
    _unlock(ws, first, last, [keys.index("start_date") + 1], "yyyy-mm-dd")
    institution = spec.dimensions.get("institution")
    if institution is not None:
        ref = lists.add(institution.code, heads["institution"], [c.label for c in institution.categories])
        letter = get_column_letter(keys.index("institution") + 1)
        _dropdown(ws, ref, f"{letter}{first}:{letter}{last}", lang)
    _protect(ws)


def _write_narrative(ws: Worksheet, spec: PartnerSpec, lists: _Lists) -> None:
    lang = spec.lang
    heads = narrative_headers(lang)
    _titles(
        ws,
        t(lang, "Narrative: {partner}, {period}", partner=spec.partner_code, period=spec.period),
        t(lang, "Achievements, challenges, adaptations and context of the quarter: one entry per row."),
    )
    _header(ws, [heads["section"], heads["text"]], [20, 100])
    first, last = HEADER_ROW + 1, HEADER_ROW + NARRATIVE_ROWS
    _unlock(ws, first, last, [1, 2])
    for row in range(first, last + 1):
        ws.cell(row=row, column=2).alignment = WRAP
    ref = lists.add("section", heads["section"], list(section_labels(lang).values()))
    _dropdown(ws, ref, f"A{first}:A{last}", lang)
    _protect(ws)
