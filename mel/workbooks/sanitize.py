"""Remove links to other files from a workbook before it is stored and served again.

An external link (``xl/externalLinks/``) points at another workbook, often on a network share
(``file:///\\\\host\\share``): whoever later downloads the stored original and opens it would have
Excel reach out to that address (and hand it their Windows credentials). The values a report
needs are the cells' cached values, which stay; only the link parts and the references to them go.
Call it only on an archive ``read_workbook`` has already verified (sizes, CRCs, no DTD).
"""

from __future__ import annotations

import io
import re
import zipfile

_LINK_DIR = "xl/externallinks/"
_EXTERNAL_REFERENCES = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?externalReferences(?:\s[^>]*)?(?:/>|>.*?</(?:[A-Za-z_][\w.\-]*:)?externalReferences\s*>)",
    re.S,
)
_LINK_RELATIONSHIP = re.compile(rb"<Relationship\s[^>]*?/externalLink[\"'][^>]*?/>", re.S)
_LINK_OVERRIDE = re.compile(rb"<Override\s[^>]*?PartName=[\"']/xl/externalLinks/[^>]*?/>", re.S | re.I)


def strip_external_links(data: bytes) -> bytes:
    """The same workbook without its external-link parts (``data`` itself when it has none)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    infos = source.infolist()
    if not any(info.filename.lower().startswith(_LINK_DIR) for info in infos):
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            key = info.filename.lower()
            if key.startswith(_LINK_DIR):
                continue
            blob = source.read(info)
            if key == "xl/workbook.xml":
                blob = _EXTERNAL_REFERENCES.sub(b"", blob)
            elif key == "xl/_rels/workbook.xml.rels":
                blob = _LINK_RELATIONSHIP.sub(b"", blob)
            elif key == "[content_types].xml":
                blob = _LINK_OVERRIDE.sub(b"", blob)
            clone = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            clone.external_attr = info.external_attr
            target.writestr(clone, blob, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
