"""An import killed (SIGKILL) at any stage leaves the database and the upload folder consistent.

The import worker is killed at each named stage in turn (``mel.reports.worker.CRASH_ENV``: reading,
checking, storing before and after the rows and the file, after the commit); after every kill the
database holds either the whole report or none of it, every stored file row has its original on disk
with the right digest, the start-up sweep clears what the dead process left, and what was stored
before is still served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.models import Partner
from mel.core.audit import CLI
from mel.core.settings import Settings
from mel.reports.files import stored_path, sweep_upload_dir
from mel.reports.models import StoredFile, Submission, TrainingAttendance, TrainingEvent, Value
from mel.reports.service import import_workbook
from mel.reports.worker import CRASH_ENV
from mel.web.app import create_app
from mel.workbooks.report_writer import IndicatorRow, Report, TrainingRow, write_report
from mel.workbooks.spec import partner_spec
from tests.cli_process import run_mel

TRAININGS = 300
BEFORE_COMMIT = ["reading:0", "checking:0", "checking:1", "storing:0", "storing:0.8", "storing:1"]


def _workbook(session: Session, period: str, trainings: int) -> bytes:
    spec = partner_spec(session, partner_code="ilo", period=period)
    year, quarter = int(period[:4]), int(period[5])
    day = dt.date(year, 3 * quarter - 2, 10)
    rows = [
        TrainingRow(f"Taller {n}", day, "prosecution", "cusco", "virtual", "mpfn", female=n % 7, male=n % 5)
        for n in range(trainings)
    ]
    report = Report("ilo", period, [IndicatorRow("4.a", 3), IndicatorRow("4.1.a", 1)], trainings=rows)
    return write_report(report, spec.dimensions, "en")


def _counts(factory: sessionmaker[Session], period: str) -> tuple[int, int, int]:
    with factory() as session:
        subs = session.scalar(
            select(func.count())
            .select_from(Submission)
            .join(Partner)
            .where(Partner.code == "ilo", Submission.period == period)
        )
        values = session.scalar(select(func.count()).select_from(Value).where(Value.period == period))
        rows = session.scalar(
            select(func.count())
            .select_from(TrainingAttendance)
            .join(TrainingEvent)
            .join(Submission)
            .where(Submission.period == period)
        )
    return int(subs or 0), int(values or 0), int(rows or 0)


def _files_agree(factory: sessionmaker[Session], upload_dir: Path) -> None:
    with factory() as session:
        for sha in session.scalars(select(StoredFile.sha256)):
            path = stored_path(upload_dir, sha)
            assert path.exists(), f"stored_file {sha} has no file"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_killed_import_leaves_everything_consistent(
    settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path, login_as: Callable[..., TestClient]
) -> None:
    with session_factory() as session, session.begin():
        earlier = import_workbook(
            session=session,
            data=_workbook(session, "2021Q2", 10),
            filename="ilo-2021Q2.xlsx",
            settings=settings,
            partner_code="ilo",
            period="2021Q2",
            actor=CLI,
        )
        big = _workbook(session, "2021Q3", TRAININGS)
    assert earlier.status == "accepted"
    path = tmp_path / "ilo-2021Q3.xlsx"
    path.write_bytes(big)
    env = {
        **os.environ,
        "MEL_DATABASE_URL": settings.database_url,
        "MEL_UPLOAD_DIR": str(settings.upload_dir),
        "MEL_SECRET_KEY": "test-secret",
    }
    command = ["import", str(path), "--partner", "ilo", "--period", "2021Q3", "--json"]
    for stage in [*BEFORE_COMMIT, "committed"]:
        run = run_mel(command, env={**env, CRASH_ENV: stage})
        if stage != "committed":  # a worker that dies after its commit has stored the report all the same
            answer = json.loads(run.stdout)
            assert (run.returncode, answer["status"]) == (1, "rejected"), (stage, run.stdout, run.stderr)
            assert [e["code"] for e in answer["errors"]] == ["could_not_read"]
        stored = _counts(session_factory, "2021Q3")
        assert stored == ((1, 2, TRAININGS) if stage == "committed" else (0, 0, 0)), stage
        _files_agree(session_factory, settings.upload_dir)
        with session_factory() as session:
            sweep_upload_dir(session, settings.upload_dir, older_than_seconds=0)
        leftovers = [p for p in settings.upload_dir.glob("*/*") if p.is_file()]
        with session_factory() as session:
            known = set(session.scalars(select(StoredFile.sha256)))
        assert {p.stem for p in leftovers} == known, stage
    # the report committed before its worker died is there once: importing it again finds it
    again = run_mel(command, env=env)
    assert json.loads(again.stdout)["status"] == "duplicate"

    app = create_app(settings)
    with TestClient(app) as client:
        login_as(client, "officer")
        assert client.get(f"/submissions/{earlier.submission_id}").status_code == 200
        original = client.get(f"/submissions/{earlier.submission_id}/file")
        assert original.status_code == 200
        assert hashlib.sha256(original.content).hexdigest() == earlier_sha(session_factory, earlier.submission_id)
    app.state.engine.dispose()


def earlier_sha(factory: sessionmaker[Session], submission_id: int | None) -> str:
    with factory() as session:
        sha = session.scalar(select(Submission.file_sha256).where(Submission.id == submission_id))
    assert sha
    return sha
