"""`mel user add|list|disable` through the real command line (CliRunner)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.auth.models import LoginSession, User
from mel.auth.passwords import HASHER
from mel.catalog.models import Partner
from mel.cli import app
from mel.core.audit import AuditEntry
from mel.core.db import utcnow
from mel.core.settings import Settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {"MEL_DATABASE_URL": settings.database_url}


def test_add_list_disable(env: dict[str, str], session: Session) -> None:
    result = runner.invoke(
        app,
        ["user", "add", "Ana@Example.org", "--role", "partner", "--partner", "ilo", "--lang", "es"],
        input="a-long-password\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User).where(User.email == "ana@example.org")).one()
    ilo = session.scalar(select(Partner.id).where(Partner.code == "ilo"))
    assert (user.role, user.partner_id, user.lang, user.active) == ("partner", ilo, "es", True)
    assert HASHER.verify(user.password_hash, "a-long-password")
    assert "a-long-password" not in user.password_hash

    result = runner.invoke(
        app,
        ["user", "add", "o@example.org", "--role", "officer", "--password-stdin"],
        input="another-password\n",
        env=env,
    )
    assert result.exit_code == 0, result.output

    listing = runner.invoke(app, ["user", "list"], env=env)
    assert listing.exit_code == 0
    lines = {line.split()[0]: line.split() for line in listing.output.splitlines()}
    assert lines["ana@example.org"][:5] == ["ana@example.org", "partner", "ilo", "es", "active"]
    assert lines["o@example.org"][:5] == ["o@example.org", "officer", "-", "en", "active"]

    now = utcnow()
    session.add(
        LoginSession(token_hash="x" * 64, user_id=user.id, created_at=now, expires_at=now.replace(year=now.year + 1))
    )
    session.commit()
    result = runner.invoke(app, ["user", "disable", "ana@example.org"], env=env)
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    session.expire_all()
    assert session.scalar(select(User.active).where(User.id == user.id)) is False
    assert session.scalar(select(LoginSession.ended_at).where(LoginSession.user_id == user.id)) is not None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "cli").order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("user_")] == ["user_add", "user_add", "user_disable"]
    assert (
        "disabled" in runner.invoke(app, ["user", "list"], env=env).output.split("ana@example.org")[1].splitlines()[0]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x@example.org", "--role", "boss"], "unknown role"),
        (["x@example.org", "--role", "partner"], "need --partner"),
        (["x@example.org", "--role", "officer", "--partner", "ilo"], "need --partner"),
        (["x@example.org", "--role", "partner", "--partner", "nowhere"], "unknown partner"),
    ],
)
def test_add_refuses_bad_input(env: dict[str, str], session: Session, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["user", "add", *args], input="a-long-password\n", env=env)
    assert result.exit_code == 1 and message in result.output
    assert session.scalar(select(User.id).where(User.email == "x@example.org")) is None


def test_add_refuses_short_passwords_and_duplicates(env: dict[str, str]) -> None:
    short = runner.invoke(app, ["user", "add", "x@example.org", "--role", "officer"], input="short\n", env=env)
    assert short.exit_code == 1 and "at least 10" in short.output
    ok = runner.invoke(app, ["user", "add", "x@example.org", "--role", "officer"], input="long-enough-pw\n", env=env)
    assert ok.exit_code == 0
    again = runner.invoke(app, ["user", "add", "X@example.org", "--role", "officer"], input="long-enough-pw\n", env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    missing = runner.invoke(app, ["user", "disable", "nobody@example.org"], env=env)
    assert missing.exit_code == 1
