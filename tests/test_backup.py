"""`mel backup` and `mel restore`: an online SQLite copy that reproduces every page's numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.cli import app as cli
from mel.core.settings import Settings
from mel.reports.models import Value
from mel.web.app import create_app
from tests.html_soup import soup
from tests.value_factory import add_submission

PAGES = ["/", "/p/peru-cpc", "/p/peru-cpc/iptt?granularity=quarter", "/p/peru-cpc/indicators/1.1.a"]


def _numbers(client: TestClient) -> dict[str, str]:
    """The visible text of each page's main element (what a reader compares)."""
    texts = {}
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        main = soup(response.text).select_one("main")
        assert main is not None
        texts[page] = " ".join(main.get_text(" ").split())
    return texts


def _history(session: Session) -> None:
    for n, period in enumerate(["2021Q1", "2021Q2", "2021Q3"]):
        add_submission(
            session,
            partner="ilo",
            period=period,
            values=[
                ("1.1.a", {}, 40 + n),
                ("1.1.a", {"sex": "female"}, 25),
                ("1.1.a", {"sex": "male"}, 15 + n),
                ("4.a", {}, 3),
            ],
        )
    session.commit()


def test_backup_and_restore_reproduce_pages(
    backend: str,
    settings: Settings,
    session: Session,
    tmp_path: Path,
    login_as: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("MEL_DATABASE_URL", settings.database_url)
    if backend != "sqlite":
        result = runner.invoke(cli, ["backup", str(tmp_path / "copy.sqlite3")])
        assert result.exit_code == 2 and "pg_dump" in result.output
        return
    _history(session)
    stored = session.scalar(select(func.count()).select_from(Value))
    app = create_app(settings)
    with TestClient(app) as client:
        before = _numbers(login_as(client, "officer"))
        copy = tmp_path / "backup.sqlite3"
        result = runner.invoke(cli, ["backup", str(copy)])  # while the app holds open connections
        assert result.exit_code == 0, result.output
    app.state.engine.dispose()

    again = runner.invoke(cli, ["backup", str(copy)])
    assert again.exit_code == 2 and "already exists" in again.output

    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    monkeypatch.setenv("MEL_DATABASE_URL", restored_url)
    result = runner.invoke(cli, ["restore", str(copy)])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(cli, ["restore", str(copy)])
    assert refused.exit_code == 2 and "--force" in refused.output

    restored = Settings(database_url=restored_url, upload_dir=settings.upload_dir, secret_key="test-secret")
    app = create_app(restored)
    with TestClient(app) as client:
        with app.state.sessionmaker() as check:
            assert check.scalar(select(func.count()).select_from(Value)) == stored
        after = _numbers(login_as(client, "officer"))
    app.state.engine.dispose()
    assert after == before
    assert "41" in before["/p/peru-cpc/iptt?granularity=quarter"]


def test_restore_refuses_a_file_that_is_not_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database " * 100)
    monkeypatch.setenv("MEL_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    result = CliRunner().invoke(cli, ["restore", str(bogus)])
    assert result.exit_code == 2
    assert "not" in result.output and "SQLite" in result.output
