"""Test databases built by the real migrations: once per run into a template, copied per test.

Every test that asks for a database runs on SQLite and, when ``MEL_TEST_DATABASE_URL`` is set,
on PostgreSQL too (a fresh database per test, cloned from a migrated template database).
A test marked ``demo_db`` gets the whole demo history instead of the bare catalog: the demo is
built once per worker and backend into a template, and copied per test with its upload folder.
Stored scenarios work the same way: a test module's ``DB_SCENARIOS`` maps fixture names to the
functions that store their rows, and a test that uses such a fixture gets a copy of a template that
holds them (built once per worker and backend) instead of writing them again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.service import load_catalog
from mel.core import collector, migrate
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.paths import INDICATORS_DIR
from mel.core.settings import Settings
from mel.web.app import create_app
from tests.html_soup import soup

PG_URL = os.environ.get("MEL_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("MEL_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]
Scenario = Callable[[Session], object]
SCENARIOS: dict[str, tuple[str, tuple[Scenario, ...]]] = {}
"""Template flavours that hold stored scenarios: flavour -> (the flavour they start from, the scenarios)."""
STORED = pytest.StashKey[tuple[Scenario, ...]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process is long-lived too: what collection built (modules, the tests) is frozen out of the
    cyclic collector, as a serving process freezes what it built at start-up."""
    collector.settle()


def _catalog_paths() -> list[Path]:
    return sorted(INDICATORS_DIR.glob("*.yaml"))


def _build_demo(url: str, uploads: Path) -> None:
    from demo.build import build_demo

    engine = make_engine(url)
    settings = Settings(database_url=url, upload_dir=uploads, secret_key="test-secret")
    try:
        build_demo(settings=settings, session_factory=make_sessionmaker(engine))
    finally:
        engine.dispose()


def _flavour(base: str, scenarios: Sequence[Scenario]) -> str:
    """The template flavour of ``base`` with ``scenarios`` stored in it, in this order."""
    if not scenarios:
        return base
    names = ",".join(f"{s.__module__}.{s.__qualname__}" for s in scenarios)
    flavour = f"{base}_{hashlib.sha1(names.encode()).hexdigest()[:10]}"
    SCENARIOS[flavour] = (base, tuple(scenarios))
    return flavour


def _base(flavour: str) -> str:
    return SCENARIOS[flavour][0] if flavour in SCENARIOS else flavour


def _store_scenarios(url: str, scenarios: Sequence[Scenario]) -> None:
    """Store the scenarios in one session, as the fixtures did in the test's own session."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            for store in scenarios:
                store(session)
            session.commit()
    finally:
        engine.dispose()


def _load_catalogs(url: str) -> None:
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        for path in _catalog_paths():
            load_catalog(session=session, path=path)
    engine.dispose()


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, Path] = {}

    def get(self, flavour: str) -> Path:
        if flavour not in self.files:
            path = self.root / f"template-{flavour}.sqlite3"
            url = f"sqlite:///{path}"
            if flavour in SCENARIOS:
                shutil.copyfile(self.get(SCENARIOS[flavour][0]), path)
                _store_scenarios(url, SCENARIOS[flavour][1])
            elif flavour == "demo":
                shutil.copyfile(self.get("catalog"), path)
                _build_demo(url, self.uploads(flavour))
            else:
                migrate.upgrade(url)
            if flavour == "catalog":
                _load_catalogs(url)
            engine = make_engine(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self.files[flavour] = path
        return self.files[flavour]

    def uploads(self, flavour: str) -> Path:
        """The upload folder that goes with the template (the demo keeps its workbooks there)."""
        return self.root / f"uploads-{_base(flavour)}"


class PgTemplates:
    """Template databases, and the per-test copies made from them.

    One copy takes PostgreSQL a few tenths of a second, mostly waiting for its disk, and copies made side
    by side hardly take longer than one: so a few copies of each template in use are made ahead, in
    background threads, while the tests run, and a finished test's copy is dropped there too.
    """

    AHEAD = 4

    def __init__(self, url: str, worker: str, root: Path) -> None:
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.worker = worker
        self.root = root
        self.admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.names: dict[str, str] = {}
        self.background = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="pg-copies")
        self.ahead: dict[str, deque[Future[str]]] = {}

    def _create(self, name: str, template: str | None = None) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def get(self, flavour: str) -> str:
        if flavour not in self.names:
            name = f"mel_tpl_{flavour}_{self.worker}_{os.getpid()}"
            if flavour in SCENARIOS:
                self._create(name, self.get(SCENARIOS[flavour][0]))
                _store_scenarios(self.url_for(name), SCENARIOS[flavour][1])
            elif flavour == "demo":
                self._create(name, self.get("catalog"))
                _build_demo(self.url_for(name), self.uploads(flavour))
            else:
                self._create(name)
                migrate.upgrade(self.url_for(name))
            if flavour == "catalog":
                _load_catalogs(self.url_for(name))
            self.names[flavour] = name
        return self.names[flavour]

    def _copy(self, template: str) -> str:
        name = f"mel_t_{uuid.uuid4().hex[:12]}"
        self._create(name, template)
        return name

    def clone(self, flavour: str) -> tuple[str, str]:
        """A fresh copy of the flavour's template (made ahead of time)."""
        template = self.get(flavour)
        ahead = self.ahead.setdefault(flavour, deque())
        while len(ahead) <= self.AHEAD:
            ahead.append(self.background.submit(self._copy, template))
        name = ahead.popleft().result()
        return name, self.url_for(name)

    def uploads(self, flavour: str) -> Path:
        return self.root / f"uploads-{_base(flavour)}"

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop(self, name: str) -> None:
        """Drop a test's copy in the background (the next test does not wait for it)."""
        self.background.submit(self._drop, name)

    def close(self) -> None:
        for ahead in self.ahead.values():
            for copy in ahead:
                self.drop(copy.result())
        self.background.shutdown(wait=True)
        for name in self.names.values():
            self._drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def pg_templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgTemplates | None]:
    if not PG_URL:
        yield None
        return
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")  # xdist worker, if any
    templates = PgTemplates(PG_URL, worker, tmp_path_factory.mktemp("pg-templates"))
    yield templates
    templates.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        if REQUIRE_PG:
            pytest.fail("MEL_REQUIRE_POSTGRES=1 but MEL_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need MEL_TEST_DATABASE_URL")
    return str(request.param)


def _database(
    backend: str, flavour: str, tmp_path: Path, sqlite_templates: SqliteTemplates, pg_templates: PgTemplates | None
) -> Iterator[str]:
    templates: SqliteTemplates | PgTemplates | None = sqlite_templates if backend == "sqlite" else pg_templates
    assert templates is not None
    if _base(flavour) == "demo":  # the settings fixture's upload folder: the demo's stored workbooks
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
    flavour = _flavour(base, [scenarios[name] for name in request.fixturenames if name in scenarios])
    request.node.stash[STORED] = SCENARIOS[flavour][1] if flavour in SCENARIOS else ()
    yield from _database(backend, flavour, tmp_path, sqlite_templates, pg_templates)


@pytest.fixture
def stored_scenarios(request: pytest.FixtureRequest, db_url: str) -> tuple[Scenario, ...]:
    """The scenarios the test's database holds: a scenario's fixture checks that its own is there."""
    return request.node.stash[STORED]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, upload_dir=tmp_path / "uploads", secret_key="test-secret")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


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
