"""Durable import jobs: seen from any server process, surviving a restart, queued beyond the limit.

Two apps on one database stand for two ``mel serve`` workers (or two machines on PostgreSQL);
a restart is a new app started in serving mode (its lifespan recovers the queue).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.models import User
from mel.core.audit import Actor
from mel.core.db import transaction, utcnow
from mel.core.settings import Settings
from mel.reports.import_result import ImportResult
from mel.reports.job_dispatcher import Dispatcher, dispatcher
from mel.reports.job_models import ImportJob
from mel.reports.job_queue import claim_next, complete_job, enqueue_import
from mel.reports.models import Submission
from mel.web.app import create_app
from tests.html_soup import soup
from tests.report_factory import GOOD, HX, finish, upload, workbook

Login = Callable[..., TestClient]


def _user_id(session: Session, email: str) -> int:
    found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def _job_id(response: Any) -> str:
    page = soup(response.text)
    running = page.select_one(".job-running")
    assert running is not None, response.text
    return str(running["hx-get"]).rsplit("/", 1)[-1]


def test_a_job_started_on_one_worker_is_seen_from_another(
    settings: Settings, login_as: Login, session: Session
) -> None:
    first, second = create_app(settings), create_app(settings)
    with TestClient(first) as one, TestClient(second) as two:
        login_as(one, "partner", partner="ilo")
        login_as(two, "partner", partner="ilo")
        # neither may run imports yet; then only the first (its own settings, as in another process)
        settings.max_concurrent_imports = 0
        first.state.settings = settings.model_copy()
        response = upload(one, workbook(session, "ilo", GOOD))
        job_id = _job_id(response)
        queued = soup(two.get(f"/reports/jobs/{job_id}", headers=HX).text)
        assert queued.select_one(".job-running")["data-stage"] == "queued"  # type: ignore[index]
        assert queued.select_one(".queue")["data-ahead"] == "0"  # type: ignore[index]
        first.state.settings.max_concurrent_imports = 2  # now the first worker takes it...
        dispatcher(first).poke()
        page = finish(two, two.get(f"/reports/jobs/{job_id}", headers=HX))  # ...and the second shows it
        assert page.select_one(".import-result")["data-status"] == "accepted"  # type: ignore[index]
    stored = session.scalars(select(Submission.version)).all()
    assert stored == [1]
    first.state.engine.dispose()
    second.state.engine.dispose()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_restart_fails_interrupted_jobs_and_runs_queued_ones(
    settings: Settings, login_as: Login, session: Session
) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        login_as(client, "partner", partner="ilo")
    user = _user_id(session, "partner-ilo@example.org")
    actor = Actor("partner-ilo@example.org", user, "198.51.100.7", role="partner")
    with transaction(app.state.sessionmaker) as tx:
        interrupted = enqueue_import(
            session=tx,
            data=workbook(session, "ilo", GOOD),
            filename="a.xlsx",
            actor=actor,
            partner_code="ilo",
            period="2021Q3",
            lang="es",
            reason=None,
        )
        # the process that was running it died mid-import (a crash, a restart)
        tx.execute(
            ImportJob.__table__.update()
            .where(ImportJob.id == interrupted)
            .values(state="checking", owner=f"{socket.gethostname()}:{_dead_pid()}", heartbeat_at=utcnow())
        )
        waiting = enqueue_import(
            session=tx,
            data=workbook(session, "ilo", GOOD),
            filename="b.xlsx",
            actor=actor,
            partner_code="ilo",
            period="2021Q3",
            lang="en",
            reason=None,
        )
    app.state.engine.dispose()

    restarted = create_app(settings, serving=True)
    with TestClient(restarted) as client:  # the lifespan runs the recovery
        login_as(client, "partner", partner="ilo")
        failed = soup(client.get(f"/reports/jobs/{interrupted}", headers=HX).text)
        row = failed.select_one("table.issues tr.issue")
        assert row is not None and row["data-code"] == "could_not_read"
        assert "se interrumpió" in row.get_text()  # in the uploader's language
        page = finish(client, client.get(f"/reports/jobs/{waiting}", headers=HX))
        assert page.select_one(".import-result")["data-status"] == "accepted"  # type: ignore[index]
    assert session.scalars(select(Submission.version)).all() == [1]
    restarted.state.engine.dispose()


def test_imports_beyond_the_limit_wait_in_the_queue(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo")
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.max_concurrent_imports = 1
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    actor = Actor("officer@example.org", None, None, role="officer")
    with transaction(factory) as tx:  # another server is busy with a long import
        busy = enqueue_import(
            session=tx,
            data=b"x",
            filename="big.xlsx",
            actor=actor,
            partner_code="ilo",
            period="2021Q3",
            lang="en",
            reason=None,
        )
        assert claim_next(session=tx, owner="elsewhere:1", limit=1) == busy
    claims = dispatcher(client.app)
    rounds = claims.rounds
    response = upload(client, workbook(session, "ilo", GOOD))
    job_id = _job_id(response)
    deadline = time.monotonic() + 30
    while claims.rounds < rounds + 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # two rounds since the upload: the dispatcher had its chance at the job
    assert claims.rounds >= rounds + 2
    page = soup(client.get(f"/reports/jobs/{job_id}", headers=HX).text)
    assert page.select_one(".job-running")["data-stage"] == "queued"  # type: ignore[index]
    assert page.select_one(".queue") is not None
    with transaction(factory) as tx:
        assert claim_next(session=tx, owner="elsewhere:1", limit=1) is None  # the limit holds for claims
        complete_job(session=tx, job_id=busy, result=ImportResult("rejected"))
    page = finish(client, client.get(f"/reports/jobs/{job_id}", headers=HX))
    assert page.select_one(".import-result")["data-status"] == "accepted"  # type: ignore[index]


def test_claims_never_exceed_the_limit(session_factory: Any) -> None:
    actor = Actor("cli")
    with transaction(session_factory) as tx:
        queued = [
            enqueue_import(
                session=tx,
                data=b"x",
                filename=f"{n}.xlsx",
                actor=actor,
                partner_code=None,
                period=None,
                lang="en",
                reason=None,
            )
            for n in range(3)
        ]
    claimed = []
    for owner in ("a:1", "b:2", "c:3"):
        with transaction(session_factory) as tx:
            claimed.append(claim_next(session=tx, owner=owner, limit=2))
    assert claimed == [queued[0], queued[1], None]  # oldest first, and never more than two at once


def test_a_stopped_dispatcher_ends_its_import_and_claims_no_more(settings: Settings, session_factory: Any) -> None:
    """``stop`` is what the owner of an app that ends before its process relies on: it returns once the
    import it runs has been recorded, and a job queued afterwards stays queued, even when poked."""
    started, release = threading.Event(), threading.Event()

    def slow(_settings: Settings, _request: Any, _progress: Any) -> ImportResult:
        started.set()
        release.wait(10)
        return ImportResult("rejected")

    def queue(name: str) -> str:
        with transaction(session_factory) as tx:
            return enqueue_import(
                session=tx,
                data=b"x",
                filename=name,
                actor=Actor("cli"),
                partner_code=None,
                period=None,
                lang="en",
                reason=None,
            )

    def state(job_id: str) -> str:
        with session_factory() as s:
            return str(s.scalar(select(ImportJob.state).where(ImportJob.id == job_id)))

    running = Dispatcher(settings, session_factory, runner=slow)
    first = queue("first.xlsx")
    running.poke()
    assert started.wait(10)
    threading.Timer(0.3, release.set).start()
    running.stop()
    assert state(first) == "done"  # stop waited for the import and its record
    second = queue("second.xlsx")
    running.poke()
    time.sleep(0.6)  # a dispatcher that still ran would have claimed it within its half-second tick
    assert state(second) == "queued"
