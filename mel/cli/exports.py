"""``mel export KIND --partnership CODE``: exports for scripts and evaluators' reports.

Text formats go to standard output unless ``--out`` is given; XLSX always needs ``--out``.
Small cells are suppressed unless ``--no-suppress`` (the operator already holds the database).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect

from mel.core.db import make_engine, make_sessionmaker
from mel.core.settings import Settings
from mel.exports.options import ExportOptions
from mel.exports.service import BINARY, FORMATS, KINDS, ExportError, default_format, export
from mel.results.progress import load_partnership


def export_command(
    kind: Annotated[str, typer.Argument(help=f"What to export: {', '.join(KINDS)}.")],
    partnership: Annotated[str, typer.Option("--partnership", help="Partnership code.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, xlsx, json; parquet (values, figures); xml (iati); json or adx (dhis2)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: standard output).")] = None,
    include_provisional: Annotated[
        bool, typer.Option("--include-provisional", help="Add values of reports awaiting review.")
    ] = False,
    no_suppress: Annotated[bool, typer.Option("--no-suppress", help="Raw values: no small-cell suppression.")] = False,
    dimension: Annotated[str | None, typer.Option(help="comparison: also one row per category of it.")] = None,
    pillar: Annotated[str | None, typer.Option(help="Only this pillar ('-' for cross-cutting results).")] = None,
    level: Annotated[str | None, typer.Option(help="comparison, iptt: impact, outcome or output.")] = None,
    partner: Annotated[str | None, typer.Option(help="trainings: one partner's code.")] = None,
    first: Annotated[str | None, typer.Option("--from", help="trainings, iptt: first quarter (2021Q1).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="trainings, iptt: last quarter.")] = None,
    granularity: Annotated[str, typer.Option(help="iptt, figures: quarter, fy or lop.")] = "fy",
    original_targets: Annotated[
        bool, typer.Option("--original-targets", help="iptt: the original target beside each revised one.")
    ] = False,
    lang: Annotated[str, typer.Option(help="Language of yes/no cells, and of names in the iptt (en or es).")] = "en",
    excel: Annotated[
        bool, typer.Option("--excel", help="csv: start with a UTF-8 byte-order mark, so Excel reads accents.")
    ] = False,
    reporting_org: Annotated[str | None, typer.Option(help="iati: reporting organisation identifier.")] = None,
    base_url: Annotated[str | None, typer.Option(help="iati: address of this mel for document links.")] = None,
) -> None:
    """Export comparison, iptt, values, trainings, figures (csv|xlsx|json; values and figures also parquet),
    iati (xml) or dhis2 (json|adx) of one partnership."""
    fmt = fmt or default_format(kind)
    if kind not in KINDS or fmt not in FORMATS.get(kind, ()):
        shapes = "; ".join(f"{k}: {'|'.join(f)}" for k, f in FORMATS.items())
        typer.echo(f"cannot export {kind} as {fmt}: {shapes}", err=True)
        raise typer.Exit(2)
    if fmt in ("xlsx", "parquet") and out is None:
        typer.echo(f"an {fmt} export needs --out FILE", err=True)
        raise typer.Exit(2)
    options = ExportOptions(
        include_provisional=include_provisional,
        suppress=not no_suppress,
        lang=lang,
        dimension=dimension,
        pillar=pillar,
        level=level,
        partner=partner,
        first_period=first,
        last_period=last,
        granularity=granularity,
        original_targets=original_targets,
    )
    if reporting_org:
        options = replace(options, reporting_org=reporting_org)
    if base_url:
        options = replace(options, base_url=base_url)
    engine = make_engine(Settings().database_url)
    try:
        if not inspect(engine).has_table("partnership"):
            typer.echo("no database: run `mel init` first", err=True)
            raise typer.Exit(2)
        with make_sessionmaker(engine)() as session:
            found = load_partnership(session, partnership)
            if found is None:
                typer.echo(f"unknown partnership {partnership!r}", err=True)
                raise typer.Exit(2)
            try:
                if out is None:
                    stream = sys.stdout.buffer if fmt in BINARY else sys.stdout
                    left_out = export(
                        session=session, kind=kind, partnership=found, fmt=fmt, options=options, out=stream, bom=excel
                    )
                    stream.flush()
                elif fmt in BINARY:
                    with out.open("wb") as fh:
                        left_out = export(
                            session=session, kind=kind, partnership=found, fmt=fmt, options=options, out=fh
                        )
                else:
                    with out.open("w", encoding="utf-8", newline="") as text:
                        left_out = export(
                            session=session, kind=kind, partnership=found, fmt=fmt, options=options, out=text, bom=excel
                        )
            except ExportError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from exc
            for line in left_out:
                typer.echo(f"not exported: {line}", err=True)
    finally:
        engine.dispose()
