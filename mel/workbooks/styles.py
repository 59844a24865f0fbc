"""Which cell styles show a number as a percent, so that ``0.45`` shown as ``45 %`` is told apart."""

from __future__ import annotations

from xml.etree import ElementTree

from mel.workbooks.zip_guard import Archive, parse_xml


def read_percent_styles(archive: Archive, part: str | None) -> frozenset[int]:
    """The percent styles of the styles part ``part`` (none when the workbook has none)."""
    if not part or part not in archive.members:
        return frozenset()
    return _percent_styles(parse_xml(archive.inflate(part, keep=True), part))


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
