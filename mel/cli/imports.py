"""`mel import`: check and store workbooks from the command line (its --json output is a contract).

Each file is imported in its own worker process with memory and time limits (``mel.reports.worker``):
a file that exhausts them is rejected (``could_not_read``) and the next file is still imported.
Exit status: 0 when every file was accepted or was a duplicate, 1 when one was rejected, 2 for a
usage error (bad arguments, a missing file, no database or one not yet migrated). With ``--json``
one JSON object is printed per file, each on its own line: exactly one object for one file.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from mel.core.audit import CLI
from mel.core.db import make_engine
from mel.core.i18n import LANGUAGES, t
from mel.core.periods import parse_quarter
from mel.core.settings import Settings
from mel.reports.import_result import ImportResult
from mel.reports.parse_results import Issue
from mel.reports.worker import ImportRequest, run_isolated

STAGES = ("reading", "checking", "storing")


class _Bar:
    """A one-line progress bar on a terminal: stage name and a bar across the three stages."""

    def __init__(self, lang: str, name: str) -> None:
        self.lang = lang
        self.name = name
        self.shown = False

    def __call__(self, stage: str, fraction: float) -> None:
        done = (STAGES.index(stage) + fraction) / len(STAGES) if stage in STAGES else 0.0
        width = 30
        filled = round(done * width)
        label = {
            "reading": t(self.lang, "reading"),
            "checking": t(self.lang, "checking"),
            "storing": t(self.lang, "storing"),
        }
        sys.stdout.write(f"\r{self.name[:30]:30} [{'#' * filled}{'.' * (width - filled)}] {label.get(stage, stage):10}")
        sys.stdout.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stdout.write("\r" + " " * 80 + "\r")
            sys.stdout.flush()


def _usage(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


def _check_database(settings: Settings, lang: str) -> Engine:
    """An engine on a migrated database, or a usage error that says to run `mel init`."""
    url = make_url(settings.database_url)
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and not Path(str(url.database)).exists():
        raise _usage(t(lang, "No database at {url}: run `mel init` first.", url=settings.database_url))
    engine = make_engine(settings.database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        engine.dispose()
        raise _usage(t(lang, "Cannot open the database: {error}", error=str(exc).splitlines()[0])) from exc
    if not {"alembic_version", "submission", "partner"} <= tables:
        engine.dispose()
        raise _usage(t(lang, "The database is not initialized: run `mel init` first."))
    return engine


def import_command(
    files: Annotated[list[Path], typer.Argument(help="Workbooks (.xlsx) to import.", show_default=False)],
    partner: Annotated[str | None, typer.Option(help="Partner code; the cover must agree.")] = None,
    period: Annotated[str | None, typer.Option(help="Quarter, e.g. 2021Q3; the cover must agree.")] = None,
    partnership: Annotated[str | None, typer.Option(help="Partnership code (measurement workbooks).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; store nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per file.")] = False,
    lang: Annotated[str, typer.Option(help="Language of the messages: en or es.")] = "en",
    reason: Annotated[
        str | None, typer.Option(help="Why a new version of an already approved report is needed.")
    ] = None,
) -> None:
    """Check workbooks against the catalog and store them (quarterly reports or measurements)."""
    if lang not in LANGUAGES:
        raise _usage(t("en", "--lang must be one of: {choices}", choices=", ".join(LANGUAGES)))
    quarter = None
    if period is not None:
        quarter = parse_quarter(period)
        if quarter is None:
            raise _usage(t(lang, "--period {period} is not a quarter such as 2021Q3.", period=period))
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise _usage(t(lang, "No such file: {files}", files=", ".join(missing)))
    settings = Settings()
    _check_database(settings, lang).dispose()  # no connection open across the fork below
    # forking this process skips starting a forkserver that would import mel again (most of the
    # time of a small import); only safe while this process runs no other thread
    start_method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else None
    worst = 0
    for path in files:
        bar = _Bar(lang, path.name) if not as_json and sys.stdout.isatty() else None
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _usage(f"{path}: {exc.strerror}") from exc
        request = ImportRequest(
            data=data,
            filename=path.name,
            partner_code=partner,
            period=quarter,
            partnership_code=partnership,
            lang=lang,
            actor=CLI,
            dry_run=dry_run,
            reason=reason,
        )
        # a file that kills its worker is a rejection
        result = run_isolated(settings, request, progress=bar, start_method=start_method)
        if bar:
            bar.clear()
        if as_json:
            typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            _print_human(path, result, lang)
        worst = max(worst, 1 if result.status == "rejected" else 0)
    raise typer.Exit(worst)


def _print_human(path: Path, result: ImportResult, lang: str) -> None:
    status = {
        "accepted": t(lang, "accepted"),
        "rejected": t(lang, "rejected"),
        "duplicate": t(lang, "already imported (duplicate)"),
    }[result.status]
    if result.dry_run and result.status == "accepted":
        status = t(lang, "valid (dry run: nothing stored)")
    what = result.partner or ""
    if result.period:
        what += f" {result.period}"
    if result.version:
        what += " " + t(lang, "version {version}", version=result.version)
    typer.echo(f"{path.name}: {status}" + (f" - {what.strip()}" if what.strip() else ""))
    if result.status != "duplicate" and not result.errors:
        if result.kind == "measurements":
            typer.echo("  " + t(lang, "{n} measurements", n=len(result.measurements)))
        else:
            typer.echo(
                "  "
                + t(
                    lang,
                    "{values} values, {trainings} training rows, {narrative} narrative entries",
                    values=len(result.values),
                    trainings=len(result.trainings),
                    narrative=len(result.narrative),
                )
            )
    if result.errors:
        typer.echo(t(lang, "Errors ({n}): nothing was stored.", n=len(result.errors)))
        _table(result.errors)
    if result.warnings:
        typer.echo(t(lang, "Warnings ({n}):", n=len(result.warnings)))
        _table(result.warnings)
    if result.infos:
        typer.echo(t(lang, "Information ({n}):", n=len(result.infos)))
        _table(result.infos)


def _table(issues: list[Issue]) -> None:
    """`sheet!cell  code  message`, aligned."""
    places = [f"{i.sheet}!{i.cell}" if i.cell else i.sheet for i in issues]
    width_place = max((len(p) for p in places), default=0)
    width_code = max((len(i.code) for i in issues), default=0)
    for place, issue in zip(places, issues, strict=True):
        typer.echo(f"  {place:{width_place}}  {issue.code:{width_code}}  {issue.message}")
