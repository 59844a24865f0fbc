"""One writer for every export: CSV, XLSX (a report workbook with a Notes sheet) and JSON.

An export module describes a ``Table``: its columns, a generator of rows (what a spreadsheet shows:
``<5`` for a suppressed cell, yes/no as text in the reader's language) and a generator of JSON records (the
command-line contract's shapes). Rows are streamed: nothing holds a whole export in memory, and
the XLSX is written with xlsxwriter's ``constant_memory``. CSV and XLSX text is neutralized
against formula injection (``mel.exports.safe``) by the export modules, which know which columns
carry free text; the XLSX writer also writes every string as a string, never as a formula.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import xlsxwriter

from mel.exports.safe import DANGEROUS_PREFIXES, write_cell

FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xml": "application/xml",
    "parquet": "application/vnd.apache.parquet",
    "adx": "application/adx+xml",
}
NUMBER_FORMATS = {
    "int": "#,##0",
    "number": "#,##0.0##",
    "decimal1": "0.0",
    "text": "@",
}
UNIT_FORMATS = {"count": "#,##0", "percent": "0.0", "yes_no": "0", "stage": "0"}
"""A ``number`` column's format follows the row's unit: counts show ``1,480``, not ``1,480.0``."""
YES_NO = {"en": ("yes", "no"), "es": ("sí", "no")}
BOM = "\ufeff"
"""Written first in CSV meant for spreadsheets: Excel on Windows reads UTF-8 (``Evaluación``) only with it."""
MAX_ROWS = 1_048_575  # data rows under the header row of one sheet
SUPPRESSION_RULE = (
    "Small-cell suppression: values 1 to 4 of an indicator marked sensitive (counts of victims) are shown "
    "as <5 (JSON: value null and suppressed true), with any figure derived from them. Zero is shown. "
    "Complementary suppression: where a hidden value could be worked out from a total minus the other "
    "categories, partners or quarters, another cell of that margin is hidden too and shown as x."
)


@dataclass(frozen=True)
class Column:
    """One column: its key (the CSV header and the JSON key), a spreadsheet format, width and unit."""

    key: str
    definition: str
    kind: str = "text"  # text | int | number | decimal1
    width: float = 12
    unit: str = ""


@dataclass
class Table:
    """What an export writes: columns, spreadsheet rows and JSON records, produced on demand."""

    name: str
    columns: list[Column]
    rows: Callable[[], Iterable[Iterable[Any]]]
    records: Callable[[], Iterable[dict[str, Any]]]
    notes: list[tuple[str, str]] = field(default_factory=list)
    title: str = ""
    lang: str = "en"
    """Language of yes/no cells (the reader's)."""
    unit_column: str | None = "unit"
    """The column naming each row's unit, which sets the format of its ``number`` cells (if present)."""


class YesNo(str):
    """A yes/no cell: written ``yes``/``no`` in the table's language (``sí``/``no``), never ``true``/``false``."""

    __slots__ = ("value",)

    def __new__(cls, value: bool) -> YesNo:
        obj = super().__new__(cls, YES_NO["en"][0 if value else 1])
        obj.value = value  # type: ignore[attr-defined]
        return obj

    def text(self, lang: str) -> str:
        return YES_NO.get(lang, YES_NO["en"])[0 if self.value else 1]  # type: ignore[attr-defined]


def _localized_rows(table: Table) -> Iterable[Iterable[Any]]:
    """The table's rows with yes/no cells in its language (English needs no pass: ``YesNo`` is ``yes``/``no``)."""
    if table.lang == "en" or table.lang not in YES_NO:
        return table.rows()
    lang = table.lang
    return ([v.text(lang) if v.__class__ is YesNo else v for v in row] for row in table.rows())


def write_csv(table: Table, out: IO[str], *, bom: bool = False) -> None:
    """CSV, plain UTF-8 for programs; ``bom`` for spreadsheets (downloads, ``mel export --excel``)."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    writer.writerows(_localized_rows(table))


def write_json(table: Table, out: IO[str]) -> None:
    """A JSON list, one object per line, streamed."""
    out.write("[")
    first = True
    for record in table.records():
        out.write("\n" if first else ",\n")
        out.write(json.dumps(record, ensure_ascii=False))
        first = False
    out.write("\n]\n" if not first else "]\n")


def write_xlsx(table: Table, out: IO[bytes] | str) -> None:
    """A report workbook: frozen header, filters, number formats, then a Notes sheet.

    The Notes sheet defines every column (with its unit), lists the sources and states the
    suppression rule, so a table pasted into a report keeps its meaning.
    """
    book = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    header = book.add_format({"bold": True, "bg_color": "#DDE4EE", "bottom": 1, "text_wrap": True, "valign": "top"})
    formats = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
    kinds = [formats.get(c.kind) if c.kind != "text" else None for c in table.columns]
    keys = [c.key for c in table.columns]
    unit_at = keys.index(table.unit_column) if table.unit_column in keys else None
    numbers = [n for n, c in enumerate(table.columns) if c.kind == "number"]
    by_unit: dict[Any, list[Any]] = {}  # the row's formats for each unit: built once per unit
    for unit, fmt in UNIT_FORMATS.items():
        unit_format = book.add_format({"num_format": fmt})
        by_unit[unit] = [unit_format if n in numbers else k for n, k in enumerate(kinds)]
    whole = formats["int"]
    lang = table.lang if table.lang in YES_NO else "en"
    sheets = 0
    sheet, r = None, MAX_ROWS
    for row in table.rows():
        row_kinds = kinds
        if numbers:  # a number column's format by the row's unit, else whole numbers without decimals
            row = row if isinstance(row, list | tuple) else list(row)
            found = by_unit.get(row[unit_at]) if unit_at is not None else None
            if found is not None:
                row_kinds = found
            else:
                row_kinds = list(kinds)
                for n in numbers:
                    if row[n].__class__ is int:
                        row_kinds[n] = whole
        if r == MAX_ROWS:  # a sheet holds 1,048,576 rows: go on in "Values (2)"...
            if sheet is not None:
                _finish(sheet, r, table)
            sheets += 1
            sheet = _data_sheet(book, table, header, sheets)
            write_string, write_number, r = sheet.write_string, sheet.write_number, 0
        r += 1
        for n, value in enumerate(row):
            # the common cases inline (a million rows), everything else through write_cell
            if value is None:
                continue
            kind = value.__class__
            if kind is str:
                write_string(r, n, "'" + value if value.startswith(DANGEROUS_PREFIXES) else value, row_kinds[n])
            elif kind is int or kind is float:
                write_number(r, n, value, row_kinds[n])
            elif kind is YesNo:
                write_string(r, n, value.text(lang), None)
            else:
                write_cell(sheet, r, n, value, row_kinds[n])
    if sheet is None:
        sheet, r = _data_sheet(book, table, header, 1), 0
    _finish(sheet, r, table)
    _notes(book, table, header)
    book.close()


def _data_sheet(book: Any, table: Table, header: Any, number: int) -> Any:
    name = table.name[:26] if number == 1 else f"{table.name[:24]} ({number})"
    sheet = book.add_worksheet(name)
    for n, col in enumerate(table.columns):
        sheet.set_column(n, n, col.width)
        write_cell(sheet, 0, n, col.key, header)
    sheet.freeze_panes(1, 0)
    return sheet


def _finish(sheet: Any, last: int, table: Table) -> None:
    if table.columns:
        sheet.autofilter(0, 0, max(last, 1), len(table.columns) - 1)


def _notes(book: Any, table: Table, header: Any) -> None:
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    notes = book.add_worksheet("Notes")
    notes.set_column(0, 0, 24)
    notes.set_column(1, 1, 90)
    notes.set_column(2, 2, 18)
    row = 0
    if table.title:
        write_cell(notes, row, 0, table.title, header)
        row += 2
    for term, text in table.notes:
        write_cell(notes, row, 0, term, header)
        write_cell(notes, row, 1, text, wrap)
        row += 1
    row += 1
    for n, title in enumerate(("column", "definition", "unit")):
        write_cell(notes, row, n, title, header)
    for col in table.columns:
        row += 1
        write_cell(notes, row, 0, col.key)
        write_cell(notes, row, 1, col.definition, wrap)
        write_cell(notes, row, 2, col.unit or None)


def write(table: Table, fmt: str, out: IO[Any], *, bom: bool = False) -> None:
    """Write ``table`` as ``fmt`` to ``out`` (text stream for csv/json, binary for xlsx); ``bom``: CSV for Excel."""
    if fmt == "csv":
        write_csv(table, out, bom=bom)
    elif fmt == "json":
        write_json(table, out)
    elif fmt == "xlsx":
        write_xlsx(table, out)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def number(value: float | int | None) -> float | int | None:
    """Whole numbers as integers (14, not 14.0) in every format."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if value.is_integer() else value


def flag(value: bool | None) -> YesNo | None:
    """Booleans as spreadsheet text, yes/no in the reader's language, the same in CSV and XLSX."""
    return None if value is None else YesNo(bool(value))


def chained(*parts: Iterable[Any]) -> Iterator[Any]:
    for part in parts:
        yield from part
