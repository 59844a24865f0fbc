"""What reading an upload gives: the workbook's sheets and rows, what calamine hid, and its refusals.

A cell is named as users see it (``F12``) by ``cell_name``; rows and columns are zero-based here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Sheet", "Special", "Workbook", "WorkbookError", "cell_name", "column_letter", "refuse"]


class WorkbookError(Exception):
    """The file cannot be read as a workbook at all (``code``), or one sheet is beyond the limits.

    ``sheet`` names the sheet a ``too_large`` refers to; ``reason`` says why a ``not_a_workbook``
    is one when users can do something about it (``macros``).
    """

    code: str
    detail: str
    sheet: str
    reason: str

    def __init__(self, code: str, detail: str, *, sheet: str = "", reason: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.sheet = sheet
        self.reason = reason


def refuse(detail: str) -> WorkbookError:
    """The error for a file that is no workbook at all, saying why in ``detail``."""
    return WorkbookError("not_a_workbook", detail)


@dataclass(frozen=True, slots=True)
class Special:
    """What calamine hid about one cell."""

    kind: Literal["formula_without_value", "error", "percent"]
    text: str | None = None


@dataclass
class Sheet:
    """One sheet's values, row 0 = spreadsheet row 1 and column 0 = column A, plus its specials."""

    name: str
    rows: list[list[Any]]
    special: dict[tuple[int, int], Special] = field(default_factory=dict)

    def special_at(self, r: int, c: int) -> Special | None:
        """What calamine hid at zero-based (row, column), or None for an ordinary cell."""
        return self.special.get((r, c))


@dataclass
class Workbook:
    """The sheets in workbook order, and the parts that link to other files (``external_links``)."""

    sheets: list[Sheet]
    external_links: list[str] = field(default_factory=list)


def column_letter(col: int) -> str:
    """Zero-based column index to its letters: 0 -> A, 25 -> Z, 26 -> AA."""
    if col < 0:
        raise ValueError(f"column index must be >= 0, got {col}")
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """Zero-based (row, column) to the A1-style name users see: (11, 5) -> F12."""
    if row < 0:
        raise ValueError(f"row index must be >= 0, got {row}")
    return f"{column_letter(col)}{row + 1}"
