"""Formula injection: text that a spreadsheet would run as a formula is made plain text.

A partner can type ``=HYPERLINK(...)`` into a report cell; exported as is, Excel or LibreOffice would
evaluate it on an officer's machine. Every CSV and XLSX export passes each cell through
``neutralize``; XLSX writers also write strings with ``write_string`` so nothing becomes a formula.
"""

from __future__ import annotations

from typing import Any, TypeVar

from xlsxwriter.worksheet import Worksheet

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
T = TypeVar("T")


def neutralize(value: T) -> T | str:
    """A string a spreadsheet would read as a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def neutralize_row(row: list[Any] | tuple[Any, ...]) -> list[Any]:
    """``neutralize`` over one CSV or XLSX row."""
    return [neutralize(value) for value in row]


def write_cell(sheet: Worksheet, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Write one XLSX cell: numbers as numbers, text neutralized and always as text (never a formula)."""
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(neutralize(str(value))), fmt)
