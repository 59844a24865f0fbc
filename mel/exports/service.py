"""Which exports exist and how one is produced: a table per kind, written in the chosen format."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.exports import comparison, dhis2, figures, iati, iptt, trainings, values
from mel.exports.options import ExportOptions
from mel.exports.writer import Table, write

KINDS = ("comparison", "iptt", "values", "trainings", "figures", "iati", "dhis2")
BUILDERS: dict[str, Callable[[Session, Partnership, ExportOptions], Table]] = {
    "comparison": comparison.build,
    "iptt": iptt.build,
    "values": values.build,
    "trainings": trainings.build,
    "figures": figures.build,
}
FORMATS = (
    {kind: ("csv", "xlsx", "json") for kind in BUILDERS}
    | {"values": ("csv", "xlsx", "json", "parquet"), "figures": ("csv", "xlsx", "json", "parquet")}
    | {"iati": ("xml",), "dhis2": dhis2.FORMATS}
)
BINARY = ("xlsx", "xml", "parquet", "adx")


class ExportError(ValueError):
    """An export that cannot be made as asked (unknown kind or format)."""


def default_format(kind: str) -> str:
    return {"iati": "xml", "dhis2": "json"}.get(kind, "csv")


def export(
    *,
    session: Session,
    kind: str,
    partnership: Partnership,
    fmt: str,
    options: ExportOptions,
    out: IO[Any],
    bom: bool = False,
) -> list[str]:
    """Write the ``kind`` export of ``partnership`` as ``fmt`` to ``out`` (binary for ``BINARY`` formats, else text).

    ``bom`` starts a CSV with a UTF-8 byte-order mark, for spreadsheets (downloads, ``--excel``).
    Returns what the export left out and why, one line each (DHIS2: what the catalog does not map).
    """
    if kind not in FORMATS:
        raise ExportError(f"unknown export {kind!r}: choose one of {', '.join(KINDS)}")
    if fmt not in FORMATS[kind]:
        raise ExportError(f"{kind} exports as {', '.join(FORMATS[kind])}, not {fmt}")
    if kind == "iati":
        out.write(iati.iati_xml(session, partnership, options))
        return []
    if kind == "dhis2":
        try:
            return dhis2.write(session, partnership, fmt, options, out)
        except dhis2.Dhis2Error as exc:
            raise ExportError(str(exc)) from exc
    table = BUILDERS[kind](session, partnership, options)
    table.lang = options.lang
    if fmt == "parquet":
        from mel.exports.parquet import write_parquet  # pandas only when asked

        write_parquet(table, out)
    else:
        write(table, fmt, out, bom=bom)
    return []


def file_name(partnership: Partnership, kind: str, fmt: str) -> str:
    return f"{partnership.code}-{kind}.{fmt}"
