"""`mel template`: write a partner's blank quarterly-report workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mel.core.db import make_engine, make_sessionmaker
from mel.core.i18n import LANGUAGES, t
from mel.core.settings import Settings
from mel.results.prefill import build_template
from mel.workbooks.spec import SpecError


def template(
    partner: Annotated[str, typer.Option(help="Partner code, e.g. ilo.")],
    period: Annotated[str, typer.Option(help="Calendar quarter, e.g. 2021Q3.")],
    out: Annotated[Path, typer.Option(help="Where to write the .xlsx file.")],
    lang: Annotated[str, typer.Option(help="Workbook language: en or es.")] = "en",
) -> None:
    """Write the blank quarterly-report template of a partner for a period."""
    if lang not in LANGUAGES:
        typer.echo(t("en", "Unknown language {code}: use en or es.", code=lang), err=True)
        raise typer.Exit(2)
    engine = make_engine(Settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            data = build_template(session=session, partner_code=partner, period=period, lang=lang)
    except SpecError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    out.write_bytes(data)
    typer.echo(t(lang, "Wrote {path}", path=str(out)))
