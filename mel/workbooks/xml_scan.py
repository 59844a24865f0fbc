"""Find what calamine hides in one sheet's XML, by targeted byte-level scans (no DOM).

calamine returns ``''`` for an empty cell, a formula without a cached value and an error cell alike,
and ``0.45`` for a cell that shows ``45 %``. The scans here find those cells so that a 100,000-row
sheet costs little more than calamine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mel.workbooks.book import Special

_FORMULA_WITHOUT_VALUE = Special("formula_without_value")
_PERCENT = Special("percent")


def unescape(text: str) -> str:
    """``xml.sax.saxutils.unescape`` (the three entities of cell text), without importing ``xml.sax``,
    which loads ``urllib.request``, ``http.client`` and ``email`` into every import (``mel import``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class _Grammar:
    """Compiled patterns for one namespace prefix (``b""`` or e.g. ``b"x:"``)."""

    cell_open: bytes
    start_tag: re.Pattern[bytes]
    end_tag: re.Pattern[bytes]
    value: re.Pattern[bytes]
    formula: re.Pattern[bytes]
    inline: re.Pattern[bytes]
    formula_unvalued: re.Pattern[bytes]
    canonical: re.Pattern[bytes]
    token: re.Pattern[bytes]


@lru_cache(maxsize=8)
def _grammar(prefix: bytes) -> _Grammar:
    p = re.escape(prefix)
    # A formula not followed by a non-empty <v> or an inline string: candidate for "no value".
    no_value = rb"(?!\s*(?:<" + p + rb"v(?:\s[^>]*)?>\s*[^<\s]|<" + p + rb"is[\s>]))"
    return _Grammar(
        cell_open=b"<" + prefix + b"c",
        start_tag=re.compile(rb"<" + p + rb"c(?=[\s/>])([^>]*)>"),
        end_tag=re.compile(rb"</" + p + rb"c\s*>"),
        value=re.compile(rb"<" + p + rb"v(?:\s[^>]*)?(?:/>|>([^<]*)<)"),
        formula=re.compile(rb"<" + p + rb"f[\s/>]"),
        inline=re.compile(rb"<" + p + rb"is[\s/>]"),
        formula_unvalued=re.compile(rb"<" + p + rb"f(?:\s[^>]*)?(?:/>|>[^<]*</" + p + rb"f\s*>)" + no_value),
        # The form nearly every writer uses for a styled number: recognised in one match.
        canonical=re.compile(
            rb"<" + p + rb'c r="([A-Z]{1,3})([0-9]{1,7})" s="([0-9]{1,6})"(?: t="n")?>'
            rb"(?:<" + p + rb"f(?:\s[^>]*)?(?:/>|>[^<]*</" + p + rb"f>))?"
            rb"<" + p + rb"v>([^<\s][^<]*)</" + p + rb"v></" + p + rb"c>"
        ),
        token=re.compile(rb"<" + p + rb"(row|c)(?=[\s/>])([^>]*)>"),
    )


@lru_cache(maxsize=64)
def _candidates(styles: tuple[int, ...]) -> re.Pattern[bytes]:
    """Attribute values worth a look: t="e" (errors) and s="N" for percent styles N."""
    values = b"|".join([b"e", *(str(s).encode() for s in styles)])
    return re.compile(rb"""=\s*["'](?:""" + values + rb""")["']""")


_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.\-]*:)?sheetData(?=[\s/>])([^>]*)>")
_ATTR = re.compile(rb"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_TAG_NAME_END = frozenset(b" \t\r\n/>")
_COLUMNS: dict[bytes, int] = {}


def _column_index(letters: bytes) -> int:
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + ch - 64
        index -= 1
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = index
    return index


def find_specials(xml: bytes, percent_styles: frozenset[int]) -> dict[tuple[int, int], Special]:
    """(row, col) -> Special for one worksheet's XML.

    Targeted scans find the few interesting cells (error type, formula without a following value,
    percent style) and only those are looked at closely. A sheet whose interesting cells do not
    say where they are (no ``r`` attribute), or whose default style is a percent style, is walked
    cell by cell instead.
    """
    head = _SHEET_DATA.search(xml)
    if head is None or head.group(2).rstrip().endswith(b"/"):
        return {}
    prefix = head.group(1) or b""
    lo = head.end()
    hi = xml.rfind(b"</" + prefix + b"sheetData")
    if hi < lo:
        hi = len(xml)
    grammar = _grammar(prefix)
    if 0 not in percent_styles:
        found = _scan_targeted(xml, lo, hi, grammar, percent_styles)
        if found is not None:
            return found
    return _scan_all(xml, lo, hi, grammar, percent_styles)


def _scan_targeted(
    xml: bytes, lo: int, hi: int, g: _Grammar, percent_styles: frozenset[int]
) -> dict[tuple[int, int], Special] | None:
    found: dict[tuple[int, int], Special] = {}
    starts: set[int] = set()
    canonical = g.canonical.match
    rfind = xml.rfind
    columns = _COLUMNS
    cell_open = g.cell_open
    open_len = len(cell_open)
    for m in _candidates(tuple(sorted(percent_styles))).finditer(xml, lo, hi):
        pos = m.start()
        start = rfind(b"<", lo, pos)
        cm = canonical(xml, start)
        # The candidate is this cell's s="N" (N a percent style) and the cell is a plain number.
        if cm is not None and cm.end(3) + 1 == m.end():
            letters, digits = cm.group(1, 2)
            col = columns.get(letters)
            found[(int(digits) - 1, _column_index(letters) if col is None else col)] = _PERCENT
        elif (
            start >= 0
            and xml.startswith(cell_open, start)
            and xml[start + open_len] in _TAG_NAME_END
            and xml.find(b">", start, pos) < 0
        ):
            starts.add(start)
    for m in g.formula_unvalued.finditer(xml, lo, hi):
        start = rfind(cell_open, lo, m.start())
        while start >= 0 and xml[start + open_len] not in _TAG_NAME_END:
            start = rfind(cell_open, lo, start)
        if start >= 0:
            starts.add(start)
    for start in starts:
        cell = _cell_at(xml, start, hi, g)
        if cell is None:
            continue
        attrs, body = cell
        position = _position(attrs.get(b"r"))
        if position is None:
            return None
        special = _classify(attrs, body, g, percent_styles)
        if special is not None:
            found[position] = special
    return found


def _scan_all(
    xml: bytes, lo: int, hi: int, g: _Grammar, percent_styles: frozenset[int]
) -> dict[tuple[int, int], Special]:
    """Walk every row and cell, placing cells without ``r`` the way calamine does."""
    found: dict[tuple[int, int], Special] = {}
    row = -1
    col = -1
    for m in g.token.finditer(xml, lo, hi):
        attrs = _attrs(m.group(2))
        if m.group(1) == b"row":
            try:
                row = int(attrs[b"r"]) - 1
            except (KeyError, ValueError):
                row += 1
            col = -1
            continue
        position = _position(attrs.get(b"r"))
        if position is None:
            col += 1
            position = (row, col)
        else:
            col = position[1]
        if m.group(2).rstrip().endswith(b"/"):
            body = b""
        else:
            end = g.end_tag.search(xml, m.end(), hi)
            body = xml[m.end() : end.start() if end else hi]
        special = _classify(attrs, body, g, percent_styles)
        if special is not None:
            found[position] = special
    return found


def _cell_at(xml: bytes, start: int, hi: int, g: _Grammar) -> tuple[dict[bytes, bytes], bytes] | None:
    tag = g.start_tag.match(xml, start)
    if tag is None:
        return None
    raw = tag.group(1)
    if raw.rstrip().endswith(b"/"):
        return _attrs(raw), b""
    end = g.end_tag.search(xml, tag.end(), hi)
    return _attrs(raw), xml[tag.end() : end.start() if end else hi]


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {name: dq or sq for name, dq, sq in _ATTR.findall(raw)}


def _position(ref: bytes | None) -> tuple[int, int] | None:
    if not ref:
        return None
    m = _REF.fullmatch(ref.strip())
    if m is None or int(m.group(2)) < 1:
        return None
    return int(m.group(2)) - 1, _column_index(m.group(1))


def _classify(attrs: dict[bytes, bytes], body: bytes, g: _Grammar, percent_styles: frozenset[int]) -> Special | None:
    """Decide what one cell hides, from its attributes and inner XML."""
    kind = attrs.get(b"t", b"n")
    vm = g.value.search(body)
    value = None if vm is None else (vm.group(1) or b"")
    has_value = bool(value and value.strip())
    has_formula = g.formula.search(body) is not None
    if kind == b"e":
        if has_value and value is not None:
            return Special("error", unescape(value.decode("utf-8", "replace").strip()))
        return _FORMULA_WITHOUT_VALUE if has_formula else Special("error")
    if has_formula and not has_value:
        if kind == b"inlineStr" and g.inline.search(body):
            return None
        if kind == b"str" and value is not None:
            return None  # a cached empty string: the formula was computed and gave ""
        return _FORMULA_WITHOUT_VALUE
    if kind == b"n" and has_value:
        try:
            style = int(attrs.get(b"s", b"0"))
        except ValueError:
            return None
        if style in percent_styles:
            return _PERCENT
    return None
