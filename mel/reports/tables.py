"""Table sheets: finding the header row, mapping columns by name, and collecting issues.

A table's header row is the first row, within the first 15, holding its key header; columns are
found by header in any order. Unknown columns are listed as information, personal-data columns
are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mel.core.i18n import t
from mel.core.text import norm
from mel.reports.parse_results import Issue
from mel.reports.vocab import is_personal_header
from mel.workbooks.book import Sheet, cell_name, column_letter

HEADER_ROWS = 15


class Issues:
    """Errors and information lines in the order they were found, messages already translated."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.errors: list[Issue] = []
        self.infos: list[Issue] = []

    def error(self, code: str, sheet: str, cell: str, message: str) -> None:
        self.errors.append(Issue(code, sheet, cell, message))

    def info(self, code: str, sheet: str, cell: str, message: str) -> None:
        self.infos.append(Issue(code, sheet, cell, message))


@dataclass
class Table:
    """A located table: its sheet, header row and the column of each recognized field."""

    sheet: Sheet
    header_row: int
    """Zero-based; -1 when no header row was found."""
    columns: dict[str, int] = field(default_factory=dict)
    """field -> zero-based column."""

    @property
    def name(self) -> str:
        return self.sheet.name

    def cell(self, row: int, field_: str) -> str:
        return cell_name(row, self.columns[field_])

    def letter(self, field_: str) -> str:
        return column_letter(self.columns[field_])

    def data_rows(self) -> list[list[Any]]:
        """The rows below the header, each long enough for every recognized column."""
        rows = self.sheet.rows[self.header_row + 1 :]
        width = max(self.columns.values(), default=-1) + 1
        return [r if len(r) >= width else [*r, *([""] * (width - len(r)))] for r in rows]


def blank(value: Any) -> bool:
    """An empty cell: nothing, '' or only whitespace."""
    return value == "" or value is None or (type(value) is str and value.isspace())


def empty_row(row: list[Any], columns: list[int], r: int, special: dict[tuple[int, int], Any]) -> bool:
    """A row whose recognized cells are all empty (a formula without value is not empty)."""
    for c in columns:
        value = row[c]
        if not (value == "" or value is None or (type(value) is str and value.isspace())):
            return False
    return not special or all((r, c) not in special for c in columns)


def find_header_row(sheet: Sheet, key_names: set[str]) -> int:
    for r, row in enumerate(sheet.rows[:HEADER_ROWS]):
        for value in row:
            if type(value) is str and norm(value) in key_names:
                return r
    return -1


def locate(
    sheet: Sheet,
    aliases: dict[str, str],
    key_field: str,
    issues: Issues,
    *,
    extra: dict[str, str] | None = None,
    silent: frozenset[str] = frozenset(),
) -> Table:
    """Find ``sheet``'s header row and its columns; report personal-data and unknown columns.

    ``aliases`` maps ``norm(header)`` to a field; ``extra`` adds more (dimension columns), which
    lose to ``aliases`` on a clash; headers in ``silent`` are known and ignored without a notice.
    """
    keys = {k for k, v in aliases.items() if v == key_field}
    row = find_header_row(sheet, keys)
    table = Table(sheet, row)
    if row < 0:
        scan_personal_data(sheet, issues)
        return table
    lang = issues.lang
    for col, value in enumerate(sheet.rows[row]):
        if blank(value):
            continue
        header = str(value).strip()
        key = norm(header)
        field_ = aliases.get(key) or (extra or {}).get(key)
        cell = cell_name(row, col)
        if field_ is None:
            if is_personal_header(header):
                issues.error(
                    "personal_data",
                    sheet.name,
                    cell,
                    t(
                        lang,
                        "The column {header} holds personal data: delete the whole column and upload the file "
                        "again (reports hold totals only, never names, ID numbers, phones or addresses).",
                        header=header,
                    ),
                )
            elif key not in silent:
                issues.info(
                    "ignored_column",
                    sheet.name,
                    cell,
                    t(lang, "The column {header} is not a column of this sheet and was ignored.", header=header),
                )
        elif field_ in table.columns:
            first = cell_name(row, table.columns[field_])
            issues.info(
                "ignored_column",
                sheet.name,
                cell,
                t(
                    lang,
                    "The column {header} repeats the column in {first} and was ignored.",
                    header=header,
                    first=first,
                ),
            )
        else:
            table.columns[field_] = col
    return table


def scan_personal_data(sheet: Sheet, issues: Issues) -> None:
    """Personal-data headers anywhere in the first rows of a sheet that has no recognized table."""
    for r, row in enumerate(sheet.rows[:HEADER_ROWS]):
        for c, value in enumerate(row):
            if type(value) is str and is_personal_header(value):
                issues.error(
                    "personal_data",
                    sheet.name,
                    cell_name(r, c),
                    t(
                        issues.lang,
                        "The column {header} holds personal data: delete the whole column and upload the file "
                        "again (reports hold totals only, never names, ID numbers, phones or addresses).",
                        header=value.strip(),
                    ),
                )


def missing_column(issues: Issues, table: Table, column: str) -> None:
    """``column`` is the header to add, in the user's language."""
    lang = issues.lang
    if table.header_row < 0:
        message = t(
            lang,
            "The sheet has no header row: in one of its first 15 rows, write the column headers, including {column}.",
            column=column,
        )
    else:
        message = t(
            lang,
            "The column {column} is missing: add it to the header row (row {row}) or correct its header.",
            column=column,
            row=table.header_row + 1,
        )
    issues.error("missing_column", table.name, "", message)
