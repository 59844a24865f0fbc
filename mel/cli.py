"""The `mel` command: one entry point for operators, scripts and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mel import migrate
from mel.auth import cli as user_cli
from mel.auth.audit import CLI
from mel.catalog.schema import CatalogError
from mel.catalog.service import LoadSummary, load_catalog
from mel.db import make_engine, make_sessionmaker, transaction
from mel.exports.cli import export_command
from mel.quality import cli as report_cli
from mel.reports.cli import import_command
from mel.settings import Settings
from mel.workbooks.cli import template as template_command

app = typer.Typer(help="mel: monitoring and results framework tracker for CPC partnerships.", no_args_is_help=True)
catalog_app = typer.Typer(help="Results-framework catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.command("template")(template_command)
app.command("import")(import_command)
app.add_typer(user_cli.app, name="user")
app.add_typer(report_cli.app, name="report")
app.command("export")(export_command)


def settings() -> Settings:
    return Settings()


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_catalog_files(s: Settings, paths: list[Path]) -> list[LoadSummary]:
    """Load several catalog files in one transaction: all of them or none."""
    engine = make_engine(s.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return [load_catalog(session=session, path=path, actor=CLI) for path in paths]
    finally:
        engine.dispose()


def init_database(s: Settings) -> list[LoadSummary]:
    """Create or upgrade the schema, then load every catalog in the catalog folder."""
    migrate.upgrade(s.database_url)
    paths = sorted(Path(s.catalog_dir).glob("*.yaml"))
    return load_catalog_files(s, paths)


def _print_summaries(summaries: list[LoadSummary]) -> None:
    for summary in summaries:
        if summary.changed:
            typer.echo(
                f"{summary.partnership}: {len(summary.created)} created, {len(summary.updated)} updated, "
                f"{len(summary.removed)} removed"
            )
        else:
            typer.echo(f"{summary.partnership}: unchanged")


@app.command()
def init() -> None:
    """Create or upgrade the database and load indicators/*.yaml."""
    s = settings()
    try:
        summaries = init_database(s)
    except CatalogError as exc:
        raise fail(str(exc)) from exc
    _print_summaries(summaries)


@catalog_app.command("load")
def catalog_load(path: Annotated[Path, typer.Argument(help="A results-framework YAML file.")]) -> None:
    """Load or update one catalog file; errors name the file, line and key."""
    s = settings()
    if not path.exists():
        raise fail(f"{path}: no such file", 2)
    migrate.upgrade(s.database_url)
    try:
        summaries = load_catalog_files(s, [path])
    except CatalogError as exc:
        raise fail(str(exc)) from exc
    _print_summaries(summaries)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app."""
    import uvicorn

    from mel.app import create_app

    typer.echo(f"mel is serving on http://{host}:{port}/")
    uvicorn.run(create_app(settings()), host=host, port=port, log_level="info")


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after building the demo.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Initialize the database, build the demo history through the importer, create demo users, serve."""
    from mel.demo import run_demo

    s = settings()
    try:
        init_database(s)
    except CatalogError as exc:
        raise fail(str(exc)) from exc
    run_demo(s, echo=typer.echo)
    if not no_serve:
        serve(host=host, port=port)


def main() -> None:
    app()
