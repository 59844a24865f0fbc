"""One SQLAlchemy engine per database backend for a whole test process, opened on each test's own database.

An engine compiles a SQL statement once and keeps the result in its own cache, whose key holds the
engine's dialect: a new engine per test compiled every statement of every page again, about a tenth
of a test process's CPU on either backend. The engine here lives as long as the process; ``at(url)``
points it at a test's database (a fresh copy, as before), and every connection it opens from then on
goes to that database (SQLAlchemy's ``do_connect`` event sets the connect arguments). The ``engine``
fixture empties the pool (``release``) when its test ends, before the test's database is dropped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from mel.core.db import make_engine


class ProcessEngines:
    """The process's engine of each backend, and the database each one connects to now."""

    def __init__(self) -> None:
        self.engines: dict[str, Engine] = {}
        self.targets: dict[str, URL | None] = {}

    def at(self, url: str) -> Engine:
        """The backend's engine, its new connections opened on ``url``'s database (its pool is empty: made
        now, or emptied by ``release`` when the last test ended)."""
        target = make_url(url)
        backend = target.get_backend_name()
        engine = self.engines.get(backend)
        if engine is None:
            engine = make_engine(url)
            event.listen(engine, "do_connect", self._connect_to_target)
            self.engines[backend] = engine
        self.targets[backend] = target
        return engine

    def release(self, engine: Engine) -> None:
        """The test is over: close the pool's connections, and refuse new ones until the next ``at``."""
        engine.dispose()
        self.targets[engine.dialect.name] = None

    def _connect_to_target(self, dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        target = self.targets[dialect.name]
        if target is None:
            raise RuntimeError("a connection was asked for after its test ended")
        args, params = dialect.create_connect_args(target)
        cargs[:] = args
        cparams.update(params)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
