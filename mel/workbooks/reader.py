"""Read an uploaded .xlsx into plain rows, safely and fast, and recover what calamine hides.

calamine (python-calamine) is the fast reader. Uploads are untrusted: the archive is checked first
(``mel.workbooks.zip_guard``), the sheets are mapped to their parts (``mel.workbooks.layout``), and
the sheets read are scanned for what calamine hides (``mel.workbooks.xml_scan``, with the percent
styles of ``mel.workbooks.styles``). This is the only module that knows calamine.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from python_calamine import CalamineWorkbook, SheetTypeEnum

from mel.workbooks.book import Sheet, Special, Workbook, WorkbookError, refuse
from mel.workbooks.layout import read_layout
from mel.workbooks.styles import read_percent_styles
from mel.workbooks.xml_scan import find_specials
from mel.workbooks.zip_guard import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_PART_BYTES,
    Archive,
    Limits,
    external_links,
    refuse_macros,
)

__all__ = ["read_workbook"]


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
    archive = Archive(data, max_uncompressed_bytes)
    refuse_macros(archive)
    layout = read_layout(archive)
    wanted = sheets or (lambda _name: True)
    selected_parts = {part for name, part in layout.sheets if part and wanted(name)}
    skipped_parts = {part for name, part in layout.sheets if part and not wanted(name)} - selected_parts
    names = {part: name for name, part in reversed(layout.sheets) if part}
    limits = Limits(max_part_bytes, max_cells)
    shared = "xl/sharedstrings.xml"
    if shared in archive.members:
        limits.check_size(archive.members[shared], "")

    percent_styles = read_percent_styles(archive, layout.styles)

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
    return Workbook(result, external_links(archive))


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
            raise refuse(f"calamine cannot open the workbook: {exc}") from exc
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
        raise refuse(f"calamine cannot read sheet {name!r}: {exc}") from exc


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
