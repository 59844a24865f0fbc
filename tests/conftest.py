"""Test databases built by the real migrations: once per run into a template, copied per test.

Every test that asks for a database runs on SQLite and, when ``MEL_TEST_DATABASE_URL`` is set,
on PostgreSQL too (a fresh database per test, cloned from a migrated template database).
A test marked ``demo_db`` gets the whole demo history instead of the bare catalog: the demo is
built once per run and backend into a template, and copied per test with its upload folder.
Stored scenarios work the same way: a test module's ``DB_SCENARIOS`` maps fixture names to the
functions that store their rows, and a test that uses such a fixture gets a copy of a template that
holds them (built once per run and backend) instead of writing them again. The templates are made
and shared as ``tests/db_templates.py`` says.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mel.core import collector
from mel.core.db import make_sessionmaker, transaction
from mel.core.settings import Settings
from mel.reports.job_dispatcher import dispatcher
from mel.web.app import create_app
from tests.db_engines import ProcessEngines
from tests.db_templates import (
    SCENARIOS,
    PgTemplates,
    Scenario,
    SqliteTemplates,
    base_of,
    finish_run,
    flavour_of,
    run_dir,
    start_run,
)
from tests.html_soup import soup

if TYPE_CHECKING:
    from demo.build import DemoSummary

PG_URL = os.environ.get("MEL_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("MEL_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]
STORED = pytest.StashKey[tuple[Scenario, ...]]()
UNGROUPED = pytest.StashKey[list[str]]()


def _starts_the_run(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # not an xdist worker: a run of its own, or the controller


def pytest_configure(config: pytest.Config) -> None:
    if _starts_the_run(config):
        start_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _starts_the_run(config):
        finish_run(PG_URL)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process is long-lived too: what collection built (modules, the tests) is frozen out of the
    cyclic collector, as a serving process freezes what it built at start-up."""
    collector.settle()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` a test of an ``xdist_group`` must carry pytest-xdist's ``@group`` suffix, by
    which the group's tests go to one worker; a pytest whose node ids ignore it (pytest 9.2 with pytest-xdist
    3.8: pytest-dev/pytest-xdist#1386) spreads them silently. Such a test fails instead (see below)."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted({m.args[0] if m.args else m.kwargs["name"] for m in item.iter_markers("xdist_group")})
        if groups and not item.nodeid.endswith("@" + "_".join(groups)):
            item.stash[UNGROUPED] = groups


def pytest_runtest_setup(item: pytest.Item) -> None:
    if UNGROUPED in item.stash:
        pytest.fail(
            f"--dist loadgroup did not keep this test in its group {item.stash[UNGROUPED]}: this pytest-xdist does "
            "not support this pytest (see the pin in pyproject.toml)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def sqlite_templates() -> SqliteTemplates:
    return SqliteTemplates(run_dir() / "sqlite")


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[PgTemplates | None]:
    if not PG_URL:
        yield None
        return
    templates = PgTemplates(PG_URL, run_dir() / "postgresql")
    yield templates
    templates.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        _without_postgres()
    return str(request.param)


@pytest.fixture
def postgres_templates(pg_templates: PgTemplates | None) -> PgTemplates:
    """The PostgreSQL templates, for a test of PostgreSQL alone."""
    if pg_templates is None:
        _without_postgres()
    return pg_templates


def _without_postgres() -> NoReturn:
    if REQUIRE_PG:
        pytest.fail("MEL_REQUIRE_POSTGRES=1 but MEL_TEST_DATABASE_URL is not set")
    pytest.skip("PostgreSQL tests need MEL_TEST_DATABASE_URL")


def _database(
    backend: str, flavour: str, tmp_path: Path, sqlite_templates: SqliteTemplates, pg_templates: PgTemplates | None
) -> Iterator[str]:
    templates: SqliteTemplates | PgTemplates | None = sqlite_templates if backend == "sqlite" else pg_templates
    assert templates is not None
    if base_of(flavour) == "demo":  # the settings fixture's upload folder: the demo's stored workbooks
        templates.get(flavour)
        shutil.copytree(templates.uploads(flavour), tmp_path / "uploads")
    if backend == "sqlite":
        path = tmp_path / "mel.sqlite3"
        shutil.copyfile(sqlite_templates.get(flavour), path)
        yield f"sqlite:///{path}"
        return
    assert pg_templates is not None
    name, url = pg_templates.clone(flavour)
    try:
        yield url
    finally:
        pg_templates.drop(name)


@pytest.fixture
def empty_db_url(
    backend: str, tmp_path: Path, sqlite_templates: SqliteTemplates, pg_templates: PgTemplates | None
) -> Iterator[str]:
    """A migrated database with no catalog loaded."""
    yield from _database(backend, "empty", tmp_path, sqlite_templates, pg_templates)


@pytest.fixture
def db_url(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PgTemplates | None,
) -> Iterator[str]:
    """A migrated database with every catalog in indicators/ loaded (and the demo, for ``demo_db`` tests),
    holding the stored scenarios of the test's fixtures named in its module's ``DB_SCENARIOS``."""
    base = "demo" if request.node.get_closest_marker("demo_db") else "catalog"
    scenarios: dict[str, Scenario] = getattr(request.module, "DB_SCENARIOS", {})
    flavour = flavour_of(base, [scenarios[name] for name in request.fixturenames if name in scenarios])
    request.node.stash[STORED] = SCENARIOS[flavour][1] if flavour in SCENARIOS else ()
    yield from _database(backend, flavour, tmp_path, sqlite_templates, pg_templates)


@pytest.fixture
def demo_summary(backend: str, sqlite_templates: SqliteTemplates, pg_templates: PgTemplates | None) -> DemoSummary:
    """What ``build_demo`` reported when it built the run's demo template on the test's backend."""
    templates = sqlite_templates if backend == "sqlite" else pg_templates
    assert templates is not None
    return templates.demo_summary()


@pytest.fixture
def stored_scenarios(request: pytest.FixtureRequest, db_url: str) -> tuple[Scenario, ...]:
    """The scenarios the test's database holds: a scenario's fixture checks that its own is there."""
    return request.node.stash[STORED]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, upload_dir=tmp_path / "uploads", secret_key="test-secret")


@pytest.fixture(scope="session")
def process_engines() -> Iterator[ProcessEngines]:
    engines = ProcessEngines()
    yield engines
    engines.close()


@pytest.fixture
def engine(settings: Settings, process_engines: ProcessEngines) -> Iterator[Engine]:
    """The process's engine of the test's backend, on the test's database (``tests/db_engines.py``)."""
    engine = process_engines.at(settings.database_url)
    yield engine
    process_engines.release(engine)  # no connection outlives the test: its database is dropped next


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:
        yield client
    dispatcher(app).stop()  # its imports end here: the engine's next database is another test's


TEST_PASSWORD = "test-password-123"


def _log_in(client: TestClient, role: str, partner: str | None = None, email: str | None = None) -> TestClient:
    """Create a user of ``role`` (partner users: of ``partner``, default ilo) and log in via the real form."""
    from sqlalchemy import select as _select

    from mel.auth.models import User
    from mel.auth.service import create_user
    from mel.core.audit import CLI

    if role == "partner" and partner is None:
        partner = "ilo"
    email = email or f"{role}{'-' + partner if partner else ''}@example.org"
    with transaction(client.app.state.sessionmaker) as session:  # type: ignore[attr-defined]
        if session.scalar(_select(User.id).where(User.email == email)) is None:
            create_user(
                session=session, email=email, password=TEST_PASSWORD, role=role, partner_code=partner, actor=CLI
            )
    client.cookies.delete("mel_session")  # log out whoever was logged in on this client
    form = soup(client.get("/login").text).select_one("form.login input[name=csrf_token]")
    assert form is not None, "the login page has no CSRF field"
    response = client.post(
        "/login",
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": form["value"], "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, f"login as {email} failed: {response.status_code}"
    return client


@pytest.fixture
def login_as() -> Callable[..., TestClient]:
    """``client = login_as(client, "officer")`` or ``login_as(client, "partner", partner="chs")``."""
    return _log_in
