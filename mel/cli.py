"""The `mel` command: one entry point for operators, scripts and the demo."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

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
    summaries = load_catalog_files(s, paths)
    sweep_uploads(s)
    return summaries


def sweep_uploads(s: Settings) -> None:
    """Remove what an interrupted import left in the upload folder (see ``sweep_upload_dir``)."""
    from mel.reports.files import sweep_upload_dir

    engine = make_engine(s.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            removed = sweep_upload_dir(session, s.upload_dir)
    except DBAPIError:  # no schema yet: nothing can have been stored either
        return
    finally:
        engine.dispose()
    if removed:
        typer.echo(f"removed {len(removed)} file(s) left by interrupted imports from {s.upload_dir}")


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
    workers: Annotated[int, typer.Option(help="Worker processes (each with its own connection pool).")] = 1,
) -> None:
    """Run the web app."""
    import uvicorn

    s = settings()
    s.check_production()
    warning = dev_secret_warning(s, host)
    if warning:
        typer.secho(warning, err=True, fg=typer.colors.RED, bold=True)
    sweep_uploads(s)
    typer.echo(f"mel is serving on http://{host}:{port}/")
    # proxy_headers off: the client address is read once, by mel, from MEL_TRUSTED_PROXIES only
    uvicorn.run(
        "mel.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def dev_secret_warning(s: Settings, host: str) -> str | None:
    """A loud warning when the development secret would sign cookies that other machines can reach."""
    if not s.uses_dev_secret or is_loopback(host):
        return None
    line = "!" * 78
    return (
        f"{line}\n"
        f"WARNING: mel is serving on {host} with the DEVELOPMENT secret key.\n"
        "Anyone who reads the source can forge session cookies and CSRF tokens for this server.\n"
        "Set MEL_SECRET_KEY to a long random value (e.g. python -c 'import secrets; print(secrets.token_hex(32))'),\n"
        "or serve on 127.0.0.1 only.\n"
        f"{line}"
    )


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


@app.command("backup")
def backup_command(out: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")]) -> None:
    """Online backup of the SQLite database while the server runs (copy MEL_UPLOAD_DIR beside it)."""
    from mel.backup import BackupError, backup

    try:
        size = backup(settings().database_url, out)
    except BackupError as exc:
        raise fail(str(exc), 2) from exc
    typer.echo(f"{out}: {size:,} bytes, integrity checked")


@app.command("restore")
def restore_command(
    backup_file: Annotated[Path, typer.Argument(help="A file written by mel backup.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite a database that already has tables.")] = False,
) -> None:
    """Restore a backup into MEL_DATABASE_URL (a new SQLite file unless --force), then upgrade its schema."""
    from mel.backup import BackupError, restore

    s = settings()
    try:
        restore(backup_file, s.database_url, force=force)
    except BackupError as exc:
        raise fail(str(exc), 2) from exc
    typer.echo(f"restored {backup_file} into {s.database_url}")


def main() -> None:
    app()
