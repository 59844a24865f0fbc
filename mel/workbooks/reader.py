"""Read an uploaded .xlsx into plain rows, safely and fast, and recover what calamine hides.

calamine (python-calamine) is the fast reader, but it returns ``''`` for an empty cell, a formula
without a cached value and an error cell alike, and ``0.45`` for a cell that shows ``45 %``. The
importer must tell those apart, so this module also looks at the raw sheet XML, but only with
targeted byte-level scans (no DOM), so that a 100,000-row sheet costs little more than calamine.

Uploads are untrusted. Before anything parses XML (calamine included) every member that may be
parsed is decompressed here in bounded chunks: the archive is refused when declared or real sizes
are absurd (zip bombs, lying headers) or when an XML part carries a DTD (entity bombs, external
entities). Every sheet calamine will read is measured first (``mel.workbooks.extent``): a sheet
whose real extent or cell count passes the limit is refused (``too_large``) before calamine could
allocate its grid, and so is an XML part larger than the per-part limit. Macro-enabled content is
refused. This is the only module that knows calamine.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring
from python_calamine import CalamineWorkbook, SheetTypeEnum

from mel.workbooks.extent import sheet_extent

__all__ = [
    "Sheet",
    "Special",
    "Workbook",
    "WorkbookError",
    "cell_name",
    "column_letter",
    "read_workbook",
]

MAX_MEMBERS = 10_000
"""More parts than any real workbook has; refusing early keeps the central directory cheap."""
MAX_RATIO = 200
"""Declared uncompressed/compressed ratio above which a large member is taken for a bomb."""
RATIO_MIN_BYTES = 1_000_000
"""Small members may compress absurdly well (empty parts); only large ones are ratio-checked."""
_KEEP_WHILE_VERIFYING = 64 << 20
"""Larger parts are verified first and decompressed again, so a lying header never fills memory."""
_IN_CHUNK = 1 << 16
_OUT_CHUNK = 1 << 20
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_CONTENT_TYPES = "[content_types].xml"
DEFAULT_MAX_CELLS = 3_000_000
"""Cells of one sheet's rectangle (rows x columns from A1), and cells present, read at most."""
DEFAULT_MAX_PART_BYTES = 500_000_000
"""Uncompressed bytes of one XML part that calamine parses (a sheet, the shared strings); imports pass
the smaller ``Settings.max_part_bytes``."""
_EXTERNAL_LINKS = "xl/externallinks/"


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


def _refuse(detail: str) -> WorkbookError:
    return WorkbookError("not_a_workbook", detail)


@dataclass(frozen=True, slots=True)
class Special:
    """What calamine hid about one cell."""

    kind: Literal["formula_without_value", "error", "percent"]
    text: str | None = None


_FORMULA_WITHOUT_VALUE = Special("formula_without_value")
_PERCENT = Special("percent")


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


def read_workbook(
    data: bytes,
    *,
    max_bytes: int,
    max_uncompressed_bytes: int = 500_000_000,
    max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
    max_cells: int = DEFAULT_MAX_CELLS,
    sheets: Callable[[str], bool] | None = None,
) -> Workbook:
    """Read ``data`` (an .xlsx file) into rows and specials, or raise WorkbookError.

    ``sheets`` selects, by sheet name, which sheets are read; the others are listed with no rows,
    and their worksheet XML is never decompressed nor parsed. A sheet read has at most
    ``max_cells`` cells in its rectangle and ``max_part_bytes`` of XML (else ``too_large``).
    """
    if len(data) > max_bytes:
        raise WorkbookError("file_too_large", f"{len(data)} bytes, more than the limit of {max_bytes}")
    archive = _Archive(data, max_uncompressed_bytes)
    _refuse_macros(archive)
    layout = _read_layout(archive)
    wanted = sheets or (lambda _name: True)
    selected_parts = {part for name, part in layout.sheets if part and wanted(name)}
    skipped_parts = {part for name, part in layout.sheets if part and not wanted(name)} - selected_parts
    names = {part: name for name, part in reversed(layout.sheets) if part}
    limits = _Limits(max_part_bytes, max_cells)
    shared = "xl/sharedstrings.xml"
    if shared in archive.members:
        limits.check_size(archive.members[shared], "")

    percent_styles = frozenset[int]()
    if layout.styles and layout.styles in archive.members:
        styles_xml = archive.inflate(layout.styles, keep=True)
        percent_styles = _percent_styles(_parse_xml(styles_xml, layout.styles))

    # Verify every member calamine might parse before it opens the file; sheets read now yield
    # their specials at once, so that no sheet's XML is decompressed twice or held for long.
    specials_by_part: dict[str, dict[tuple[int, int], Special]] = {}
    for key in archive.members:
        if key in archive.verified or key in skipped_parts:
            continue
        if key in selected_parts:
            limits.check_size(archive.members[key], names.get(key, ""))
            xml = archive.inflate(key, keep=True)
            limits.check_extent(xml, names.get(key, ""))
            specials_by_part[key] = find_specials(xml, percent_styles)
            del xml
        else:
            archive.inflate(key, keep=False)

    known = dict(layout.sheets)
    result: list[Sheet] = []
    with _open_calamine(data) as book:
        kinds = {meta.name: meta.typ for meta in book.sheets_metadata}
        for name in book.sheet_names:
            if not wanted(name):
                result.append(Sheet(name, [], {}))
                continue
            if name not in known:
                # calamine names a sheet this module did not map: never let it parse unmeasured XML.
                for key in sorted(skipped_parts - limits.measured):
                    limits.check_size(archive.members[key], name)
                    limits.check_extent(archive.inflate(key, keep=True), name, key)
            part = known.get(name)
            special = specials_by_part.get(part, {}) if part else {}
            rows = _calamine_rows(book, name, kinds.get(name))
            _cover_specials(rows, special)
            result.append(Sheet(name, rows, special))
    links = sorted(key for key in archive.members if key.startswith(_EXTERNAL_LINKS) and key.endswith(".xml"))
    return Workbook(result, links)


@dataclass
class _Limits:
    """What one sheet may cost before calamine reads it; remembers the parts it measured."""

    max_part_bytes: int
    max_cells: int
    measured: set[str] = field(default_factory=set)

    def check_size(self, info: zipfile.ZipInfo, sheet: str) -> None:
        # The declared size is binding: inflating refuses a member that outgrows it.
        if info.file_size > self.max_part_bytes:
            raise WorkbookError(
                "too_large",
                f"{info.filename!r} holds {info.file_size} bytes of XML, more than {self.max_part_bytes}",
                sheet=sheet,
            )

    def check_extent(self, xml: bytes, sheet: str, key: str = "") -> None:
        extent = sheet_extent(xml)
        if key:
            self.measured.add(key)
        if extent.grid > self.max_cells or extent.cells > self.max_cells:
            raise WorkbookError(
                "too_large",
                f"{extent.rows} rows x {extent.columns} columns ({extent.cells} cells present), "
                f"more than {self.max_cells} cells",
                sheet=sheet,
            )


def _refuse_macros(archive: _Archive) -> None:
    """Macro-enabled content (VBA projects, Excel 4 macro sheets) has no place in a data report."""
    for key in archive.members:
        base = key.rsplit("/", 1)[-1]
        if base in ("vbaproject.bin", "vbadata.xml") or key.startswith("xl/macrosheets/"):
            raise WorkbookError("not_a_workbook", f"macro-enabled content ({key})", reason="macros")
    if _CONTENT_TYPES in archive.members:
        types = archive.inflate(_CONTENT_TYPES, keep=True)
        if b"macroenabled" in types.lower() or b"vbaproject" in types.lower():
            raise WorkbookError("not_a_workbook", "content types declare a macro-enabled workbook", reason="macros")


# --------------------------------------------------------------------------------------------
# The archive: checked before anything is parsed


class _Archive:
    """A zip whose members are only ever decompressed through bounded, verified reads."""

    def __init__(self, data: bytes, max_uncompressed: int) -> None:
        self.data = data
        self.view = memoryview(data)
        self.verified: set[str] = set()
        if not data:
            raise _refuse("empty file")
        if data[:4] != b"PK\x03\x04":
            raise _refuse(f"not a zip archive ({_sniff(data)})")
        try:
            infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            ValueError,
            OSError,
            EOFError,
            struct.error,
            NotImplementedError,
        ) as exc:
            raise _refuse(f"damaged or truncated zip archive: {exc}") from exc
        if len(infos) > MAX_MEMBERS:
            raise _refuse(f"{len(infos)} zip members, more than {MAX_MEMBERS}")
        self.members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            key = info.filename.replace("\\", "/").lstrip("/").lower()
            if key in self.members:
                raise _refuse(f"zip member {info.filename!r} appears twice")
            if info.flag_bits & 0x1:
                raise _refuse(f"zip member {info.filename!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _refuse(f"zip member {info.filename!r} uses compression method {info.compress_type}")
            total += info.file_size
            if total > max_uncompressed:
                raise _refuse(f"declared uncompressed size exceeds {max_uncompressed} bytes (zip bomb?)")
            if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _refuse(
                    f"zip member {info.filename!r} declares a compression ratio above {MAX_RATIO}:1 "
                    f"({info.file_size} from {info.compress_size} bytes; zip bomb?)"
                )
            self.members[key] = info
        if _WORKBOOK_PART not in self.members:
            raise _refuse("zip archive without xl/workbook.xml (not an .xlsx: .ods, .xlsb, .docx...?)")

    def inflate(self, key: str, *, keep: bool) -> bytes:
        """Decompress one member in chunks, refusing it the moment it outgrows its declared size.

        XML members are scanned for DTD markup on the way. Returns the bytes when ``keep``.
        """
        info = self.members[key]
        if key not in self.verified:
            collect = keep and info.file_size <= _KEEP_WHILE_VERIFYING
            parts = self._verify(info, scan=key.endswith(_XML_SUFFIXES), collect=collect)
            self.verified.add(key)
            if collect:
                return b"".join(parts)
        if not keep:
            return b""
        # Verified: the real size is the declared one, so one bounded pass gives it all back.
        return b"".join(self._chunks(info))

    def _verify(self, info: zipfile.ZipInfo, *, scan: bool, collect: bool) -> list[bytes]:
        scanner = _DeclarationScanner(info.filename) if scan else None
        parts: list[bytes] = []
        size = 0
        crc = 0
        for chunk in self._chunks(info):
            size += len(chunk)
            if size > info.file_size:
                raise _refuse(f"zip member {info.filename!r} is larger than its header declares (zip bomb?)")
            crc = zlib.crc32(chunk, crc)
            if scanner is not None:
                scanner.feed(chunk)
            if collect:
                parts.append(chunk)
        if size != info.file_size or crc != info.CRC:
            raise _refuse(f"zip member {info.filename!r} is damaged (size or CRC mismatch)")
        return parts

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        offset = info.header_offset
        header = self.data[offset : offset + 30]
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise _refuse(f"zip member {info.filename!r} has no local header")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        start = offset + 30 + name_len + extra_len
        end = start + info.compress_size
        if end > len(self.data):
            raise _refuse(f"zip member {info.filename!r} is truncated")
        raw = self.view[start:end]
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise _refuse(f"stored zip member {info.filename!r} has inconsistent sizes")
            for pos in range(0, len(raw), _OUT_CHUNK):
                yield bytes(raw[pos : pos + _OUT_CHUNK])
            return
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            for pos in range(0, len(raw), _IN_CHUNK):
                pending: bytes | memoryview = raw[pos : pos + _IN_CHUNK]
                while pending and not inflater.eof:
                    out = inflater.decompress(pending, _OUT_CHUNK)
                    pending = inflater.unconsumed_tail
                    if out:
                        yield out
                if inflater.eof:
                    break
            while not inflater.eof:
                out = inflater.decompress(b"", _OUT_CHUNK)
                if not out:
                    break
                yield out
        except zlib.error as exc:
            raise _refuse(f"zip member {info.filename!r} is not valid deflate data: {exc}") from exc
        if not inflater.eof:
            raise _refuse(f"zip member {info.filename!r} ends before its compressed stream does")


_DECLARATION = re.compile(rb"<![A-Za-z]")


class _DeclarationScanner:
    """Finds ``<!DOCTYPE``, ``<!ENTITY`` (any ``<!`` + letter) in streamed chunks, split or not.

    Comments (``<!--``) and CDATA (``<![``) stay allowed; a DTD never does.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.tail = b""
        self.first = True

    def feed(self, chunk: bytes) -> None:
        if self.first and chunk:
            self.first = False
            head = chunk[:4]
            if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
                raise _refuse(f"XML part {self.name!r} is not UTF-8 encoded")
        seam = self.tail + chunk[:2]
        if _DECLARATION.search(seam) or _DECLARATION.search(chunk):
            raise _refuse(f"XML part {self.name!r} contains a DTD or entity declaration")
        self.tail = (self.tail + chunk)[-2:] if len(chunk) < 2 else chunk[-2:]


def _sniff(data: bytes) -> str:
    """A hint for the logs about what was uploaded instead."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an OLE2 file: .xls or a password-protected workbook"
    if data.startswith(b"%PDF"):
        return "a PDF file"
    return "unrecognized content"


# --------------------------------------------------------------------------------------------
# Workbook structure: sheet names -> parts, styles


@dataclass
class _Layout:
    sheets: list[tuple[str, str | None]]  # (sheet name, member key of its part) in workbook order
    styles: str | None


def _parse_xml(blob: bytes, name: str) -> ElementTree.Element:
    """Parse a small, already scanned XML part; defusedxml refuses DTDs and entities once more."""
    try:
        root: ElementTree.Element = _defused_fromstring(
            blob, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise _refuse(f"XML part {name!r} is not well-formed: {exc}") from exc


def _read_layout(archive: _Archive) -> _Layout:
    workbook = _parse_xml(archive.inflate(_WORKBOOK_PART, keep=True), _WORKBOOK_PART)
    targets: dict[str, str] = {}
    styles: str | None = None
    if _WORKBOOK_RELS in archive.members:
        rels = _parse_xml(archive.inflate(_WORKBOOK_RELS, keep=True), _WORKBOOK_RELS)
        for rel in rels.iterfind(".//{*}Relationship"):
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External" or not target:
                continue
            key = _resolve_target(target, archive)
            targets[rel.get("Id") or ""] = key
            if (rel.get("Type") or "").endswith("/styles"):
                styles = key
    if styles is None and "xl/styles.xml" in archive.members:
        styles = "xl/styles.xml"
    sheets: list[tuple[str, str | None]] = []
    for sheet in workbook.iterfind(".//{*}sheets/{*}sheet"):
        rid = next(
            (value for attr, value in sheet.attrib.items() if attr.startswith("{") and attr.endswith("}id")), None
        )
        part = targets.get(rid) if rid else None
        sheets.append((sheet.get("name") or "", part if part in archive.members else None))
    return _Layout(sheets, styles)


def _resolve_target(target: str, archive: _Archive) -> str:
    """Relationship target (relative to xl/, or absolute) -> member key."""
    target = unquote(target).replace("\\", "/")
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    key = posixpath.normpath(path).lstrip("/").lower()
    if key not in archive.members and not target.startswith("/") and target.lower().startswith("xl/"):
        key = posixpath.normpath(target).lower()  # producers that write root-relative targets
    return key


def _percent_styles(styles: ElementTree.Element) -> frozenset[int]:
    """Indexes into cellXfs whose number format scales by 100 and shows a percent sign."""
    custom: dict[int, str] = {}
    fmts = styles.find("{*}numFmts")
    if fmts is not None:
        for fmt in fmts.iterfind("{*}numFmt"):
            try:
                custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
            except ValueError:
                continue
    xfs = styles.find("{*}cellXfs")
    if xfs is None:
        return frozenset()
    found: set[int] = set()
    for index, xf in enumerate(xfs.iterfind("{*}xf")):
        try:
            fmt_id = int(xf.get("numFmtId", "0"))
        except ValueError:
            continue
        code = custom.get(fmt_id)
        if (code is not None and is_percent_format(code)) or (code is None and fmt_id in (9, 10)):
            found.add(index)
    return frozenset(found)


def is_percent_format(code: str) -> bool:
    """True when a number format code has a ``%`` that scales (not quoted, escaped or a fill)."""
    i = 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            if end < 0:
                return False
            i = end + 1
        elif ch in "\\_*":
            i += 2
        elif ch == "[":
            end = code.find("]", i + 1)
            if end < 0:
                return False
            i = end + 1
        elif ch == "%":
            return True
        else:
            i += 1
    return False


# --------------------------------------------------------------------------------------------
# Specials: what calamine hides, found by byte-level scans of the sheet XML


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


# --------------------------------------------------------------------------------------------
# calamine


class _Calamine:
    """Opens calamine on verified bytes, turning any failure of it into not_a_workbook."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.book: CalamineWorkbook | None = None

    def __enter__(self) -> CalamineWorkbook:
        try:
            self.book = CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as exc:  # pyo3 panics derive from BaseException
            raise _refuse(f"calamine cannot open the workbook: {exc}") from exc
        return self.book

    def __exit__(self, *exc_info: object) -> None:
        if self.book is not None:
            self.book.close()


def _open_calamine(data: bytes) -> _Calamine:
    return _Calamine(data)


def _calamine_rows(book: CalamineWorkbook, name: str, kind: SheetTypeEnum | None) -> list[list[Any]]:
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as exc:
        if kind is not None and kind != SheetTypeEnum.WorkSheet:
            return []  # chart and dialog sheets hold no cells
        raise _refuse(f"calamine cannot read sheet {name!r}: {exc}") from exc


def _cover_specials(rows: list[list[Any]], special: dict[tuple[int, int], Special]) -> None:
    """Make sure every special cell exists in ``rows`` (as ''), so row-wise readers meet it."""
    if not special:
        return
    if rows and max(r for r, _ in special) < len(rows) and max(c for _, c in special) < min(map(len, rows)):
        return  # calamine's rectangle already holds them all
    for r, c in special:
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
