"""Which exports exist and how one is produced: a table per kind, written in the chosen format."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.exports import comparison, iati, iptt, trainings, values
from mel.exports.options import ExportOptions
from mel.exports.writer import Table, write

KINDS = ("comparison", "iptt", "values", "trainings", "iati")
BUILDERS: dict[str, Callable[[Session, Partnership, ExportOptions], Table]] = {
    "comparison": comparison.build,
    "iptt": iptt.build,
    "values": values.build,
    "trainings": trainings.build,
}
FORMATS = {kind: ("csv", "xlsx", "json") for kind in BUILDERS} | {"iati": ("xml",)}
BINARY = ("xlsx", "xml")


class ExportError(ValueError):
    """An export that cannot be made as asked (unknown kind or format)."""


def default_format(kind: str) -> str:
    return "xml" if kind == "iati" else "csv"


def export(*, session: Session, kind: str, ship: Partnership, fmt: str, options: ExportOptions, out: IO[Any]) -> None:
    """Write the ``kind`` export of ``ship`` as ``fmt`` to ``out`` (binary for xlsx and xml, else text)."""
    if kind not in FORMATS:
        raise ExportError(f"unknown export {kind!r}: choose one of {', '.join(KINDS)}")
    if fmt not in FORMATS[kind]:
        raise ExportError(f"{kind} exports as {', '.join(FORMATS[kind])}, not {fmt}")
    if kind == "iati":
        out.write(iati.iati_xml(session, ship, options))
        return
    write(BUILDERS[kind](session, ship, options), fmt, out)


def file_name(ship: Partnership, kind: str, fmt: str) -> str:
    return f"{ship.code}-{kind}.{fmt}"
