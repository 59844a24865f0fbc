"""Check an untrusted .xlsx archive before anything parses its XML (calamine included).

Every member that may be parsed is decompressed here in bounded chunks: the archive is refused when
declared or real sizes are absurd (zip bombs, lying headers) or when an XML part carries a DTD
(entity bombs, external entities). Every sheet calamine will read is measured first
(``mel.workbooks.extent``): a sheet whose real extent or cell count passes the limit is refused
(``too_large``) before calamine could allocate its grid, and so is an XML part larger than the
per-part limit. Macro-enabled content is refused; parts that link to other files are listed.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

from mel.workbooks.book import WorkbookError, refuse
from mel.workbooks.extent import sheet_extent

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
WORKBOOK_PART = "xl/workbook.xml"
_CONTENT_TYPES = "[content_types].xml"
DEFAULT_MAX_CELLS = 3_000_000
"""Cells of one sheet's rectangle (rows x columns from A1), and cells present, read at most."""
DEFAULT_MAX_PART_BYTES = 500_000_000
"""Uncompressed bytes of one XML part that calamine parses (a sheet, the shared strings); imports pass
the smaller ``Settings.max_part_bytes``."""
_EXTERNAL_LINKS = "xl/externallinks/"


@dataclass
class Limits:
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


def refuse_macros(archive: Archive) -> None:
    """Macro-enabled content (VBA projects, Excel 4 macro sheets) has no place in a data report."""
    for key in archive.members:
        base = key.rsplit("/", 1)[-1]
        if base in ("vbaproject.bin", "vbadata.xml") or key.startswith("xl/macrosheets/"):
            raise WorkbookError("not_a_workbook", f"macro-enabled content ({key})", reason="macros")
    if _CONTENT_TYPES in archive.members:
        types = archive.inflate(_CONTENT_TYPES, keep=True)
        if b"macroenabled" in types.lower() or b"vbaproject" in types.lower():
            raise WorkbookError("not_a_workbook", "content types declare a macro-enabled workbook", reason="macros")


class Archive:
    """A zip whose members are only ever decompressed through bounded, verified reads."""

    def __init__(self, data: bytes, max_uncompressed: int) -> None:
        self.data = data
        self.view = memoryview(data)
        self.verified: set[str] = set()
        if not data:
            raise refuse("empty file")
        if data[:4] != b"PK\x03\x04":
            raise refuse(f"not a zip archive ({_sniff(data)})")
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
            raise refuse(f"damaged or truncated zip archive: {exc}") from exc
        if len(infos) > MAX_MEMBERS:
            raise refuse(f"{len(infos)} zip members, more than {MAX_MEMBERS}")
        self.members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            key = info.filename.replace("\\", "/").lstrip("/").lower()
            if key in self.members:
                raise refuse(f"zip member {info.filename!r} appears twice")
            if info.flag_bits & 0x1:
                raise refuse(f"zip member {info.filename!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise refuse(f"zip member {info.filename!r} uses compression method {info.compress_type}")
            total += info.file_size
            if total > max_uncompressed:
                raise refuse(f"declared uncompressed size exceeds {max_uncompressed} bytes (zip bomb?)")
            if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise refuse(
                    f"zip member {info.filename!r} declares a compression ratio above {MAX_RATIO}:1 "
                    f"({info.file_size} from {info.compress_size} bytes; zip bomb?)"
                )
            self.members[key] = info
        if WORKBOOK_PART not in self.members:
            raise refuse("zip archive without xl/workbook.xml (not an .xlsx: .ods, .xlsb, .docx...?)")

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
                raise refuse(f"zip member {info.filename!r} is larger than its header declares (zip bomb?)")
            crc = zlib.crc32(chunk, crc)
            if scanner is not None:
                scanner.feed(chunk)
            if collect:
                parts.append(chunk)
        if size != info.file_size or crc != info.CRC:
            raise refuse(f"zip member {info.filename!r} is damaged (size or CRC mismatch)")
        return parts

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        offset = info.header_offset
        header = self.data[offset : offset + 30]
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise refuse(f"zip member {info.filename!r} has no local header")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        start = offset + 30 + name_len + extra_len
        end = start + info.compress_size
        if end > len(self.data):
            raise refuse(f"zip member {info.filename!r} is truncated")
        raw = self.view[start:end]
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise refuse(f"stored zip member {info.filename!r} has inconsistent sizes")
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
            raise refuse(f"zip member {info.filename!r} is not valid deflate data: {exc}") from exc
        if not inflater.eof:
            raise refuse(f"zip member {info.filename!r} ends before its compressed stream does")


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
                raise refuse(f"XML part {self.name!r} is not UTF-8 encoded")
        seam = self.tail + chunk[:2]
        if _DECLARATION.search(seam) or _DECLARATION.search(chunk):
            raise refuse(f"XML part {self.name!r} contains a DTD or entity declaration")
        self.tail = (self.tail + chunk)[-2:] if len(chunk) < 2 else chunk[-2:]


def _sniff(data: bytes) -> str:
    """A hint for the logs about what was uploaded instead."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an OLE2 file: .xls or a password-protected workbook"
    if data.startswith(b"%PDF"):
        return "a PDF file"
    return "unrecognized content"


def parse_xml(blob: bytes, name: str) -> ElementTree.Element:
    """Parse a small, already scanned XML part; defusedxml refuses DTDs and entities once more."""
    try:
        root: ElementTree.Element = _defused_fromstring(
            blob, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise refuse(f"XML part {name!r} is not well-formed: {exc}") from exc


def external_links(archive: Archive) -> list[str]:
    """The parts that link the workbook to other files, sorted."""
    return sorted(key for key in archive.members if key.startswith(_EXTERNAL_LINKS) and key.endswith(".xml"))
