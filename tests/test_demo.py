"""The demo history, built through the importer: complete, reviewed, corrected, measured, idempotent.

Building it takes a while: the run builds it once per backend, with ``build_demo`` as ``mel demo`` does,
into the demo template (``tests/db_templates.py``, which keeps what the build reported); one test per
backend checks that build, on its copy of the template, with SQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from demo.build import DemoSummary, demo_partner_codes
from demo.history import CORRECTED, MISMATCH, PENDING
from demo.quarter_context import PERIODS
from mel.cli import app
from mel.core.settings import Settings


@pytest.mark.demo_db
@pytest.mark.xdist_group("demo")  # with the other demo tests: one worker waits for the build, not two
def test_demo_history(
    settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    demo_summary: DemoSummary,
) -> None:
    summary = demo_summary
    assert summary.imported > 0
    # the start-up summary adds up: every imported report is approved, returned or awaiting review
    assert summary.imported == summary.approved + summary.returned + summary.pending
    assert summary.pending == len(PENDING)
    with session_factory() as session:
        partners = demo_partner_codes(session)
        assert len(partners) >= 5
        _every_quarter_reported(session, partners)
        _corrections_and_reviews(session)
        _measurements(session)
        _trainings_match_people_trained(session)
        counts = _counts(session)

    # `mel demo` on the built database recognizes every file and stores nothing twice
    monkeypatch.setenv("MEL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MEL_UPLOAD_DIR", str(settings.upload_dir))
    result = CliRunner().invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "already in the database" in result.output
    # the account list says which partner and language each account has
    accounts = {line.split()[0]: line.split() for line in result.output.splitlines() if "@demo.mel" in line}
    assert accounts["ilo@demo.mel"][1:4] == ["partner", "ilo", "es"]
    assert accounts["officer@demo.mel"][1:4] == ["officer", "—", "en"]
    with session_factory() as session:
        assert _counts(session) == counts


def _counts(session: Session) -> tuple[int, ...]:
    tables = ("submission", "value", "training_event", "measurement", "stored_file")
    return tuple(int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables)


def _every_quarter_reported(session: Session, partners: list[str]) -> None:
    rows = session.execute(
        text(
            "SELECT p.code, s.period FROM submission s JOIN partner p ON p.id = s.partner_id "
            "WHERE s.status <> 'superseded'"
        )
    ).all()
    current = {(code, period) for code, period in rows}
    missing = [(p, q) for p in partners for q in PERIODS if (p, q) not in current]
    assert not missing


def _corrections_and_reviews(session: Session) -> None:
    rows = session.execute(
        text(
            "SELECT p.code, s.period, s.version, s.status FROM submission s JOIN partner p ON p.id = s.partner_id "
            "WHERE s.version > 1"
        )
    ).all()
    assert {(code, period) for code, period, _v, _s in rows} == set(CORRECTED)
    returned = session.execute(
        text(
            "SELECT p.code, s.period FROM submission_review r JOIN submission s ON s.id = r.submission_id "
            "JOIN partner p ON p.id = s.partner_id WHERE r.action = 'returned'"
        )
    ).all()
    assert {tuple(r) for r in returned} == set(CORRECTED)
    statuses = dict(
        session.execute(
            text("SELECT status, count(*) FROM submission GROUP BY status"),
        ).all()
    )
    assert statuses.get("approved", 0) > 0
    assert statuses.get("superseded", 0) == len(CORRECTED)
    pending = session.execute(
        text(
            "SELECT p.code, s.period FROM submission s JOIN partner p ON p.id = s.partner_id "
            "WHERE s.status = 'submitted'"
        )
    ).all()
    assert {tuple(r) for r in pending} == set(PENDING)


def _measurements(session: Session) -> None:
    rows = session.execute(
        text(
            "SELECT i.code, m.round, m.comparable FROM measurement m JOIN indicator i ON i.id = m.indicator_id "
            "JOIN combination c ON c.id = m.combination_id WHERE c.key = ''"
        )
    ).all()
    by_indicator = {(code, rnd): bool(comparable) for code, rnd, comparable in rows}
    for code in ("IMP.a", "1.a", "2.b", "3.a"):
        assert (code, "baseline") in by_indicator and (code, "endline") in by_indicator, code
    assert by_indicator[("3.a", "endline")] is False
    assert by_indicator[("1.a", "endline")] is True
    assert ("IMP.a", "midline") in by_indicator


def _trainings_match_people_trained(session: Session) -> None:
    """1.1.a totals equal the sum of the prosecution training rows, except the one deliberate mismatch."""
    values = session.execute(
        text(
            "SELECT p.code, s.period, v.value FROM value v JOIN submission s ON s.id = v.submission_id "
            "JOIN partner p ON p.id = s.partner_id JOIN indicator i ON i.id = v.indicator_id "
            "JOIN combination c ON c.id = v.combination_id "
            "WHERE i.code = '1.1.a' AND c.key = '' AND s.status <> 'superseded'"
        )
    ).all()
    trained = dict(
        ((code, period), int(total))
        for code, period, total in session.execute(
            text(
                "SELECT p.code, s.period, sum(a.female + a.male + a.other) FROM training_attendance a "
                "JOIN training_event e ON e.id = a.event_id JOIN submission s ON s.id = e.submission_id "
                "JOIN partner p ON p.id = s.partner_id "
                "WHERE e.pillar = 'prosecution' AND s.status <> 'superseded' GROUP BY p.code, s.period"
            )
        ).all()
    )
    assert len(values) >= 3 * len(PERIODS)
    different = {(code, period) for code, period, value in values if trained.get((code, period), 0) != int(value)}
    assert different == {MISMATCH[:2]}
