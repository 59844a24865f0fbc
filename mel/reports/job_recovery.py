"""Recovering from dead processes: a running job whose process died is marked failed with a
message, never left running (``mel.reports.job_dispatcher`` calls this at start-up and on its
heartbeat)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.core.db import utcnow
from mel.reports.import_result import ImportResult
from mel.reports.intake_messages import interrupted_issue
from mel.reports.job_models import RUNNING, ImportJob
from mel.reports.job_results import result_json

log = logging.getLogger(__name__)


STALE_SECONDS = 120.0
"""A running job whose process has not written for this long (on another machine) is taken for dead."""


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
