"""The messages of cell-level errors shared by every sheet: each says what to change, in the user's language."""

from __future__ import annotations

from mel.core.i18n import t
from mel.reports.numbers import NOT_REPORTED, display
from mel.reports.tables import Issues
from mel.workbooks.book import Special, cell_name


def value_message(lang: str, code: str, raw: object, *, unit: str = "count", special: Special | None = None) -> str:
    """What to change in a cell whose number was refused with ``code``."""
    shown = display(raw)
    if code == "formula_without_value":
        return t(
            lang,
            "This formula has no computed value (the file was saved by a program that does not calculate "
            "formulas): open the file in Excel or LibreOffice, save it, and upload it again.",
        )
    if code == "cell_error":
        error = special.text if special is not None and special.text else "#ERROR"
        return t(lang, "The cell shows the error {error}: correct the formula or type the value.", error=error)
    if code == "ambiguous_number":
        return t(
            lang,
            "{value} can be read as a decimal or as thousands (1.250 is 1.25 in English and 1250 in Spanish): "
            "write the number without separators, such as {digits}.",
            value=shown,
            digits=shown.replace(".", ""),
        )
    if code == "not_an_integer":
        return t(lang, "{value} is not a whole number: counts have no decimals.", value=shown)
    if code == "negative_value":
        return t(lang, "{value} is negative: write a number of 0 or more.", value=shown)
    if code == "out_of_range":
        if unit == "yes_no":
            return t(lang, "{value} is not yes or no: write yes or no (or 1 or 0).", value=shown)
        return t(lang, "{value} is outside 0-100: write a percentage between 0 and 100.", value=shown)
    if unit == "yes_no":
        return t(lang, "{value} is not yes or no: write yes or no (or 1 or 0).", value=shown)
    if unit == "percent":
        return t(lang, "{value} is not a number: write a percentage such as 45 or 45%.", value=shown)
    return t(lang, "{value} is not a number: write a number such as 12, without text.", value=shown)


def report_value(
    issues: Issues,
    code: str,
    sheet: str,
    cell: str,
    raw: object,
    *,
    unit: str = "count",
    special: Special | None = None,
) -> None:
    """An error (or, for "N/A"-like words, an information line) about one cell's value."""
    if code == NOT_REPORTED:
        issues.info(
            NOT_REPORTED,
            sheet,
            cell,
            t(issues.lang, "{value} was read as nothing reported.", value=display(raw)),
        )
        return
    issues.error(code, sheet, cell, value_message(issues.lang, code, raw, unit=unit, special=special))


def report_specials(
    issues: Issues, sheet_name: str, specials: dict[tuple[int, int], Special], first_row: int, columns: set[int]
) -> set[int]:
    """Formula-without-value and error cells of ``columns`` below ``first_row``: errors; their rows."""
    rows: set[int] = set()
    for (r, c), special in sorted(specials.items()):
        if r < first_row or c not in columns or special.kind == "percent":
            continue
        code = "formula_without_value" if special.kind == "formula_without_value" else "cell_error"
        report_value(issues, code, sheet_name, cell_name(r, c), "", special=special)
        rows.add(r)
    return rows
