"""mel.workbooks.reader: rows aligned to real cell names, what calamine hides, and hostile uploads.

Workbooks are built here: with openpyxl where it writes what a spreadsheet program would, and by
hand (zipfile, or a raw zip writer for lying headers) where a file must hold what openpyxl cannot
write: cached formula values, error cells, namespace prefixes, bombs.
"""

from __future__ import annotations

import io
import random
import re
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
from openpyxl.chart import BarChart, Reference

from mel.workbooks import xml_scan, zip_guard
from mel.workbooks.book import Sheet, Special, WorkbookError, cell_name, column_letter
from mel.workbooks.reader import read_workbook
from mel.workbooks.styles import is_percent_format

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


@pytest.fixture(scope="module")
def base_xlsx() -> bytes:
    return one_sheet('<row r="1"><c r="A1"><v>1</v></c></row>')


@pytest.fixture(scope="module")
def ten_mb_bomb() -> bytes:
    """About 10 MB of deflate data that inflates to about 10 GB of spaces."""
    stream = deflated_fill(9_700)
    assert 9 * MB < len(stream) < 11 * MB
    return stream


# ---------------------------------------------------------------------------------------------
# Cell names


@pytest.mark.parametrize(
    ("row", "col", "name"),
    [
        (0, 0, "A1"),
        (11, 5, "F12"),
        (0, 25, "Z1"),
        (0, 26, "AA1"),
        (0, 27, "AB1"),
        (9, 51, "AZ10"),
        (0, 52, "BA1"),
        (0, 701, "ZZ1"),
        (0, 702, "AAA1"),
        (1_048_575, 16_383, "XFD1048576"),
    ],
)
def test_cell_name(row: int, col: int, name: str) -> None:
    assert cell_name(row, col) == name


def test_column_letter_round_trips_and_refuses_negative() -> None:
    assert [column_letter(c) for c in (0, 1, 25, 26, 701, 702)] == ["A", "B", "Z", "AA", "ZZ", "AAA"]
    assert len({column_letter(c) for c in range(20_000)}) == 20_000
    with pytest.raises(ValueError):
        column_letter(-1)
    with pytest.raises(ValueError):
        cell_name(-1, 0)


# ---------------------------------------------------------------------------------------------
# Rows


def test_rows_start_at_a1_when_data_starts_at_c5() -> None:
    def build(book: Any) -> None:
        sheet = book.active
        sheet.title = "Indicators"
        sheet["C5"] = "indicator"
        sheet["D5"] = "value"
        sheet["C6"] = "1.1.a"
        sheet["E7"] = 7

    sheet = read_one(openpyxl_bytes(build))
    assert sheet.name == "Indicators"
    assert all(value == "" for row in sheet.rows[:4] for value in row)
    assert sheet.rows[4][2] == "indicator"
    assert sheet.rows[4][3] == "value"
    assert sheet.rows[5][2] == "1.1.a"
    assert sheet.rows[6][4] == 7
    assert cell_name(4, 2) == "C5"
    assert sheet.special == {}


def test_sheet_names_order_and_predicate() -> None:
    data = xlsx(
        [
            ("Portada", worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Socio</t></is></c></row>')),
            ("Región & Co", worksheet('<row r="2"><c r="B2" t="e"><v>#REF!</v></c></row>')),
            ("Notas", worksheet('<row r="1"><c r="A1" t="e"><v>#N/A</v></c></row>')),
        ]
    )
    everything = read_workbook(data, max_bytes=MAX)
    assert [s.name for s in everything.sheets] == ["Portada", "Región & Co", "Notas"]
    assert everything.sheets[2].special_at(0, 0) == Special("error", "#N/A")

    chosen = read_workbook(data, max_bytes=MAX, sheets=lambda name: name != "Notas")
    assert [s.name for s in chosen.sheets] == ["Portada", "Región & Co", "Notas"]
    assert chosen.sheets[0].rows[0][0] == "Socio"
    assert chosen.sheets[1].special_at(1, 1) == Special("error", "#REF!")
    assert chosen.sheets[2].rows == []
    assert chosen.sheets[2].special == {}


def test_unselected_sheet_is_never_parsed_so_its_dtd_does_not_matter() -> None:
    data = xlsx(
        [
            ("Cover", worksheet('<row r="1"><c r="A1"><v>1</v></c></row>')),
            ("Junk", BILLION_LAUGHS_SHEET),
        ]
    )
    with pytest.raises(WorkbookError):
        read_workbook(data, max_bytes=MAX)
    book = read_workbook(data, max_bytes=MAX, sheets=lambda name: name == "Cover")
    assert book.sheets[0].rows == [[1.0]]
    assert book.sheets[1].rows == []


def test_chartsheet_reads_as_empty() -> None:
    def build(book: Any) -> None:
        sheet = book.active
        sheet.title = "Data"
        for i in range(1, 4):
            sheet.append([i])
        chart = BarChart()
        chart.add_data(Reference(sheet, min_col=1, min_row=1, max_row=3))
        book.create_chartsheet("Chart").add_chart(chart)

    book = read_workbook(openpyxl_bytes(build), max_bytes=MAX)
    assert [s.name for s in book.sheets] == ["Data", "Chart"]
    assert [row[0] for row in book.sheets[0].rows] == [1, 2, 3]
    assert book.sheets[1].rows == []


# ---------------------------------------------------------------------------------------------
# Percent number formats


def test_percent_formats_written_by_openpyxl() -> None:
    formats = {
        2: "0%",
        3: "0.0%",
        4: "0.00%",
        5: "#,##0.0%",
        6: "0%;[Red]-0%",  # percent
        7: "General",
        8: '0.0"%"',
        9: "0\\%",
        10: "0.00",
        11: "0_%",
        12: "[$-409]0",  # not percent
    }

    def build(book: Any) -> None:
        sheet = book.active
        for row, fmt in formats.items():
            sheet.cell(row, 1, fmt)
            sheet.cell(row, 2, 0.45).number_format = fmt
        sheet.cell(13, 2, "45%").number_format = "0%"  # text in a percent cell stays text
        sheet.cell(14, 2, 1).number_format = "0%"  # an int shown as 100 %
        sheet.cell(15, 2).number_format = "0%"  # styled but empty

    data = openpyxl_bytes(build)
    sheet = read_one(data)
    flagged = {r + 1 for (r, c), special in sheet.special.items() if c == 1 and special == PERCENT}
    assert flagged == {2, 3, 4, 5, 6, 14}
    assert all(sheet.rows[r - 1][1] == 0.45 for r in formats)  # values are left as calamine gives them
    assert sheet.rows[12][1] == "45%"
    assert sheet.special_at(14, 1) is None
    assert set(sheet.special.values()) == {PERCENT}


@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0%", True),
        ("0.0%", True),
        ('#,##0.00 "pts";-0%', True),
        ("[Blue]0%", True),
        ("%0", True),
        ('0"%"', False),
        ("0\\%", False),
        ("0_%", False),
        ("0*%", False),
        ("[$%-409]0", False),
        ('"100%"', False),
        ("General", False),
        ("", False),
        ('"unterminated%', False),
    ],
)
def test_is_percent_format(code: str, percent: bool) -> None:
    assert is_percent_format(code) is percent


def test_percent_style_found_in_any_attribute_form() -> None:
    rows = (
        '<row r="2">'
        '<c r="A2" s="1"><v>0.25</v></c>'  # canonical
        '<c s="1" r="B2"><v>0.5</v></c>'  # attributes in another order
        "<c r='C2' s='1' t='n'><v>0.75</v></c>"  # single quotes
        '<c r="D2"  s = "1" ><v>1</v></c>'  # spaces around '='
        '<c r="E2" s="1"><f>A2*2</f><v>0.5</v></c>'  # formula with a cached value
        '<c r="F2" s="2"><v>0.25</v></c>'  # a custom percent format
        '<c r="G2" s="3"><v>0.25</v></c>'  # a non-percent format
        '<c r="H2"><v>0.25</v></c>'  # default style
        '<c r="I2" s="1" t="inlineStr"><is><t>0.5</t></is></c>'  # text with a percent style
        '<c r="J2" s="1"/>'  # styled, empty
        '<c r="K2" s="1"><v></v></c>'  # styled, empty value
        '<c r="L2" s="1"><f>A2</f><v></v></c>'  # styled formula never computed: that is what matters
        "</row>"
    )
    sheet = read_one(one_sheet(rows, styles_xml=styles([0, 9, 164, 165], {164: "0.0%", 165: "0.0"})))
    assert sheet.special == {**{(1, c): PERCENT for c in range(6)}, (1, 11): NO_VALUE}


def test_percent_default_style_walks_every_cell() -> None:
    """When cellXfs[0] itself is a percent format, cells without s are percent too."""
    rows = (
        '<row r="1"><c r="A1"><v>0.3</v></c><c r="B1" s="1"><v>0.3</v></c>'
        '<c r="C1" t="inlineStr"><is><t>x</t></is></c><c r="D1" s="0"><v>1</v></c></row>'
    )
    sheet = read_one(one_sheet(rows, styles_xml=styles([9, 0])))
    assert sheet.special == {(0, 0): PERCENT, (0, 3): PERCENT}


# ---------------------------------------------------------------------------------------------
# Formulas and errors


def test_openpyxl_formula_has_no_cached_value() -> None:
    def build(book: Any) -> None:
        sheet = book.active
        sheet["A2"] = 3
        sheet["B2"] = "=A2*2"
        sheet["C2"] = 5

    data = openpyxl_bytes(build)
    xml = part(data, "xl/worksheets/sheet1.xml").decode()
    cell = re.search(r'<c r="B2"[^>]*>.*?</c>', xml)
    assert cell is not None and "<f>A2*2</f>" in cell.group()
    assert not re.search(r"<v>[^<]+</v>", cell.group())  # what openpyxl writes: no value

    sheet = read_one(data)
    assert sheet.rows[1] == [3, "", 5]
    assert sheet.special == {(1, 1): NO_VALUE}


def test_formulas_with_and_without_cached_values() -> None:
    rows = (
        '<row r="1">'
        '<c r="A1"><f>1+1</f><v>2</v></c>'  # computed
        '<c r="B1"><f>1+1</f></c>'  # never computed
        '<c r="C1"><f>1+1</f><v/></c>'  # computed? no: empty value
        '<c r="D1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'  # computed text
        '<c r="E1" t="str"><f>""</f><v></v></c>'  # computed, gave the empty string
        '<c r="F1" t="str"><f>"x"</f></c>'  # text formula, never computed
        '<c r="G1" t="b"><f>TRUE()</f><v>1</v></c>'
        '<c r="H1" t="inlineStr"><f>"q"</f><is><t>q</t></is></c>'
        "</row>"
        '<row r="2">'
        '<c r="A2"><f t="shared" ref="A2:A4" si="0">ROW()*2</f><v>4</v></c>'
        "</row>"
        '<row r="3"><c r="A3"><f t="shared" si="0"/><v>6</v></c></row>'
        '<row r="4"><c r="A4"><f t="shared" si="0"/></c></row>'
        '<row r="5"><c r="A5"><f t="array" ref="A5">SUM(A1:A4)</f>\n  <v></v>\n</c></row>'
    )
    sheet = read_one(one_sheet(rows))
    assert sheet.special == {(0, 1): NO_VALUE, (0, 2): NO_VALUE, (0, 5): NO_VALUE, (3, 0): NO_VALUE, (4, 0): NO_VALUE}
    assert sheet.rows[0][0] == 2
    assert sheet.rows[0][3] == "ab"
    assert sheet.rows[0][4] == ""
    assert sheet.rows[0][6] is True
    assert sheet.rows[0][7] == "q"
    assert [sheet.rows[r][0] for r in (1, 2)] == [4, 6]
    assert sheet.rows[0][1] == sheet.rows[0][2] == sheet.rows[3][0] == ""


def test_error_cells_are_kept_apart_from_empty_cells() -> None:
    rows = (
        '<row r="2">'
        '<c r="B2" t="e"><v>#DIV/0!</v></c>'
        '<c r="C2" s="0" t="e"><f>NA()</f><v>#N/A</v></c>'  # as LibreOffice writes it
        '<c r="D2" t="e"><f>A1+"x"</f><v>#VALUE!</v></c>'
        '<c r="E2" t="e"><f>#REF!+1</f><v>#REF!</v></c>'
        '<c r="F2"/>'  # empty cell
        '<c r="G2" t="inlineStr"><is><t></t></is></c>'  # empty text
        '<c r="I2" t="e"><f>1/0</f></c>'  # an error formula never computed
        "</row>"
    )
    sheet = read_one(one_sheet(rows))
    assert sheet.rows[1][1:8] == ["", "", "", "", "", "", ""]
    assert sheet.special_at(1, 1) == Special("error", "#DIV/0!")
    assert sheet.special_at(1, 2) == Special("error", "#N/A")
    assert sheet.special_at(1, 3) == Special("error", "#VALUE!")
    assert sheet.special_at(1, 4) == Special("error", "#REF!")
    assert sheet.special_at(1, 5) is None
    assert sheet.special_at(1, 6) is None
    assert sheet.special_at(1, 7) is None  # H2 is missing altogether
    assert sheet.special_at(1, 8) == NO_VALUE
    assert len(sheet.special) == 5


def test_special_cells_are_inside_rows_even_beyond_calamines_range() -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="3"><c r="D3" t="e"><v>#N/A</v></c></row>'
    sheet = read_one(one_sheet(rows))
    assert sheet.special == {(2, 3): Special("error", "#N/A")}
    assert sheet.rows[2][3] == ""
    assert sheet.rows[0][0] == 1


def test_namespace_prefixed_parts() -> None:
    rows = (
        '<x:row r="1"><x:c r="A1" t="e"><x:v>#DIV/0!</x:v></x:c><x:c r="B1"><x:f>1+1</x:f></x:c>'
        '<x:c r="C1" s="1"><x:v>0.45</x:v></x:c><x:c r="D1"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row>'
    )
    prefixed_styles = styles([0, 9]).replace("<styleSheet xmlns=", "<x:styleSheet xmlns:x=")
    prefixed_styles = re.sub(r"<(/?)(?!x:|\?)", r"<\1x:", prefixed_styles)
    sheet = read_one(one_sheet(rows, styles_xml=prefixed_styles, prefix="x"))
    assert sheet.special == {(0, 0): Special("error", "#DIV/0!"), (0, 1): NO_VALUE, (0, 2): PERCENT}
    assert sheet.rows[0] == ["", "", 0.45, 2]


def test_cells_without_r_are_placed_like_calamine_places_them() -> None:
    rows = (
        '<row><c><v>1</v></c><c><v>2</v></c><c t="e"><v>#N/A</v></c></row>'
        '<row r="4"><c><v>10</v></c><c t="e"><v>#DIV/0!</v></c><c r="E4"><v>5</v></c>'
        '<c s="1"><v>0.5</v></c><c><f>1</f></c></row>'
        "<row><c/><c><v>7</v></c></row>"
    )
    sheet = read_one(one_sheet(rows, styles_xml=styles([0, 10])))
    assert sheet.rows[0][:2] == [1, 2]
    assert sheet.rows[3][0] == 10 and sheet.rows[3][4] == 5 and sheet.rows[3][5] == 0.5
    assert sheet.rows[4][1] == 7
    assert sheet.special == {
        (0, 2): Special("error", "#N/A"),
        (3, 1): Special("error", "#DIV/0!"),
        (3, 5): PERCENT,
        (3, 6): NO_VALUE,
    }


def test_targeted_scan_agrees_with_the_full_walk() -> None:
    """White-box: the fast scan and the cell-by-cell walk must find the same things."""
    rng = random.Random(7)
    cells = []
    for r in range(1, 400):
        row = []
        for c in range(6):
            ref = f"{column_letter(c)}{r}"
            kind = rng.choice(["num", "pct", "err", "fnv", "fv", "str", "empty", "shared", "pct_f", "pct_fnv"])
            row.append(
                {
                    "num": f'<c r="{ref}"><v>{r}</v></c>',
                    "pct": f'<c r="{ref}" s="{rng.choice([1, 2])}"><v>0.{r}</v></c>',
                    "err": f'<c r="{ref}" t="e"><v>#N/A</v></c>',
                    "fnv": f'<c r="{ref}"><f>A1</f><v></v></c>',
                    "fv": f'<c r="{ref}" s="2"><f>A1</f><v>3</v></c>',
                    "str": f'<c r="{ref}" t="inlineStr"><is><t>a t="e" s="1" &lt;f&gt;</t></is></c>',
                    "empty": f'<c r="{ref}" s="1"/>',
                    "shared": f'<c r="{ref}"><f t="shared" si="1"/></c>',
                    "pct_f": f"<c r='{ref}' t='n' s='1'><f>B1</f><v>0.5</v></c>",
                    "pct_fnv": f'<c r="{ref}" s="1"><f>B1</f><v></v></c>',
                }[kind]
            )
        cells.append(f'<row r="{r}" s="1" customFormat="1">' + "".join(row) + "</row>")
    xml = worksheet("".join(cells)).encode()
    percent = frozenset({1, 2})
    lo = xml.index(b"<sheetData>") + len(b"<sheetData>")
    hi = xml.index(b"</sheetData>")
    grammar = xml_scan._grammar(b"")
    fast = xml_scan._scan_targeted(xml, lo, hi, grammar, percent)
    full = xml_scan._scan_all(xml, lo, hi, grammar, percent)
    assert fast is not None
    assert fast == full
    assert {s.kind for s in full.values()} == {"percent", "error", "formula_without_value"}
    assert xml_scan.find_specials(xml, percent) == full


# ---------------------------------------------------------------------------------------------
# Files that are not workbooks


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


NOT_WORKBOOKS = {
    "empty": b"",
    "random": random.Random(1).randbytes(5000),
    "csv": "indicador,región,valor\n1.1.a,Cusco,12\n1.1.b,Puno,3\n".encode(),
    "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000),
    "ods": _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
    "docx": _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}),
    "workbook_not_xml": _zip({"xl/workbook.xml": b"this is not xml"}),
}


@pytest.mark.parametrize("kind", sorted(NOT_WORKBOOKS))
def test_not_a_workbook(kind: str) -> None:
    with pytest.raises(WorkbookError) as caught:
        read_workbook(NOT_WORKBOOKS[kind], max_bytes=MAX)
    assert caught.value.code == "not_a_workbook"
    assert caught.value.detail
    assert str(caught.value).startswith("not_a_workbook")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_workbook(keep: float) -> None:
    data = openpyxl_bytes(lambda book: book.active.append(["a", 1, 2.5]))
    with pytest.raises(WorkbookError) as caught:
        read_workbook(data[: int(len(data) * keep)], max_bytes=MAX)
    assert caught.value.code == "not_a_workbook"


def test_damaged_member_is_refused(base_xlsx: bytes) -> None:
    entries = raw_entries(base_xlsx)
    sheet = next(e for e in entries if e.name == "xl/worksheets/sheet1.xml")
    sheet.crc ^= 1
    with pytest.raises(WorkbookError, match="CRC"):
        read_workbook(raw_zip(entries), max_bytes=MAX)


def test_duplicate_member_names_are_refused(base_xlsx: bytes) -> None:
    entries = raw_entries(base_xlsx)
    twin = next(e for e in entries if e.name == "xl/worksheets/sheet1.xml")
    data = raw_zip([*entries, RawEntry("XL/Worksheets/Sheet1.xml", twin.payload, twin.method, twin.crc, twin.size)])
    with pytest.raises(WorkbookError, match="twice"):
        read_workbook(data, max_bytes=MAX)


def test_file_too_large(base_xlsx: bytes) -> None:
    with pytest.raises(WorkbookError) as caught:
        read_workbook(base_xlsx, max_bytes=len(base_xlsx) - 1)
    assert caught.value.code == "file_too_large"
    assert read_workbook(base_xlsx, max_bytes=len(base_xlsx)).sheets[0].rows == [[1]]


# ---------------------------------------------------------------------------------------------
# Zip bombs


def test_declared_total_over_the_limit_is_refused() -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r * 7919 % 100_003}</v></c></row>' for r in range(1, 40_000))
    data = one_sheet(rows)
    assert len(read_one(data).rows) == 39_999
    error = refused_quickly(data, max_uncompressed_bytes=1 * MB)
    assert "declared uncompressed size" in error.detail


def test_ten_megabyte_bomb_with_honest_header(base_xlsx: bytes, ten_mb_bomb: bytes) -> None:
    bomb = RawEntry("xl/worksheets/sheet1.xml", ten_mb_bomb, zipfile.ZIP_DEFLATED, 0, 4_000_000_000)
    error = refused_quickly(replace_member(base_xlsx, bomb))
    assert "declared uncompressed size" in error.detail


def test_absurd_declared_ratio_is_refused(base_xlsx: bytes) -> None:
    stream = deflated_fill(300)  # 300 MiB in about 300 KB
    assert len(stream) < 400_000
    bomb = RawEntry("xl/worksheets/sheet1.xml", stream, zipfile.ZIP_DEFLATED, 0, 300 << 20)
    error = refused_quickly(replace_member(base_xlsx, bomb), max_uncompressed_bytes=10**10)
    assert "ratio" in error.detail


def test_ten_megabyte_bomb_with_lying_header(base_xlsx: bytes, ten_mb_bomb: bytes) -> None:
    """The header claims 1,000 bytes (with their CRC); the stream holds about 10 GB."""
    bomb = RawEntry("xl/worksheets/sheet1.xml", ten_mb_bomb, zipfile.ZIP_DEFLATED, zlib.crc32(b" " * 1000), 1000)
    error = refused_quickly(replace_member(base_xlsx, bomb))
    assert "larger than its header declares" in error.detail


def test_lying_header_with_plausible_size_is_not_held_in_memory(base_xlsx: bytes, ten_mb_bomb: bytes) -> None:
    """Declared 400 MiB (ratio 40:1, under the total limit): refused once the real size passes it."""
    bomb = RawEntry("xl/worksheets/sheet1.xml", ten_mb_bomb, zipfile.ZIP_DEFLATED, 0, 400 << 20)
    error = refused_quickly(replace_member(base_xlsx, bomb))
    assert "larger than its header declares" in error.detail


def test_lying_header_on_a_binary_member(base_xlsx: bytes) -> None:
    stream = deflated_fill(200, b"\0")
    bomb = RawEntry("xl/media/image1.png", stream, zipfile.ZIP_DEFLATED, zlib.crc32(bytes(1000)), 1000)
    error = refused_quickly(replace_member(base_xlsx, bomb))
    assert "image1.png" in error.detail


# ---------------------------------------------------------------------------------------------
# XML entity bombs and external entities

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
BILLION_LAUGHS_SHEET = worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>').replace(
    "?>\n", "?>\n" + LAUGHS, 1
)


def test_billion_laughs_in_a_sheet() -> None:
    assert "<!ENTITY lol9" in BILLION_LAUGHS_SHEET
    error = refused_quickly(xlsx([("Sheet1", BILLION_LAUGHS_SHEET)]))
    assert "DTD" in error.detail and "sheet1.xml" in error.detail


def test_billion_laughs_in_workbook_xml() -> None:
    workbook_xml = (
        f'<?xml version="1.0"?>{LAUGHS}<workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}">'
        '<sheets><sheet name="&lol9;" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    error = refused_quickly(xlsx([("Sheet1", worksheet(""))], workbook_xml=workbook_xml))
    assert "workbook.xml" in error.detail


def test_external_entity_in_styles_and_shared_strings() -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    sst = f'{xxe}<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&x;</t></si></sst>'
    with_sst = xlsx(
        [("Sheet1", worksheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))], extra={"xl/sharedStrings.xml": sst}
    )
    assert "sharedStrings.xml" in refused_quickly(with_sst).detail
    bad_styles = styles([0]).replace('<?xml version="1.0" encoding="UTF-8"?>', xxe)
    assert "styles.xml" in refused_quickly(one_sheet("", styles_xml=bad_styles)).detail


@pytest.mark.parametrize("shift", [1, 2, 3, 5])
def test_doctype_split_across_chunks(shift: int) -> None:
    """A stored part is read in _OUT_CHUNK slices: put the only '<!DOCTYPE' across a slice boundary."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    padding = " " * (zip_guard._OUT_CHUNK - shift - len(head))
    doctype = '<!DOCTYPE worksheet SYSTEM "http://example.invalid/evil.dtd">'
    xml = head + padding + doctype + worksheet('<row r="1"><c r="A1"><v>1</v></c></row>').split("?>\n", 1)[1]
    assert xml.index("<!") == zip_guard._OUT_CHUNK - shift
    assert xml.count("<!") == 1
    data = xlsx([("Sheet1", xml)], stored={"xl/worksheets/sheet1.xml"})
    assert "DTD" in refused_quickly(data).detail


def test_comments_and_cdata_are_not_mistaken_for_a_dtd() -> None:
    xml = worksheet('<!-- made by hand --><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x<y]]></t></is></c></row>')
    assert read_one(xlsx([("Sheet1", xml)])).rows == [["x<y"]]


def test_utf16_parts_are_refused() -> None:
    xml = worksheet('<row r="1"><c r="A1"><v>1</v></c></row>').replace("UTF-8", "UTF-16")
    data = xlsx([("Sheet1", xml.encode("utf-16"))])
    assert "UTF-8" in refused_quickly(data).detail
