"""`mel user add|list|disable`: accounts from the command line (the audit log names the CLI as actor)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy import select

from mel.auth.models import User
from mel.auth.service import AccountError, create_user, disable_user
from mel.catalog.models import Partner
from mel.core import migrate
from mel.core.audit import CLI
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.settings import Settings

app = typer.Typer(help="User accounts.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    """Prompt twice on a terminal; read one line from standard input otherwise (or with --password-stdin)."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The user's email address (their login).")],
    role: Annotated[str, typer.Option(help="admin, officer, partner or evaluator.")],
    partner: Annotated[str | None, typer.Option(help="Partner code (partner users only).")] = None,
    lang: Annotated[str, typer.Option(help="Interface language: en or es.")] = "en",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a user; the password is prompted twice (or read from stdin)."""
    password = _password(password_stdin)
    settings = Settings()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            create_user(
                session=session, email=email, password=password, role=role, partner_code=partner, actor=CLI, lang=lang
            )
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"user {email.strip().lower()} added ({role}{', ' + partner if partner else ''})")


@app.command("list")
def list_users() -> None:
    """Every user: email, role, partner, language, active, last login."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(User.email, User.role, Partner.code, User.lang, User.active, User.last_login_at)
                .outerjoin(Partner, Partner.id == User.partner_id)
                .order_by(User.email)
            ).all()
    finally:
        engine.dispose()
    for email, role, partner, lang, active, last in rows:
        state = "active" if active else "disabled"
        seen = last.strftime("%Y-%m-%d %H:%M") if last else "never"
        typer.echo(f"{email:40} {role:10} {partner or '-':16} {lang:3} {state:9} {seen}")


@app.command("disable")
def disable(email: Annotated[str, typer.Argument(help="The user to disable.")]) -> None:
    """Disable a user and end their sessions at once."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            ended = disable_user(session=session, email=email, actor=CLI)
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"user {email} disabled; {ended} session(s) ended")
