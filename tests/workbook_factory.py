"""Hand-built workbooks for the reader's tests: openpyxl files, raw zips with lying headers, bombs.

Workbooks are built here: with openpyxl where it writes what a spreadsheet program would, and by
hand (zipfile, or a raw zip writer for lying headers) where a file must hold what openpyxl cannot
write: cached formula values, error cells, namespace prefixes, bombs.
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest

from mel.workbooks.book import Sheet, Special, WorkbookError
from mel.workbooks.reader import read_workbook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MB = 1_000_000
MAX = 50 * MB

ERROR = "error"
NO_VALUE = Special("formula_without_value")
PERCENT = Special("percent")


# ---------------------------------------------------------------------------------------------
# Builders


def worksheet(rows: str, prefix: str = "") -> str:
    """A worksheet part around some <row> elements (with an optional namespace prefix)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<{p}worksheet {xmlns} xmlns:r="{DOC_REL_NS}"><{p}dimension ref="A1"/>'
        f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"
    )


def styles(xf_formats: list[int], custom: dict[int, str] | None = None) -> str:
    """styles.xml whose cellXfs[i] uses number format xf_formats[i]."""
    fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{code}"/>' for i, code in (custom or {}).items())
    xfs = "".join(f'<xf numFmtId="{f}" fontId="0" fillId="0" borderId="0" xfId="0"/>' for f in xf_formats)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN_NS}">'
        f'<numFmts count="{len(custom or {})}">{fmts}</numFmts>'
        '<fonts count="1"><font><sz val="11"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xf_formats)}">{xfs}</cellXfs></styleSheet>'
    )


def xlsx(
    sheets: list[tuple[str, str | bytes]],
    *,
    styles_xml: str | None = None,
    workbook_xml: str | None = None,
    extra: dict[str, bytes | str] | None = None,
    stored: set[str] | None = None,
) -> bytes:
    """A hand-built .xlsx: (sheet name, worksheet XML) in order, plus optional parts."""
    names = "".join(
        f'<sheet name="{_attr(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(sheets, 1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{DOC_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    if styles_xml is not None:
        rels += f'<Relationship Id="rIdS" Type="{DOC_REL_NS}/styles" Target="styles.xml"/>'
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{DOC_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": workbook_xml
        or (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}">'
            f"<sheets>{names}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">{rels}</Relationships>'
        ),
    }
    for i, (_, xml) in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    if styles_xml is not None:
        parts["xl/styles.xml"] = styles_xml
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            method = zipfile.ZIP_STORED if name in (stored or set()) else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=method)
    return buffer.getvalue()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def one_sheet(rows: str, *, styles_xml: str | None = None, prefix: str = "") -> bytes:
    return xlsx([("Sheet1", worksheet(rows, prefix))], styles_xml=styles_xml)


def openpyxl_bytes(build: Callable[[Any], None]) -> bytes:
    """Let ``build`` fill a fresh openpyxl workbook's active sheet; return the saved .xlsx."""
    book = openpyxl.Workbook()
    build(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def read_one(data: bytes) -> Sheet:
    book = read_workbook(data, max_bytes=MAX)
    assert len(book.sheets) == 1
    return book.sheets[0]


@dataclass
class RawEntry:
    """A zip member written as-is: payload already compressed, sizes and CRC as declared."""

    name: str
    payload: bytes
    method: int
    crc: int
    size: int


def raw_zip(entries: list[RawEntry]) -> bytes:
    """A zip whose headers say exactly what the test wants them to say, true or not."""
    out = io.BytesIO()
    central = io.BytesIO()
    for entry in entries:
        name = entry.name.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0,
                entry.method,
                0,
                0x21,
                entry.crc,
                len(entry.payload),
                entry.size,
                len(name),
                0,
            )
        )
        out.write(name)
        out.write(entry.payload)
        central.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                entry.method,
                0,
                0x21,
                entry.crc,
                len(entry.payload),
                entry.size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(name)
    start = out.tell()
    out.write(central.getvalue())
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central.getvalue()), start, 0)
    )
    return out.getvalue()


def raw_entries(data: bytes) -> list[RawEntry]:
    """The members of a real .xlsx as honest raw entries, to tamper with one of them."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            squeezer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            payload = squeezer.compress(content) + squeezer.flush()
            entries.append(RawEntry(info.filename, payload, zipfile.ZIP_DEFLATED, zlib.crc32(content), len(content)))
    return entries


def replace_member(data: bytes, entry: RawEntry) -> bytes:
    entries = [e for e in raw_entries(data) if e.name != entry.name]
    return raw_zip([*entries, entry])


def deflated_fill(mib: int, fill: bytes = b" ") -> bytes:
    """A raw deflate stream of ``mib`` MiB of one byte, built without ever holding them (~1 KB per MiB).

    Spaces by default: blank XML passes every content check, so only size checks can stop it.
    """
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    megabyte = fill * (1 << 20)
    first = squeezer.compress(megabyte) + squeezer.flush(zlib.Z_FULL_FLUSH)
    block = squeezer.compress(megabyte) + squeezer.flush(zlib.Z_FULL_FLUSH)
    return first + block * (mib - 1) + squeezer.flush()


def refused_quickly(data: bytes, **kwargs: Any) -> WorkbookError:
    """Read ``data``, expecting not_a_workbook within 5 s and 300 MB of Python allocations."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(WorkbookError) as caught:
            read_workbook(data, max_bytes=len(data) + 1, **kwargs)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "not_a_workbook"
    assert elapsed < 5.0, f"took {elapsed:.2f} s"
    assert peak < 300 * MB, f"peak {peak / MB:.0f} MB"
    return caught.value


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
BILLION_LAUGHS_SHEET = worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>').replace(
    "?>\n", "?>\n" + LAUGHS, 1
)
