"""Which zip member holds each sheet, and which the styles: read from the workbook's own XML."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

from mel.workbooks.zip_guard import WORKBOOK_PART, Archive, parse_xml

_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


@dataclass
class Layout:
    """The sheets in workbook order with the member key of each one's part, and the styles part."""

    sheets: list[tuple[str, str | None]]  # (sheet name, member key of its part) in workbook order
    styles: str | None


def read_layout(archive: Archive) -> Layout:
    """Map sheet names to their parts through the workbook's relationships; external targets are skipped."""
    workbook = parse_xml(archive.inflate(WORKBOOK_PART, keep=True), WORKBOOK_PART)
    targets: dict[str, str] = {}
    styles: str | None = None
    if _WORKBOOK_RELS in archive.members:
        rels = parse_xml(archive.inflate(_WORKBOOK_RELS, keep=True), _WORKBOOK_RELS)
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
    return Layout(sheets, styles)


def _resolve_target(target: str, archive: Archive) -> str:
    """Relationship target (relative to xl/, or absolute) -> member key."""
    target = unquote(target).replace("\\", "/")
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    key = posixpath.normpath(path).lstrip("/").lower()
    if key not in archive.members and not target.startswith("/") and target.lower().startswith("xl/"):
        key = posixpath.normpath(target).lower()  # producers that write root-relative targets
    return key
