"""Saving openpyxl workbooks as reproducible bytes.

openpyxl stamps the zip members and the document properties with the current time, so the same
workbook saved twice gives different bytes. The importer recognizes an already stored file by
its SHA-256: generated files must therefore be byte-identical from one run to the next.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from openpyxl import Workbook

FIXED_TIME = dt.datetime(2022, 1, 1)
_ZIP_TIME = (2022, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def reproducible_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes that depend only on its content."""
    wb.properties.creator = "mel"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = None
    buffer = io.BytesIO()
    wb.save(buffer)
    return normalize_zip(buffer.getvalue())


def normalize_zip(data: bytes) -> bytes:
    """Rewrite an .xlsx archive with fixed member timestamps, keeping member order and content."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = _MODIFIED.sub(rb"\g<1>2022-01-01T00:00:00Z\g<2>", content)
            dst.writestr(member, content)
    return out.getvalue()
