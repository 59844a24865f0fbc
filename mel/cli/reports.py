"""``mel report due``: the reports to chase, for an officer or a daily cron job."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from sqlalchemy import select

from mel.catalog.models import Partnership
from mel.core import periods
from mel.core.db import make_engine, make_sessionmaker
from mel.core.settings import Settings
from mel.quality.reminders import Reminder, due_reports

app = typer.Typer(help="Quarterly reports.", no_args_is_help=True)


def _line(r: Reminder) -> str:
    contact = " ".join(part for part in (r.contact_name, f"<{r.contact_email}>" if r.contact_email else None) if part)
    when = {"due": f"due in {r.days} days", "late": f"late by {r.days} days", "returned": "returned for correction"}
    return f"{r.partnership}\t{r.partner}\t{r.period}\tdue {r.due.isoformat()}\t{when[r.state]}\t{contact or '-'}"


@app.command("due")
def due(
    partnership: Annotated[str | None, typer.Option(help="Partnership code (default: every partnership).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge as of this day, YYYY-MM-DD.")] = None,
) -> None:
    """Print the reports that are due, late or returned, one per line (tab-separated), with the partner's contact.

    Exits 0 whether or not something is due, so a cron job mails the output only when there is some.
    """
    settings = Settings()
    try:
        today = dt.date.fromisoformat(as_of) if as_of else periods.today()
    except ValueError as exc:
        typer.echo(f"--as-of: not a date (YYYY-MM-DD): {as_of}", err=True)
        raise typer.Exit(2) from exc
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            query = select(Partnership).order_by(Partnership.starts_on, Partnership.code)
            if partnership:
                query = query.where(Partnership.code == partnership)
            partnerships = session.scalars(query).all()
            if partnership and not partnerships:
                typer.echo(f"unknown partnership {partnership!r}", err=True)
                raise typer.Exit(2)
            for found in partnerships:
                for reminder in due_reports(session, found, today=today, due_days=settings.report_due_days):
                    typer.echo(_line(reminder))
    finally:
        engine.dispose()
