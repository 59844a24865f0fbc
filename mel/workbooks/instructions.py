"""The Instructions sheet: how to fill a report and what each error code asks the partner to change.

Partners read this offline, in Excel, when an upload was refused: every stable error code of
REPORT-FORMAT.md has one row here, in the partner's language.
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from mel.core.i18n import t

ERROR_CODES = (
    "not_a_workbook",
    "missing_sheet",
    "missing_column",
    "unknown_partner",
    "partner_mismatch",
    "bad_period",
    "period_mismatch",
    "unknown_indicator",
    "indicator_not_assigned",
    "dimension_not_used",
    "unknown_category",
    "duplicate_row",
    "not_a_number",
    "ambiguous_number",
    "not_an_integer",
    "negative_value",
    "out_of_range",
    "formula_without_value",
    "cell_error",
    "total_mismatch",
    "breakdown_exceeds_total",
    "bad_date",
    "date_outside_period",
    "personal_data",
    "file_too_large",
    "missing_value",
    "unknown_stage",
)


def error_meanings(lang: str) -> dict[str, str]:
    """One sentence per error code: what went wrong and what to change."""
    meanings = {
        "not_a_workbook": t(lang, "The file is not an .xlsx workbook: save it as Excel Workbook (.xlsx)."),
        "missing_sheet": t(lang, "A required sheet (Cover or Indicators) is missing or renamed."),
        "missing_column": t(lang, "A required column is missing or its header was changed."),
        "unknown_partner": t(lang, "The partner on the Cover is not known: write the partner code."),
        "partner_mismatch": t(lang, "The partner on the Cover is not the partner you are uploading for."),
        "bad_period": t(lang, "The period on the Cover is not a quarter such as 2021Q3."),
        "period_mismatch": t(lang, "The period on the Cover is not the quarter you are uploading for."),
        "unknown_indicator": t(lang, "The indicator code does not exist: pick one from the list."),
        "indicator_not_assigned": t(lang, "Your organization does not report this indicator."),
        "dimension_not_used": t(lang, "This indicator is not broken down by that column: leave it empty."),
        "unknown_category": t(lang, "The category is not in the list: pick one from the dropdown."),
        "duplicate_row": t(lang, "The same indicator and categories appear twice: keep one row."),
        "not_a_number": t(lang, "The value is not a number."),
        "ambiguous_number": t(lang, "A number such as 1.250 can be read two ways: write 1250 without separators."),
        "not_an_integer": t(lang, "Counts are whole numbers: remove the decimals."),
        "negative_value": t(lang, "Counts cannot be negative."),
        "out_of_range": t(lang, "The value is outside its range (percentages go from 0 to 100)."),
        "formula_without_value": t(
            lang, "A formula has no computed value: open the file in Excel or LibreOffice and save it again."
        ),
        "cell_error": t(lang, "The cell shows an error such as #DIV/0! or #REF!: correct the formula."),
        "total_mismatch": t(lang, "A complete breakdown does not add up to the total: correct the rows."),
        "breakdown_exceeds_total": t(lang, "The rows by category add up to more than the total."),
        "bad_date": t(lang, "The date cannot be read: write it as 2021-08-12 or 12/08/2021."),
        "date_outside_period": t(lang, "The training started outside the quarter of the report."),
        "personal_data": t(
            lang, "A column holds personal data (names, ID numbers, phones): remove it; only totals are reported."
        ),
        "file_too_large": t(lang, "The file is larger than the upload limit."),
        "missing_value": t(lang, "A training row has no title or no participant numbers: fill them in."),
        "unknown_stage": t(lang, "The value is not one of the indicator's stages: pick a stage from the dropdown."),
    }
    return {code: meanings[code] for code in ERROR_CODES}


def _how_to(lang: str) -> list[str]:
    return [
        t(lang, "1. Check the partner code and the period on the Cover; fill Prepared by and Date."),
        t(lang, "2. Indicators: type the quarter's total of each indicator in the Value column."),
        t(
            lang,
            "3. For values by sex, institution, region or age group, add a row below with the indicator code, "
            "the categories (from the dropdowns) and the value. A complete breakdown must add up to the total.",
        ),
        t(lang, "4. Trainings: one row per training event and participant institution."),
        t(lang, "5. Narrative: achievements, challenges, adaptations and context of the quarter."),
        t(lang, "6. Leave a value empty (or write N/A) when there is nothing to report. Do not write names."),
        t(lang, "7. Upload the file; if it is refused, every error names its sheet and cell."),
    ]


def _units(lang: str) -> list[str]:
    return [
        t(lang, "Number: a whole number, 0 or more, without thousands separators (1250, not 1.250)."),
        t(lang, "Percent: 0 to 100; 45, 45% and a cell formatted as a percentage all mean 45."),
        t(
            lang,
            "Percent with Numerator and Denominator columns: type both counts (for example 45 passed of 100 "
            "tested); the value may stay empty. Rates given this way are pooled across partners and quarters.",
        ),
        t(lang, "Yes or no: yes/no, sí/no, 1/0."),
    ]


def write(ws: Worksheet, lang: str) -> None:
    """Fill ``ws`` with the instructions in ``lang`` (read-only: the sheet is protected)."""
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    rows: list[tuple[str, str, bool]] = [(t(lang, "How to fill this report"), "", True)]
    rows += [(line, "", False) for line in _how_to(lang)]
    rows += [("", "", False), (t(lang, "Quarters"), "", True)]
    rows += [
        (t(lang, "Calendar quarters, written as: 2021Q3, 2021-Q3, 2021 Q3, Q3 2021, T3 2021, 2021-T3."), "", False)
    ]
    rows += [("", "", False), (t(lang, "Units"), "", True)]
    rows += [(line, "", False) for line in _units(lang)]
    rows += [("", "", False), (t(lang, "Error code"), t(lang, "What it means and what to change"), True)]
    rows += [(code, text, False) for code, text in error_meanings(lang).items()]
    for number, (first, second, heading) in enumerate(rows, start=1):
        a = ws.cell(row=number, column=1, value=first or None)
        b = ws.cell(row=number, column=2, value=second or None)
        a.alignment = b.alignment = wrap
        if heading:
            a.font = b.font = bold
    ws.column_dimensions["A"].width = 70
    ws.column_dimensions["B"].width = 80
    ws.protection.sheet = True
