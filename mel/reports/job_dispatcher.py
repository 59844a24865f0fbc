"""The dispatcher: one per server process, it claims queued import jobs (``mel.reports.job_queue``)
and runs each in a worker process (``mel.reports.worker``), in its own thread, while fewer than
``MEL_MAX_CONCURRENT_IMPORTS`` run in the whole instance.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mel.core.audit import Actor
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.reports.import_result import ImportResult
from mel.reports.intake_messages import interrupted_issue
from mel.reports.job_models import ImportJob
from mel.reports.job_queue import (
    claim_next,
    complete_job,
    heartbeat,
    queued_count,
    report_progress,
    sweep_jobs,
    this_process,
)
from mel.reports.job_recovery import fail_interrupted
from mel.reports.service import ProgressCallback
from mel.reports.worker import ImportRequest, run_isolated

log = logging.getLogger(__name__)


Runner = Callable[[Settings, ImportRequest, ProgressCallback], ImportResult]

HEARTBEAT_SECONDS = 5.0


class Dispatcher:
    """Claims queued jobs for this process and runs each in a worker process, in its own thread.

    It runs only while there is work (queued jobs anywhere, or jobs of its own running) and is woken
    by ``poke``: after an upload, when a page looks at a queued job, and at start-up.
    """

    def __init__(self, settings: Settings, factory: sessionmaker[Session], runner: Runner = run_isolated) -> None:
        self.settings = settings
        self.factory = factory
        self.runner = runner
        self.owner = this_process()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._running: dict[str, threading.Thread] = {}
        self._last_check = 0.0
        self._stopped = False
        self.rounds = 0
        """How many times it has looked for work to claim: a caller that waits for one more round knows the
        dispatcher had its chance at what was queued before."""

    def poke(self) -> None:
        """There may be work: make sure the dispatcher thread runs."""
        with self._lock:
            if self._stopped:
                return
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="mel-import-dispatcher", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Claim no more jobs, and wait (at most ``timeout`` seconds each) for the loop and the imports it
        runs to end: for the owner of an app that ends while its process, and an engine it shared, go on."""
        with self._lock:
            self._stopped = True
            self._wake.set()
            threads = [t for t in (self._thread, *self._running.values()) if t is not None]
        for thread in threads:
            thread.join(timeout)

    def recover(self) -> int:
        """At start-up: fail what a dead process left running, then run what is queued."""
        with transaction(self.factory) as session:
            failed = fail_interrupted(session=session)
        self.poke()
        return failed

    def _loop(self) -> None:
        while True:
            try:
                more = self._tick()
                self.rounds += 1
            except Exception:  # the database is unavailable: stop; the next upload or job page pokes again
                log.exception("import dispatcher")
                with self._lock:
                    self._thread = None
                return
            with self._lock:
                self._running = {k: t for k, t in self._running.items() if t.is_alive()}
                if self._stopped or (not more and not self._running and not self._wake.is_set()):
                    self._thread = None
                    return
                self._wake.clear()
            self._wake.wait(0.5)

    def _tick(self) -> bool:
        now = time.monotonic()
        if now - self._last_check > HEARTBEAT_SECONDS:
            self._last_check = now
            with transaction(self.factory) as session:
                heartbeat(session=session, owner=self.owner)
                fail_interrupted(session=session)
                sweep_jobs(session=session)
        while True:
            with self._lock:
                local = sum(t.is_alive() for t in self._running.values())
            if self._stopped or local >= self.settings.max_concurrent_imports:
                break
            with transaction(self.factory) as session:
                job_id = claim_next(session=session, owner=self.owner, limit=self.settings.max_concurrent_imports)
            if job_id is None:
                break
            thread = threading.Thread(target=self._run, args=(job_id,), name=f"import-{job_id[:6]}", daemon=True)
            with self._lock:
                self._running[job_id] = thread
            thread.start()
        with self.factory() as session:
            return queued_count(session) > 0

    def _run(self, job_id: str) -> None:
        with self.factory() as session:
            job = session.get(ImportJob, job_id)
            if job is None or job.data is None:
                return
            request = ImportRequest(
                data=job.data,
                filename=job.filename,
                partner_code=job.partner_code,
                period=job.period,
                partnership_code=job.partnership_code,
                lang=job.lang,
                actor=Actor(job.actor_label, job.user_id, job.actor_ip, role=job.actor_role),
                reason=job.reason,
            )
        last: dict[str, Any] = {"at": 0.0, "stage": ""}

        def progress(stage: str, fraction: float) -> None:
            moment = time.monotonic()
            if stage == last["stage"] and moment - last["at"] < 0.5 and fraction < 1.0:
                return  # the page polls once a second: no need to write more often
            last.update(at=moment, stage=stage)
            with transaction(self.factory) as session:
                report_progress(session=session, job_id=job_id, stage=stage, fraction=fraction)

        try:
            result = self.runner(self.settings, request, progress)
        except Exception:
            log.exception("import job %s failed", job_id)
            result = ImportResult("rejected", errors=[interrupted_issue(request.lang)])
        with transaction(self.factory) as session:
            complete_job(session=session, job_id=job_id, result=result)
        self._wake.set()


_registry_lock = threading.Lock()


def dispatcher(app: Any) -> Dispatcher:
    """The app's dispatcher (``app.state.import_dispatcher``), created on first use."""
    with _registry_lock:
        found: Dispatcher | None = getattr(app.state, "import_dispatcher", None)
        if found is None:
            found = app.state.import_dispatcher = Dispatcher(app.state.settings, app.state.sessionmaker)
    return found
