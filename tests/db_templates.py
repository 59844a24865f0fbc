"""Template databases for the tests: built once per run, copied per test.

A run (one pytest process, or an xdist controller and its workers) shares a folder named in
``RUN_DIR_ENV``; each template is built there by the first process that asks for it, under a file
lock, and the others wait and then copy it: two workers used to build every template twice (the demo
alone takes seconds on each backend). The PostgreSQL databases a run makes carry its tag in their
names, so the process that started the run drops them all at its end (``finish_run``), also those of a
worker that died.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from mel.catalog.service import load_catalog
from mel.core import migrate
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.paths import INDICATORS_DIR
from mel.core.settings import Settings

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


def finish_run(pg_url: str) -> None:
    """Drop every PostgreSQL database of the run (templates and leftover copies), remove its folder."""
    if pg_url and (run_dir() / "postgresql").exists():  # a process of the run made databases
        admin = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            names = conn.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"mel\\_%\\_{run_tag()}%"},
            ).all()
            for name in names:
                conn.execute(text(_drop_database(name)))
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


def _build_demo(url: str, uploads: Path) -> None:
    from demo.build import build_demo

    engine = make_engine(url)
    settings = Settings(database_url=url, upload_dir=uploads, secret_key="test-secret")
    try:
        build_demo(settings=settings, session_factory=make_sessionmaker(engine))
    finally:
        engine.dispose()


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
            _build_demo(url, self.uploads(flavour))
        if flavour == "catalog":
            _load_catalogs(url)
        self._settle(where)

    def _where(self, flavour: str) -> T:
        raise NotImplementedError

    def _url(self, where: T) -> str:
        raise NotImplementedError

    def _empty(self, where: T) -> None:
        """A new, empty database at ``where``."""

    def _copy_of(self, template: T, where: T) -> None:
        raise NotImplementedError

    def _settle(self, where: T) -> None:
        """Make the finished template ready to be copied."""


class SqliteTemplates(Templates[Path]):
    def _where(self, flavour: str) -> Path:
        return self.root / f"template-{flavour}.sqlite3"

    def _url(self, where: Path) -> str:
        return f"sqlite:///{where}"

    def _copy_of(self, template: Path, where: Path) -> None:
        shutil.copyfile(template, where)

    def _settle(self, where: Path) -> None:
        """Checkpoint the write-ahead log into the file, the only part that is copied."""
        engine = make_engine(self._url(where))
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()


class PgTemplates(Templates[str]):
    """Template databases, and the per-test copies made from them.

    One copy takes PostgreSQL a few tenths of a second, mostly waiting for its disk, and copies made side
    by side hardly take longer than one: so a few copies of each template in use are made ahead, in
    background threads, while the tests run, and a finished test's copy is dropped there too.

    A copy is made file by file (``STRATEGY FILE_COPY``), not page by page through the write-ahead log
    (the default): it waits for two checkpoints, which the threads ahead hide, but writes no 5 MB of log
    per copy and leaves no 10 MB of dirty pages for the next checkpoint (every DROP DATABASE forces one):
    a third less machine CPU per copy and drop, 63 against 89 ms.
    """

    AHEAD = 4

    def __init__(self, url: str, root: Path) -> None:
        super().__init__(root)
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.tag = run_tag()
        self.admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.background = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="pg-copies")
        self.ahead: dict[str, deque[Future[str]]] = {}

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

    def _copy(self, template: str) -> str:
        name = f"mel_t_{self.tag}_{uuid.uuid4().hex[:12]}"
        self._create(name, template)
        return name

    def clone(self, flavour: str) -> tuple[str, str]:
        """A fresh copy of the flavour's template (made ahead of time)."""
        template = self.get(flavour)
        ahead = self.ahead.setdefault(flavour, deque())
        while len(ahead) <= self.AHEAD:
            ahead.append(self.background.submit(self._copy, template))
        name = ahead.popleft().result()
        return name, self._url(name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(_drop_database(name)))

    def drop(self, name: str) -> None:
        """Drop a test's copy in the background (the next test does not wait for it)."""
        self.background.submit(self._drop, name)

    def close(self) -> None:
        """Drop this process's copies; the templates are the run's, dropped by ``finish_run``."""
        for ahead in self.ahead.values():
            for copy in ahead:
                self.drop(copy.result())
        self.background.shutdown(wait=True)
        self.admin.dispose()
