"""The `mel` command: one entry point for operators, scripts and the demo.

A command imports what it needs when it runs, not when ``mel`` starts: ``mel --help`` and
``mel user list`` do not pay for FastAPI, uvicorn, pandas or openpyxl. The commands that live in
other modules are listed in ``LAZY`` with their one-line help and loaded only when invoked (or
when their own ``--help`` is asked for).
"""

from __future__ import annotations

import importlib
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.core import Command, Context  # the click that typer vendors and builds on
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from mel.catalog.load_shared import LoadSummary, TargetReason
    from mel.core.settings import Settings

LAZY: dict[str, tuple[str, str, str]] = {
    "template": (
        "mel.cli.templates",
        "template",
        "Write the blank quarterly-report template of a partner for a period.",
    ),
    "import": (
        "mel.cli.imports",
        "import_command",
        "Check workbooks against the catalog and store them (quarterly reports or measurements).",
    ),
    "user": ("mel.cli.users", "app", "User accounts."),
    "report": ("mel.cli.reports", "app", "Quarterly reports."),
    "export": (
        "mel.cli.exports",
        "export_command",
        "Export comparison, iptt, values, trainings, figures, iati or dhis2 of one partnership.",
    ),
}
"""name -> (module, attribute: a command function or a Typer app, one-line help)."""


def load_command(name: str) -> Command:
    """The click command of a ``LAZY`` entry, importing its module now."""
    module_name, attribute, _help = LAZY[name]
    target = getattr(importlib.import_module(module_name), attribute)
    command: Command
    if isinstance(target, typer.Typer):
        target._add_completion = False  # a subcommand: completion is the root's business
        command = typer.main.get_group(target)  # a group even with one command (`mel report due`)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommand(TyperCommand):
    """Stands for a ``LAZY`` command in the listing; parsing or running it loads the real one."""

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help=help_text, short_help=help_text, rich_markup_mode=None)
        self._real: Command | None = None

    @property
    def real(self) -> Command:
        if self._real is None:
            self._real = load_command(str(self.name))
        return self._real

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        return self.real.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        return self.real.invoke(ctx)

    def get_help(self, ctx: Context) -> str:
        return self.real.get_help(ctx)


class LazyGroup(TyperGroup):
    """The root group: the commands defined here, plus ``LAZY`` ones loaded on use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in LAZY:
            return LazyCommand(cmd_name, LAZY[cmd_name][2])
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=LazyGroup,
    help="mel: monitoring and results framework tracker for CPC partnerships.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: rich's formatter alone costs a quarter of a second to import
)
catalog_app = typer.Typer(help="Results-framework catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


def settings() -> Settings:
    from mel.core.settings import Settings

    return Settings()


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_catalog_files(s: Settings, paths: list[Path], target_reason: TargetReason | None = None) -> list[LoadSummary]:
    """Load several catalog files in one transaction: all of them or none."""
    import mel.models  # noqa: F401  every table: the catalog asks them whether a removed item is used
    from mel.catalog.service import load_catalog
    from mel.core.audit import CLI
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(s.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return [load_catalog(session=session, path=path, actor=CLI, target_reason=target_reason) for path in paths]
    finally:
        engine.dispose()


def init_database(s: Settings) -> list[LoadSummary]:
    """Create or upgrade the schema, then load every catalog in the catalog folder."""
    from mel.core import migrate

    migrate.upgrade(s.database_url)
    paths = sorted(Path(s.catalog_dir).glob("*.yaml"))
    summaries = load_catalog_files(s, paths)
    sweep_uploads(s)
    return summaries


def sweep_uploads(s: Settings) -> None:
    """Remove what an interrupted import left in the upload folder (see ``sweep_upload_dir``)."""
    from sqlalchemy.exc import DBAPIError

    from mel.core.db import make_engine, make_sessionmaker
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
    from mel.catalog.catalog_file import CatalogError

    s = settings()
    try:
        summaries = init_database(s)
    except CatalogError as exc:
        raise fail(str(exc)) from exc
    _print_summaries(summaries)


@catalog_app.command("load")
def catalog_load(
    path: Annotated[Path, typer.Argument(help="A results-framework YAML file.")],
    reason: Annotated[
        str | None, typer.Option(help="Why targets change in this file (recorded as their revision).")
    ] = None,
    effective: Annotated[
        str | None, typer.Option(help="Quarter the revised targets apply from, as 2021Q3 (default: this quarter).")
    ] = None,
) -> None:
    """Load or update one catalog file; errors name the file, line and key."""
    from mel.catalog.catalog_file import CatalogError
    from mel.catalog.load_shared import TargetReason
    from mel.core import migrate
    from mel.core.periods import parse_quarter

    s = settings()
    if not path.exists():
        raise fail(f"{path}: no such file", 2)
    if effective is not None and parse_quarter(effective) != effective:
        raise fail(f"--effective {effective!r}: write the quarter as 2021Q3", 2)
    if reason is not None and not reason.strip():
        raise fail("--reason: say why the targets change", 2)
    migrate.upgrade(s.database_url)
    try:
        summaries = load_catalog_files(s, [path], TargetReason(reason=reason, effective=effective))
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

    from mel.web.static import MissingAssets, require_vendored

    s = settings()
    s.check_production()
    try:
        require_vendored()
    except MissingAssets as exc:
        raise fail(str(exc), 2) from exc
    warning = dev_secret_warning(s, host)
    if warning:
        typer.secho(warning, err=True, fg=typer.colors.RED, bold=True)
    sweep_uploads(s)
    typer.echo(f"mel is serving on http://{host}:{port}/")
    # proxy_headers off: the client address is read once, by mel, from MEL_TRUSTED_PROXIES only
    uvicorn.run(
        "mel.web.app:app_from_environment",
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


def demo_runner() -> Any:
    """The demo's entry point, from the checkout's ``demo/`` (the demo is not part of the package)."""
    import sys

    from mel.core.paths import DEMO_DIR

    if not (DEMO_DIR / "build.py").exists():
        raise fail(
            "The demo is not installed with the package: run `mel demo` from a checkout of mel's repository "
            "(its demo/ folder builds the demo data). `mel init` and `mel serve` work without it."
        )
    if str(DEMO_DIR.parent) not in sys.path:
        sys.path.insert(0, str(DEMO_DIR.parent))
    from demo.build import run_demo

    return run_demo


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after building the demo.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Initialize the database, build the demo history through the importer, create demo users, serve."""
    from mel.catalog.catalog_file import CatalogError

    run_demo = demo_runner()

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
    from mel.core.backup import BackupError, backup

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
    from mel.core.backup import BackupError, restore

    s = settings()
    try:
        restore(backup_file, s.database_url, force=force)
    except BackupError as exc:
        raise fail(str(exc), 2) from exc
    typer.echo(f"restored {backup_file} into {s.database_url}")


def main() -> None:
    app()
