"""mel.workbooks.reader: files that are not workbooks, damaged zips and zip bombs are refused quickly."""

from __future__ import annotations

import io
import random
import zipfile
import zlib

import pytest

from mel.workbooks.book import WorkbookError
from mel.workbooks.reader import read_workbook
from tests.workbook_factory import (
    MAX,
    MB,
    RawEntry,
    deflated_fill,
    one_sheet,
    openpyxl_bytes,
    raw_entries,
    raw_zip,
    read_one,
    refused_quickly,
    replace_member,
)


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
