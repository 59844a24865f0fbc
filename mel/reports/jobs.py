"""Imports run in a background thread so that a large upload shows its stage instead of freezing.

The upload route starts a job and answers at once (or as soon as a small file is done); the page
then polls the job, which reports the stage given by the importer's ``progress`` callback. Jobs
live in the app's memory only, belong to the user who started them, and are dropped once their
result has been shown (or after an hour when nobody came back for it).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mel.reports.service import ImportResult

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
MAX_AGE_SECONDS = 3600.0
STAGES = ("reading", "checking", "storing")


@dataclass
class ImportJob:
    id: str
    user_id: int
    filename: str
    stage: str = "queued"
    fraction: float = 0.0
    result: ImportResult | None = None
    failed: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def percent(self) -> int:
        """Overall progress: each stage (reading, checking, storing) is a third of the way."""
        index = STAGES.index(self.stage) if self.stage in STAGES else 0
        return round(100 * (index + (self.fraction if self.stage in STAGES else 0.0)) / len(STAGES))


class ImportJobs:
    """The running and finished imports of one app, keyed by a random id."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def start(self, *, user_id: int, filename: str, run: Callable[[Progress], ImportResult]) -> ImportJob:
        """Run ``run(progress)`` in a thread; its result (or failure) is kept on the job."""
        self.sweep()
        job = ImportJob(secrets.token_urlsafe(16), user_id, filename)

        def progress(stage: str, fraction: float) -> None:
            job.stage, job.fraction = stage, max(0.0, min(1.0, fraction))

        def work() -> None:
            try:
                job.result = run(progress)
            except Exception:  # the page must not poll forever: record the failure, log the cause
                log.exception("import job %s failed", job.id)
                job.failed = True
            finally:
                job.finished = time.monotonic()

        job.thread = threading.Thread(target=work, name=f"import-{job.id[:6]}", daemon=True)
        with self._lock:
            self._jobs[job.id] = job
        job.thread.start()
        return job

    def get(self, job_id: str, user_id: int) -> ImportJob | None:
        """The job, only for the user who started it."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user_id else None

    def forget(self, job_id: str) -> None:
        """Drop a finished job once its result has been shown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.done:
                del self._jobs[job_id]

    def sweep(self, max_age: float = MAX_AGE_SECONDS) -> None:
        """Drop finished jobs nobody came back for."""
        now = time.monotonic()
        with self._lock:
            stale = [k for k, j in self._jobs.items() if j.finished is not None and now - j.finished > max_age]
            for key in stale:
                del self._jobs[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)


_registry_lock = threading.Lock()


def import_jobs(app: Any) -> ImportJobs:
    """The app's job registry (``app.state.report_jobs``), created on first use."""
    with _registry_lock:
        jobs: ImportJobs | None = getattr(app.state, "report_jobs", None)
        if jobs is None:
            jobs = app.state.report_jobs = ImportJobs()
    return jobs
