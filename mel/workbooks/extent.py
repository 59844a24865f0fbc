"""A sheet's real extent, taken from its XML before calamine sees it.

calamine allocates the rectangle from the first to the last cell it finds (and ``to_python``
pads it from A1), so one cell at ``XFD1048576`` costs the whole grid: half a terabyte. The
``<dimension>`` element cannot be trusted (any writer can lie in it), so the extent is measured
from the cell references themselves: a few regular-expression searches over the XML, each looking
only for a reference beyond the greatest found so far (tens of milliseconds for 500,000 cells, no
copies), against gigabytes when calamine is handed the grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.\-]*:)?sheetData(?=[\s/>])([^>]*)>")
_ATTRS = re.compile(rb"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LAST_REF = re.compile(rb'[A-Z]{1,3}([0-9]{1,7})"')
_REF = re.compile(rb"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


@dataclass(frozen=True, slots=True)
class Extent:
    """Rows and columns from A1 to the last cell present, and how many cells the XML holds."""

    rows: int
    columns: int
    cells: int

    @property
    def grid(self) -> int:
        """Cells of the rectangle calamine would build (rows x columns)."""
        return self.rows * self.columns


@dataclass(frozen=True)
class _Patterns:
    ref_first: bytes
    tag_start: bytes
    token: re.Pattern[bytes]


@lru_cache(maxsize=8)
def _patterns(prefix: bytes) -> _Patterns:
    p = re.escape(prefix)
    return _Patterns(
        ref_first=b"<" + prefix + b'c r="',
        tag_start=b"<" + prefix + b"c",
        token=re.compile(rb"<" + p + rb"(row|c)(?=[\s/>])([^>]*)>"),
    )


def _column_number(letters: bytes) -> int:
    """``A`` -> 1, ``XFD`` -> 16384."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _greater(current: bytes | None, alphabet: tuple[int, int], longest: int) -> bytes | None:
    """A regex for strings of ``alphabet`` that sort after ``current`` as column letters or row numbers do.

    Longer strings are greater; among strings of the same length, the first differing character
    decides. None when nothing is greater (``XFD`` is not special: ``ZZZ`` is the limit here).
    """
    low, high = alphabet
    span = b"[%c-%c]" % (low, high)
    if current is None:
        return span + b"{1,%d}" % longest
    size = len(current)
    choices = []
    if size < longest:
        choices.append(span + b"{%d,%d}" % (size + 1, longest))
    for i, ch in enumerate(current):
        if ch < high:
            rest = span + b"{%d}" % (size - i - 1) if size - i - 1 else b""
            choices.append(re.escape(current[:i]) + b"[%c-%c]" % (ch + 1, high) + rest)
    return b"(?:" + b"|".join(choices) + b")" if choices else None


_SEARCHES = 32
"""Searches for a greater value before the rest is read in one pass (each search compiles a pattern)."""


@lru_cache(maxsize=256)
def _compiled(head: bytes, body: bytes, tail: bytes) -> re.Pattern[bytes]:
    return re.compile(head + b"(" + body + b")" + tail)


def _greatest(
    xml: bytes,
    lo: int,
    hi: int,
    head: bytes,
    tail: bytes,
    alphabet: tuple[int, int],
    longest: int,
    seed: bytes | None = None,
) -> bytes:
    """The greatest column (or row) in the cell references, in one pass over the XML.

    Each search looks only for a reference greater than the best so far, from where the last one was
    found: everything before it was already shown to be smaller. Typical sheets need a handful of
    searches; references growing all along the sheet need one per new maximum, still one pass.
    ``seed``, a value known to occur (the last row), spares those searches for sorted sheets.
    """
    best: bytes | None = seed
    pos = lo
    for _ in range(_SEARCHES):
        body = _greater(best, alphabet, longest)
        if body is None:
            return best or b""
        found = _compiled(head, body, tail).search(xml, pos, hi)
        if found is None:
            return best or b""
        best = found.group(1)
        pos = found.end()
    # a new maximum at every turn (a staircase): each search compiles a new pattern, so read the rest
    # in one linear pass instead
    every = _compiled(head, b"[%c-%c]{1,%d}" % (*alphabet, longest), tail).finditer(xml, pos, hi)
    return max((m.group(1) for m in every), key=lambda v: (len(v), v), default=best) or b""


def sheet_extent(xml: bytes) -> Extent:
    """The real extent of one worksheet's XML (rows and columns counted from A1)."""
    head = _SHEET_DATA.search(xml)
    if head is None or head.group(2).rstrip().endswith(b"/"):
        return Extent(0, 0, 0)
    prefix = head.group(1) or b""
    lo = head.end()
    hi = xml.rfind(b"</" + prefix + b"sheetData")
    if hi < lo:
        hi = len(xml)
    pats = _patterns(prefix)
    cells = xml.count(pats.ref_first, lo, hi)
    if xml.count(pats.tag_start, lo, hi) != cells:
        # some cells say where they are differently (other attributes first, other spacing) or not at all
        return _walk(xml, lo, hi, pats)
    if cells == 0:
        return Extent(0, 0, 0)
    opening = re.escape(pats.ref_first)
    letters = _greatest(xml, lo, hi, opening, rb"[0-9]", (65, 90), 3)
    last = _LAST_REF.match(xml, xml.rfind(pats.ref_first, lo, hi) + len(pats.ref_first))
    seed = last.group(1) if last else None  # rows are written in order: the last cell's is the greatest
    digits = _greatest(xml, lo, hi, opening + b"[A-Z]{1,3}", b'"', (48, 57), 7, seed)
    if not letters or not digits:
        return _walk(xml, lo, hi, pats)
    return Extent(int(digits), _column_number(letters), cells)


def _walk(xml: bytes, lo: int, hi: int, pats: _Patterns) -> Extent:
    """Cell by cell, placing cells without a reference the way calamine does (next column)."""
    row = 0
    col = 0
    cells = 0
    max_row = 0
    max_col = 0
    for m in pats.token.finditer(xml, lo, hi):
        attrs = {name: dq or sq for name, dq, sq in _ATTRS.findall(m.group(2))}
        if m.group(1) == b"row":
            raw = attrs.get(b"r", b"").strip()
            row = int(raw) if raw.isdigit() else row + 1
            col = 0
            continue
        cells += 1
        ref = _REF.fullmatch(attrs.get(b"r", b"").strip())
        if ref is not None:
            row = int(ref.group(2))
            col = _column_number(ref.group(1))
        else:
            col += 1
            row = max(row, 1)
        max_row = max(max_row, row)
        max_col = max(max_col, col)
    return Extent(max_row, max_col, cells)
