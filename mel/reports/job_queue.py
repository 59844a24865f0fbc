"""Durable import jobs: uploads wait in a queue in the database, shared by every server process.

The upload route only records the job (``enqueue_import``) and answers; a dispatcher
(``mel.reports.job_dispatcher``) claims queued jobs while fewer than ``MEL_MAX_CONCURRENT_IMPORTS``
run in the whole instance. The job's stage and result are rows, so every server process
(``mel serve --workers N``, several machines on PostgreSQL) shows the same progress, and a restart
loses nothing. On PostgreSQL claims are serialized by an advisory lock and take their row with
``FOR UPDATE SKIP LOCKED``; on SQLite the claim is one ``UPDATE`` statement, atomic under SQLite's
single writer. Writes: one function each.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from mel.core.audit import Actor
from mel.core.db import utcnow
from mel.reports.import_result import ImportResult
from mel.reports.job_models import FINISHED, RUNNING, STAGES, ImportJob
from mel.reports.job_results import result_json

MAX_AGE_SECONDS = 3600.0
_CLAIM_LOCK = 0x6D656C13  # "mel" + issue 13: the advisory lock that serializes claims on PostgreSQL


def this_process() -> str:
    """``host:pid`` of this server process: the owner written on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


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


def forget_job(*, session: Session, job_id: str) -> None:
    """Drop a finished job once its result has been shown."""
    session.execute(delete(ImportJob).where(ImportJob.id == job_id, ImportJob.state.in_(FINISHED)))


def sweep_jobs(*, session: Session, max_age: float = MAX_AGE_SECONDS) -> None:
    """Drop finished jobs nobody came back for."""
    cutoff = utcnow() - dt.timedelta(seconds=max_age)
    session.execute(delete(ImportJob).where(ImportJob.state.in_(FINISHED), ImportJob.finished_at < cutoff))


def queued_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ImportJob).where(ImportJob.state == "queued")) or 0
