"""Real workbooks through the whole import: personal data never kept, versions, files on disk, progress."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from mel.core.db import transaction
from mel.core.paths import IMPORTS_DIR
from mel.core.settings import Settings
from mel.reports.files import stored_path
from mel.reports.import_result import ImportResult
from mel.reports.service import import_workbook
from mel.workbooks.template import HEADER_ROW

SAMPLE = IMPORTS_DIR / "ilo-2021Q3.xlsx"


def _import(factory: sessionmaker[Session], settings: Settings, data: bytes, **kwargs: object) -> ImportResult:
    with transaction(factory) as session:
        return import_workbook(session=session, data=data, filename="report.xlsx", settings=settings, **kwargs)  # type: ignore[arg-type]


def _files(settings: Settings) -> list[Path]:
    root = Path(settings.upload_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _with_column(header: str, value: str) -> bytes:
    wb = load_workbook(SAMPLE)
    ws = wb["Trainings"]
    col = ws.max_column + 1
    ws.cell(row=HEADER_ROW, column=col, value=header)
    ws.cell(row=HEADER_ROW + 1, column=col, value=value)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _count(session: Session, table: str) -> int:
    return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_personal_data_is_rejected_and_not_kept(session_factory: sessionmaker[Session], settings: Settings) -> None:
    result = _import(session_factory, settings, _with_column("Nombre completo", "María Quispe"))
    assert result.status == "rejected"
    assert "personal_data" in {e.code for e in result.errors}
    assert _files(settings) == []
    with session_factory() as session:
        assert _count(session, "stored_file") == 0
        assert _count(session, "submission") == 0


def test_reupload_makes_versions_and_keeps_each_file(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    stages: list[str] = []
    first = _import(session_factory, settings, SAMPLE.read_bytes(), progress=lambda s, _f: stages.append(s))
    assert (first.status, first.version, first.partner, first.period) == ("accepted", 1, "ilo", "2021Q3")
    assert stages[0] == "reading" and "checking" in stages and stages[-1] == "storing"
    changed = _with_column("Observaciones del evento", "virtual")  # an unknown column: information only
    second = _import(session_factory, settings, changed)
    assert (second.status, second.version) == ("accepted", 2)
    assert second.infos
    for result in (first, second):
        assert result.sha256
        path = stored_path(settings.upload_dir, result.sha256)
        assert path.exists()
    assert stored_path(settings.upload_dir, first.sha256 or "").read_bytes() == SAMPLE.read_bytes()
    assert len(_files(settings)) == 2
    with session_factory() as session:
        statuses = session.execute(text("SELECT version, status FROM submission ORDER BY version")).all()
        assert [tuple(s) for s in statuses] == [(1, "superseded"), (2, "submitted")]
        per_version = dict(
            session.execute(
                text(
                    "SELECT s.version, count(*) FROM value v JOIN submission s ON s.id = v.submission_id "
                    "GROUP BY s.version"
                )
            ).all()
        )
        assert per_version == {1: len(first.values), 2: len(second.values)}
    again = _import(session_factory, settings, SAMPLE.read_bytes())
    assert (again.status, again.version, again.submission_id) == ("duplicate", 1, first.submission_id)


def test_dry_run_then_real_import(session_factory: sessionmaker[Session], settings: Settings) -> None:
    dry = _import(session_factory, settings, SAMPLE.read_bytes(), dry_run=True)
    assert (dry.status, dry.version, dry.submission_id) == ("accepted", 1, None)
    assert _files(settings) == []
    real = _import(session_factory, settings, SAMPLE.read_bytes())
    assert real.status == "accepted"
    assert [v.as_json() for v in real.values] == [v.as_json() for v in dry.values]


def test_partner_flag_must_match_the_cover(session_factory: sessionmaker[Session], settings: Settings) -> None:
    result = _import(session_factory, settings, SAMPLE.read_bytes(), partner_code="chs")
    assert result.status == "rejected"
    assert "partner_mismatch" in {e.code for e in result.errors}
    assert _files(settings) == []
