"""Template databases for the tests: built once per run, copied per test.

A run (one pytest process, or an xdist controller and its workers) shares a folder named in
``RUN_DIR_ENV``; each template is built there by the first process that asks for it, under a file
lock, and the others wait and then copy it: two workers used to build every template twice (the demo
alone takes seconds on each backend). The PostgreSQL databases a run makes carry its tag in their
names, so the process that started the run drops them all at its end (``finish_run``), also those of a
worker that died.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from mel.catalog.service import load_catalog
from mel.core import migrate
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.paths import INDICATORS_DIR
from mel.core.settings import Settings
from tests import pg_reuse

if TYPE_CHECKING:
    from demo.build import DemoSummary

RUN_DIR_ENV = "MEL_TEST_RUN_DIR"
"""The run's shared folder: set by the process that starts the run, inherited by its xdist workers."""
T = TypeVar("T")
Scenario = Callable[[Session], object]
SCENARIOS: dict[str, tuple[str, tuple[Scenario, ...]]] = {}
"""Template flavours that hold stored scenarios: flavour -> (the flavour they start from, the scenarios)."""


def start_run() -> None:
    """Make the run's shared folder (in the process that starts the run; its workers inherit it)."""
    os.environ[RUN_DIR_ENV] = tempfile.mkdtemp(prefix=f"mel-tests-{uuid.uuid4().hex[:10]}-")


def run_dir() -> Path:
    return Path(os.environ[RUN_DIR_ENV])


def run_tag() -> str:
    """The part of the run's database names that is this run's alone."""
    return run_dir().name.split("-")[2]


def _drop_database(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def _drop(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(_drop_database(name)))


def finish_run(pg_url: str) -> None:
    """Drop every PostgreSQL database of the run (templates and leftover copies), remove its folder."""
    if pg_url and (run_dir() / "postgresql").exists():  # a process of the run made databases
        admin = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            names = conn.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"mel\\_%\\_{run_tag()}%"},
            ).all()
        with ThreadPoolExecutor(max_workers=8) as pool:  # each drop waits for a checkpoint: they share them
            list(pool.map(lambda name: _drop(admin, name), names))
        admin.dispose()
    shutil.rmtree(run_dir(), ignore_errors=True)


@contextmanager
def built_once(root: Path, name: str) -> Iterator[bool]:
    """True in the one process of the run that is to build ``name``; the others wait for it, and get False."""
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = root / f"{name}.built"
        if built.exists():
            yield False
        else:
            yield True
            built.touch()


def flavour_of(base: str, scenarios: Sequence[Scenario]) -> str:
    """The template flavour of ``base`` with ``scenarios`` stored in it, in this order."""
    if not scenarios:
        return base
    names = ",".join(f"{s.__module__}.{s.__qualname__}" for s in scenarios)
    flavour = f"{base}_{hashlib.sha1(names.encode()).hexdigest()[:10]}"
    SCENARIOS[flavour] = (base, tuple(scenarios))
    return flavour


def base_of(flavour: str) -> str:
    return SCENARIOS[flavour][0] if flavour in SCENARIOS else flavour


def _build_demo(url: str, uploads: Path, report: Path) -> None:
    """The demo, built as ``mel demo`` builds it; what the build reported is kept in ``report``, for the
    test that checks the demo history (``Templates.demo_summary``)."""
    from demo.build import build_demo

    engine = make_engine(url)
    settings = Settings(database_url=url, upload_dir=uploads, secret_key="test-secret")
    try:
        summary = build_demo(settings=settings, session_factory=make_sessionmaker(engine))
    finally:
        engine.dispose()
    report.write_text(json.dumps(dataclasses.asdict(summary)))


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
        for path in sorted(INDICATORS_DIR.glob("*.yaml")):
            load_catalog(session=session, path=path)
    engine.dispose()


class Templates(Generic[T]):
    """One backend's templates, each built once per run (``built_once``) and remembered by this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(exist_ok=True)
        self.made: dict[str, T] = {}

    def get(self, flavour: str) -> T:
        if flavour not in self.made:
            where = self._where(flavour)
            with built_once(self.root, flavour) as build:
                if build:
                    self._build(flavour, where)
            self.made[flavour] = where
        return self.made[flavour]

    def demo_summary(self) -> DemoSummary:
        """What building the demo template reported."""
        from demo.build import DemoSummary

        self.get("demo")
        return DemoSummary(**json.loads(self._demo_report().read_text()))

    def _demo_report(self) -> Path:
        return self.root / "demo-summary.json"

    def uploads(self, flavour: str) -> Path:
        """The upload folder that goes with the template (the demo keeps its workbooks there)."""
        return self.root / f"uploads-{base_of(flavour)}"

    def _build(self, flavour: str, where: T) -> None:
        """What each flavour holds: migrations (and the catalogs), or a copy of the flavour it starts from
        with the demo or the stored scenarios added."""
        start = SCENARIOS[flavour][0] if flavour in SCENARIOS else "catalog" if flavour == "demo" else None
        url = self._url(where)
        if start is None:
            self._empty(where)
            migrate.upgrade(url)
        else:
            self._copy_of(self.get(start), where)
        if flavour in SCENARIOS:
            _store_scenarios(url, SCENARIOS[flavour][1])
        elif flavour == "demo":
            _build_demo(url, self.uploads(flavour), self._demo_report())
        if flavour == "catalog":
            _load_catalogs(url)
        self._settle(flavour, where)

    def _where(self, flavour: str) -> T:
        raise NotImplementedError

    def _url(self, where: T) -> str:
        raise NotImplementedError

    def _empty(self, where: T) -> None:
        """A new, empty database at ``where``."""

    def _copy_of(self, template: T, where: T) -> None:
        raise NotImplementedError

    def _settle(self, flavour: str, where: T) -> None:
        """Make the finished template ready to be copied."""


class SqliteTemplates(Templates[Path]):
    def _where(self, flavour: str) -> Path:
        return self.root / f"template-{flavour}.sqlite3"

    def _url(self, where: Path) -> str:
        return f"sqlite:///{where}"

    def _copy_of(self, template: Path, where: Path) -> None:
        shutil.copyfile(template, where)

    def _settle(self, flavour: str, where: Path) -> None:
        """Checkpoint the write-ahead log into the file, the only part that is copied."""
        engine = make_engine(self._url(where))
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()


class PgTemplates(Templates[str]):
    """Template databases, and the databases the tests use.

    Each process keeps one database per flavour for its tests: copied from the template for the first,
    renamed and put back to the template's rows when each test ends (``tests/pg_reuse.py``), in a
    background thread, while pytest reports and sets up the next test. The empty flavour (migrations run
    on it) is copied afresh for every test instead, a few copies ahead, and a used copy is dropped in the
    background.

    A copy is made file by file (``STRATEGY FILE_COPY``), not page by page through the write-ahead log
    (the default): it writes no 5 MB of log per copy and leaves no 10 MB of dirty pages for the next
    checkpoint (every DROP DATABASE forces one).
    """

    AHEAD = 4

    def __init__(self, url: str, root: Path) -> None:
        super().__init__(root)
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.tag = run_tag()
        self.admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.background = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="pg-copies")
        self.ahead: dict[str, deque[Future[str]]] = {}
        self.lent: dict[str, str] = {}
        """A database a test holds now -> its flavour (to be put back when the test ends)."""
        self.resets: dict[str, Future[str | None]] = {}
        """Flavour -> the put-back started when the last test of it ended: the database's new name."""
        self.restores: dict[str, pg_reuse.Restore] = {}
        """Flavour -> how a database of it is put back."""

    def _create(self, name: str, template: str | None = None) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(_drop_database(name)))
            suffix = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))

    def _where(self, flavour: str) -> str:
        return f"mel_tpl_{self.tag}_{flavour}"

    def _url(self, where: str) -> str:
        return self.url.set(database=where).render_as_string(hide_password=False)

    def _empty(self, where: str) -> None:
        self._create(where)

    def _copy_of(self, template: str, where: str) -> None:
        self._create(where, template)

    @contextmanager
    def connected(self, database: str) -> Iterator[Connection]:
        """One connection to ``database``, in a transaction, closed at the end (no pool stays behind)."""
        engine = create_engine(self._url(database), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()

    def _settle(self, flavour: str, where: str) -> None:
        """The snapshot that each test's database is put back to (not in the empty flavour, which the
        migration tests take apart)."""
        if flavour != "empty":
            with self.connected(where) as conn:
                pg_reuse.take_snapshot(conn)

    def _copy(self, template: str) -> str:
        name = f"mel_t_{self.tag}_{uuid.uuid4().hex[:12]}"
        self._create(name, template)
        return name

    def clone(self, flavour: str) -> tuple[str, str]:
        """A database that holds the flavour's template as it was built, for one test."""
        template = self.get(flavour)
        if flavour == "empty":
            return self._fresh(flavour, template)
        reset = self.resets.pop(flavour, None)
        name = reset.result() if reset is not None else None
        if name is None:
            name = self._copy(template)
        self.lent[name] = flavour
        return name, self._url(name)

    def _fresh(self, flavour: str, template: str) -> tuple[str, str]:
        ahead = self.ahead.setdefault(flavour, deque())
        while len(ahead) <= self.AHEAD:
            ahead.append(self.background.submit(self._copy, template))
        name = ahead.popleft().result()
        return name, self._url(name)

    def _drop(self, name: str) -> None:
        _drop(self.admin, name)

    def drop(self, name: str) -> None:
        """The test is over: its database is put back, or dropped, in the background."""
        flavour = self.lent.pop(name, None)
        if flavour is not None and flavour not in self.resets:
            self.resets[flavour] = self.background.submit(self._put_back, flavour, name)
        else:
            self.background.submit(self._drop, name)

    def _put_back(self, flavour: str, name: str) -> str | None:
        """The database under a new name (what the last test left running can no longer reach it: an app's
        import dispatcher, say), holding the template's rows again; or, if the test changed its schema,
        dropped (None)."""
        renamed = f"mel_t_{self.tag}_{uuid.uuid4().hex[:12]}"
        for attempt in range(5):
            with self.admin.connect() as conn:
                pg_reuse.end_other_sessions(conn, name)
                try:
                    conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"'))
                    break
                except OperationalError:  # someone connected again in between: end it again
                    if attempt == 4:
                        raise
        with self.connected(renamed) as conn:
            unchanged = pg_reuse.schema_unchanged(conn)
            if unchanged:
                if flavour not in self.restores:
                    self.restores[flavour] = pg_reuse.Restore(conn)
                conn.exec_driver_sql(self.restores[flavour].script(pg_reuse.touched(conn)))
        if unchanged:
            return renamed
        self._drop(renamed)
        return None

    def close(self) -> None:
        """Drop this process's copies made ahead; its kept databases and the templates are the run's,
        dropped by ``finish_run``."""
        for ahead in self.ahead.values():
            for copy in ahead:
                self.drop(copy.result())
        self.background.shutdown(wait=True)
        self.admin.dispose()
