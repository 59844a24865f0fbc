"""Durable import jobs: uploads wait in a queue in the database and run in limited worker processes.

The upload route only records the job (``enqueue_import``) and answers; a dispatcher thread in
each server process claims queued jobs while fewer than ``MEL_MAX_CONCURRENT_IMPORTS`` run in the
whole instance, and runs each in a worker process (``mel.reports.worker``). The job's stage and
result are rows, so every server process (``mel serve --workers N``, several machines on
PostgreSQL) shows the same progress, and a restart loses nothing: queued jobs run later, and a job
whose process died is marked failed with a message, never left running. On PostgreSQL claims are
serialized by an advisory lock and take their row with ``FOR UPDATE SKIP LOCKED``; on SQLite the
claim is one ``UPDATE`` statement, atomic under SQLite's single writer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from mel.core.audit import Actor
from mel.core.db import transaction, utcnow
from mel.core.settings import Settings
from mel.reports.intake_messages import interrupted_issue
from mel.reports.job_models import ImportJob
from mel.reports.parse_results import Issue
from mel.reports.service import ImportResult, ProgressCallback
from mel.reports.worker import ImportRequest, run_isolated

log = logging.getLogger(__name__)

Runner = Callable[[Settings, ImportRequest, ProgressCallback], ImportResult]
STAGES = ("reading", "checking", "storing")
RUNNING = STAGES
FINISHED = ("done", "failed")
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 120.0
"""A running job whose process has not written for this long (on another machine) is taken for dead."""
MAX_AGE_SECONDS = 3600.0
_CLAIM_LOCK = 0x6D656C13  # "mel" + issue 13: the advisory lock that serializes claims on PostgreSQL


def this_process() -> str:
    """``host:pid`` of this server process: the owner written on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


# --------------------------------------------------------------------------------------------
# What the page shows


@dataclass
class ShownResult:
    """An import's result as stored on its job: what the result page draws (counts, not rows)."""

    status: str
    kind: str = "quarterly_report"
    partner: str | None = None
    partner_name: str | None = None
    period: str | None = None
    version: int | None = None
    submission_id: int | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    infos: list[Issue] = field(default_factory=list)
    values: Sequence[int] = range(0)
    trainings: Sequence[int] = range(0)
    measurements: Sequence[int] = range(0)


def result_json(result: ImportResult, *, detail: bool = False) -> str:
    """The part of an ``ImportResult`` the page needs, as JSON (row lists become their lengths).

    With ``detail`` the whole ``mel import --json`` object comes along under ``detail`` (API jobs).
    """
    extra = {"detail": result.as_json()} if detail else {}
    return json.dumps(
        {
            "status": result.status,
            "kind": result.kind,
            "partner": result.partner,
            "partner_name": result.partner_name,
            "period": result.period,
            "version": result.version,
            "submission_id": result.submission_id,
            "errors": [{**i.as_json(), "indicator_id": i.indicator_id} for i in result.errors],
            "warnings": [i.as_json() for i in result.warnings],
            "infos": [i.as_json() for i in result.infos],
            "values": len(result.values),
            "trainings": len(result.trainings),
            "measurements": len(result.measurements),
            **extra,
        },
        ensure_ascii=False,
    )


def job_detail(session: Session, job_id: str) -> dict[str, Any] | None:
    """The whole ``mel import --json`` object of a finished job that kept it (see ``result_json``)."""
    raw = session.scalar(select(ImportJob.result).where(ImportJob.id == job_id, ImportJob.detail.is_(True)))
    if not raw:
        return None
    found = json.loads(raw).get("detail")
    return found if isinstance(found, dict) else None


def shown_result(raw: str) -> ShownResult:
    data: dict[str, Any] = json.loads(raw)

    def issues(key: str) -> list[Issue]:
        return [
            Issue(i["code"], i["sheet"], i["cell"], i["message"], indicator_id=i.get("indicator_id"))
            for i in data.get(key, [])
        ]

    return ShownResult(
        status=data["status"],
        kind=data.get("kind", "quarterly_report"),
        partner=data.get("partner"),
        partner_name=data.get("partner_name"),
        period=data.get("period"),
        version=data.get("version"),
        submission_id=data.get("submission_id"),
        errors=issues("errors"),
        warnings=issues("warnings"),
        infos=issues("infos"),
        values=range(int(data.get("values", 0))),
        trainings=range(int(data.get("trainings", 0))),
        measurements=range(int(data.get("measurements", 0))),
    )


@dataclass
class JobView:
    """One job as its page shows it."""

    id: str
    filename: str
    stage: str
    fraction: float
    ahead: int
    """Queued jobs before this one (0 once it runs)."""
    result: ShownResult | None

    @property
    def done(self) -> bool:
        return self.stage in FINISHED

    @property
    def failed(self) -> bool:
        return self.stage == "failed" and self.result is None

    @property
    def queued(self) -> bool:
        return self.stage == "queued"

    @property
    def percent(self) -> int:
        """Overall progress: each stage (reading, checking, storing) is a third of the way."""
        index = STAGES.index(self.stage) if self.stage in STAGES else 0
        return round(100 * (index + (self.fraction if self.stage in STAGES else 0.0)) / len(STAGES))


def job_view(session: Session, job_id: str, user_id: int) -> JobView | None:
    """The job, only for the user who started it."""
    job = session.get(ImportJob, job_id)
    if job is None or job.user_id != user_id:
        return None
    ahead = 0
    if job.state == "queued":
        ahead = (
            session.scalar(
                select(func.count())
                .select_from(ImportJob)
                .where(ImportJob.state == "queued", ImportJob.created_at < job.created_at)
            )
            or 0
        )
    result = shown_result(job.result) if job.result else None
    return JobView(job.id, job.filename, job.state, job.fraction, ahead, result)


# --------------------------------------------------------------------------------------------
# Writes: one function each


def enqueue_import(
    *,
    session: Session,
    data: bytes,
    filename: str,
    actor: Actor,
    partner_code: str | None,
    period: str | None,
    lang: str,
    reason: str | None,
    detail: bool = False,
    partnership_code: str | None = None,
) -> str:
    """Record an upload as a queued job; the bytes wait in the row until a worker takes them.

    ``detail`` keeps the whole result on the job (the API answers with it).
    """
    return _add_job(
        session,
        actor,
        filename,
        lang,
        partner_code=partner_code,
        period=period,
        partnership_code=partnership_code,
        reason=reason,
        state="queued",
        fraction=0.0,
        data=data,
        size=len(data),
        detail=detail,
        created_at=utcnow(),
    )


def record_finished(*, session: Session, actor: Actor, filename: str, lang: str, result: ImportResult) -> str:
    """A job that ends before it starts (an upload refused at the door): its result, at once."""
    now = utcnow()
    return _add_job(
        session,
        actor,
        filename,
        lang,
        state="done",
        fraction=1.0,
        size=0,
        result=result_json(result),
        created_at=now,
        finished_at=now,
    )


def _add_job(session: Session, actor: Actor, filename: str, lang: str, **fields: Any) -> str:
    """A new job row with who sent it; ``fields`` give its state."""
    job = ImportJob(
        id=secrets.token_urlsafe(16),
        user_id=actor.user_id,
        actor_label=actor.label,
        actor_ip=actor.ip,
        actor_role=actor.role,
        filename=filename[:300],
        lang=lang,
        **fields,
    )
    session.add(job)
    session.flush()
    return job.id


def claim_next(*, session: Session, owner: str, limit: int) -> str | None:
    """Take the oldest queued job when fewer than ``limit`` run in the whole instance."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
    pick = select(ImportJob.id).where(ImportJob.state == "queued").order_by(ImportJob.created_at, ImportJob.id)
    pick = pick.limit(1).with_for_update(skip_locked=True) if postgres else pick.limit(1)
    busy = select(func.count()).select_from(ImportJob).where(ImportJob.state.in_(RUNNING)).scalar_subquery()
    now = utcnow()
    claimed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == pick.scalar_subquery(), busy < limit)
        .values(state="reading", fraction=0.0, owner=owner, started_at=now, heartbeat_at=now)
        .returning(ImportJob.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    return claimed


def report_progress(*, session: Session, job_id: str, stage: str, fraction: float) -> None:
    """The stage a worker reached (also its heartbeat)."""
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state.in_(RUNNING))
        .values(
            state=stage if stage in STAGES else "reading",
            fraction=max(0.0, min(1.0, fraction)),
            heartbeat_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def heartbeat(*, session: Session, owner: str) -> None:
    """This process is alive: its running jobs are not to be taken for interrupted."""
    session.execute(
        update(ImportJob)
        .where(ImportJob.owner == owner, ImportJob.state.in_(RUNNING))
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def complete_job(*, session: Session, job_id: str, result: ImportResult) -> None:
    """The worker's result; the uploaded bytes are no longer needed."""
    detail = bool(session.scalar(select(ImportJob.detail).where(ImportJob.id == job_id)))
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(state="done", fraction=1.0, result=result_json(result, detail=detail), data=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def fail_interrupted(*, session: Session, now: dt.datetime | None = None, stale_seconds: float = STALE_SECONDS) -> int:
    """Mark failed the running jobs whose process is gone: dead on this host, or silent for too long."""
    now = now or utcnow()
    host = socket.gethostname()
    rows = session.execute(
        select(ImportJob.id, ImportJob.owner, ImportJob.heartbeat_at, ImportJob.lang).where(
            ImportJob.state.in_(RUNNING)
        )
    ).all()
    dead = []
    for job_id, owner, beat, lang in rows:
        owner_host, _, pid = (owner or "").rpartition(":")
        gone = owner_host == host and pid.isdigit() and not _alive(int(pid))
        silent = beat is None or (now - beat).total_seconds() > stale_seconds
        if gone or silent:
            dead.append((job_id, lang))
    for job_id, lang in dead:
        result = ImportResult("rejected", errors=[interrupted_issue(lang)])
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state.in_(RUNNING))
            .values(state="failed", result=result_json(result), data=None, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        log.warning("import job %s was interrupted: marked failed", job_id)
    return len(dead)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_job(*, session: Session, job_id: str) -> None:
    """Drop a finished job once its result has been shown."""
    session.execute(delete(ImportJob).where(ImportJob.id == job_id, ImportJob.state.in_(FINISHED)))


def sweep_jobs(*, session: Session, max_age: float = MAX_AGE_SECONDS) -> None:
    """Drop finished jobs nobody came back for."""
    cutoff = utcnow() - dt.timedelta(seconds=max_age)
    session.execute(delete(ImportJob).where(ImportJob.state.in_(FINISHED), ImportJob.finished_at < cutoff))


def queued_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ImportJob).where(ImportJob.state == "queued")) or 0


# --------------------------------------------------------------------------------------------
# The dispatcher: one per server process


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

    def poke(self) -> None:
        """There may be work: make sure the dispatcher thread runs."""
        with self._lock:
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="mel-import-dispatcher", daemon=True)
                self._thread.start()

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
            except Exception:  # the database is unavailable: stop; the next upload or job page pokes again
                log.exception("import dispatcher")
                with self._lock:
                    self._thread = None
                return
            with self._lock:
                self._running = {k: t for k, t in self._running.items() if t.is_alive()}
                if not more and not self._running and not self._wake.is_set():
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
            if local >= self.settings.max_concurrent_imports:
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
