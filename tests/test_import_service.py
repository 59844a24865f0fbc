"""Storing checked workbooks: versions, duplicates, reasons, all-or-nothing, measurements, reviews, diffs.

Workbooks here are built as ``ParsedWorkbook`` objects (tests/import_factory.py), so storing is tested
apart from parsing; tests/test_import_workbooks.py runs real files through the whole import.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from mel.core.audit import Actor
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.reports import storage
from mel.reports.files import stored_path
from mel.reports.import_result import ImportResult
from mel.reports.parse_results import Issue
from mel.reports.review import ReviewError, review_submission, submission_diff, submission_history
from mel.reports.service import import_parsed
from tests.import_factory import parsed_measurements, parsed_report, training

ACTOR = Actor("tester")
TABLES = (
    "stored_file",
    "submission",
    "value",
    "training_event",
    "training_attendance",
    "narrative_entry",
    "import_warning",
    "measurement_batch",
    "measurement",
    "audit_log",
    "combination",
)


def _store(
    factory: sessionmaker[Session],
    settings: Settings,
    values: list[tuple[str, dict[str, str], float]],
    *,
    partner: str = "ilo",
    period: str = "2021Q3",
    data: bytes | None = None,
    reason: str | None = None,
    **kwargs: object,
) -> ImportResult:
    with transaction(factory) as session:
        parsed = parsed_report(session, partner=partner, period=period, values=values, **kwargs)  # type: ignore[arg-type]
        return import_parsed(
            session=session,
            parsed=parsed,
            data=data if data is not None else repr((partner, period, values)).encode(),
            filename=f"{partner}-{period}.xlsx",
            settings=settings,
            actor=ACTOR,
            reason=reason,
        )


def _counts(session: Session) -> dict[str, int]:
    return {t: int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def _files(settings: Settings) -> list[str]:
    root = Path(settings.upload_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _versions(session: Session, partner: str = "ilo", period: str = "2021Q3") -> list[tuple[int, str]]:
    rows = session.execute(
        text(
            "SELECT s.version, s.status FROM submission s JOIN partner p ON p.id = s.partner_id "
            "WHERE p.code = :p AND s.period = :q ORDER BY s.version"
        ),
        {"p": partner, "q": period},
    ).all()
    return [(int(v), str(s)) for v, s in rows]


def _values(session: Session, version: int) -> dict[tuple[str, str], float]:
    rows = session.execute(
        text(
            "SELECT i.code, c.key, v.value FROM value v JOIN submission s ON s.id = v.submission_id "
            "JOIN indicator i ON i.id = v.indicator_id JOIN combination c ON c.id = v.combination_id "
            "WHERE s.version = :v AND s.period = '2021Q3'"
        ),
        {"v": version},
    ).all()
    return {(code, key): float(value) for code, key, value in rows}


def test_new_upload_is_a_new_version_and_supersedes(session_factory: sessionmaker[Session], settings: Settings) -> None:
    first = _store(session_factory, settings, [("1.1.a", {}, 10), ("1.1.a", {"sex": "female"}, 6)])
    assert (first.status, first.version) == ("accepted", 1)
    second = _store(session_factory, settings, [("1.1.a", {}, 12)])
    assert (second.status, second.version) == ("accepted", 2)
    with session_factory() as session:
        assert _versions(session) == [(1, "superseded"), (2, "submitted")]
        assert sorted(_values(session, 1).values()) == [6.0, 10.0]  # the old version keeps its values
        assert list(_values(session, 2).values()) == [12.0]
        cells = session.execute(text("SELECT sheet, cell FROM value ORDER BY id")).all()
        assert [tuple(c) for c in cells] == [("Indicators", "F5"), ("Indicators", "F6"), ("Indicators", "F5")]
        audit = session.execute(
            text("SELECT action, entity_id FROM audit_log WHERE action LIKE 'submission.%' ORDER BY id")
        ).all()
        assert [a for a, _ in audit] == ["submission.import", "submission.import", "submission.supersede"]
        history = submission_history(session, partner_id=_partner_id(session), period="2021Q3")
        assert [(h.version, h.status, h.values) for h in history] == [(2, "submitted", 1), (1, "superseded", 2)]
    for result in (first, second):
        assert result.sha256 and stored_path(settings.upload_dir, result.sha256).exists()


def _partner_id(session: Session, code: str = "ilo") -> int:
    return int(session.execute(text("SELECT id FROM partner WHERE code = :c"), {"c": code}).scalar_one())


def test_identical_bytes_are_a_duplicate(session_factory: sessionmaker[Session], settings: Settings) -> None:
    first = _store(session_factory, settings, [("1.1.a", {}, 10)], data=b"same bytes")
    with session_factory() as session:
        before = _counts(session)
    again = _store(session_factory, settings, [("1.1.a", {}, 10)], data=b"same bytes")
    assert again.status == "duplicate"
    assert (again.partner, again.period, again.version, again.submission_id) == (
        "ilo",
        "2021Q3",
        1,
        first.submission_id,
    )
    assert again.as_json()["status"] == "duplicate"
    with session_factory() as session:
        assert _counts(session) == before
    assert len(_files(settings)) == 1


def test_new_version_of_an_approved_report_needs_a_reason(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    first = _store(session_factory, settings, [("1.1.a", {}, 10)])
    with transaction(session_factory) as session:
        review_submission(
            session=session, submission_id=first.submission_id or 0, action="approved", comment=None, actor=ACTOR
        )
    refused = _store(session_factory, settings, [("1.1.a", {}, 11)])
    assert refused.status == "rejected"
    assert [e.code for e in refused.errors] == ["reason_required"]
    with session_factory() as session:
        assert _versions(session) == [(1, "approved")]
    accepted = _store(session_factory, settings, [("1.1.a", {}, 11)], reason="Late data from Cusco")
    assert (accepted.status, accepted.version) == ("accepted", 2)
    with session_factory() as session:
        assert _versions(session) == [(1, "superseded"), (2, "submitted")]
        history = submission_history(session, partner_id=_partner_id(session), period="2021Q3")
        assert history[0].reason == "Late data from Cusco"
        assert [r.action for r in history[1].reviews] == ["approved"]


def test_rejected_workbook_stores_nothing_and_keeps_no_file(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as session:
        before = _counts(session)
        parsed = parsed_report(session, partner="ilo", period="2021Q3", values=[("1.1.a", {}, 3)])
        parsed.errors.append(Issue("personal_data", "Trainings", "C4", "names of people"))
        result = import_parsed(session=session, parsed=parsed, data=b"x", filename="f.xlsx", settings=settings)
        session.commit()
        assert result.status == "rejected"
        assert result.as_json()["errors"] == [
            {"code": "personal_data", "sheet": "Trainings", "cell": "C4", "message": "names of people"}
        ]
        assert _counts(session) == before
    assert _files(settings) == []


def test_failure_in_the_middle_leaves_everything_as_before(
    session_factory: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(session_factory, settings, [("1.1.a", {}, 10)])
    with session_factory() as session:
        before = _counts(session)
    files_before = _files(settings)
    seen: list[int] = []

    def broken(session: Session, **_kwargs: object) -> None:
        seen.append(int(session.execute(text("SELECT count(*) FROM value")).scalar_one()))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "insert_trainings", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _store(
            session_factory,
            settings,
            [("1.1.a", {}, 20), ("1.1.a", {"sex": "male", "region": "puno"}, 4)],
            trainings=[training("Oral litigation", dt.date(2021, 8, 2), "mpfn", 10, 10)],
        )
    assert seen == [before["value"] + 2]  # the values were in when it failed
    with session_factory() as session:
        assert _counts(session) == before
        assert _versions(session) == [(1, "submitted")]
    assert _files(settings) == files_before


def test_file_written_then_transaction_rolled_back_is_removed(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """The file is on disk once storing ends; if the caller's transaction then fails, it goes too."""
    with session_factory() as session:
        before = _counts(session)
    with pytest.raises(RuntimeError, match="after storing"), transaction(session_factory) as session:
        parsed = parsed_report(session, partner="ilo", period="2021Q3", values=[("1.1.a", {}, 5)])
        result = import_parsed(session=session, parsed=parsed, data=b"late failure", filename="f", settings=settings)
        assert result.status == "accepted" and len(_files(settings)) == 1
        raise RuntimeError("after storing")
    assert _files(settings) == []
    with session_factory() as session:
        assert _counts(session) == before


def test_trainings_and_narrative_are_stored(session_factory: sessionmaker[Session], settings: Settings) -> None:
    day = dt.date(2021, 8, 12)
    result = _store(
        session_factory,
        settings,
        [("1.1.a", {}, 30)],
        trainings=[
            training("Oral litigation", day, "mpfn", 8, 4),
            training("Oral litigation", day, "pnp", 5, 6),
            training("Financial investigation", day, "mpfn", 3, 4),
        ],
        narrative=[("achievements", "Protocol approved."), ("challenges", "Floods in Puno.")],
    )
    with session_factory() as session:
        events = session.execute(
            text(
                "SELECT e.title, count(a.id), sum(a.female + a.male) FROM training_event e "
                "JOIN training_attendance a ON a.event_id = e.id WHERE e.submission_id = :s "
                "GROUP BY e.title ORDER BY e.title"
            ),
            {"s": result.submission_id},
        ).all()
        assert [tuple(e) for e in events] == [("Financial investigation", 1, 7), ("Oral litigation", 2, 23)]
        narrative = session.execute(
            text("SELECT section, text FROM narrative_entry WHERE submission_id = :s ORDER BY position"),
            {"s": result.submission_id},
        ).all()
        assert [tuple(n) for n in narrative] == [
            ("achievements", "Protocol approved."),
            ("challenges", "Floods in Puno."),
        ]


def test_review_flow(session_factory: sessionmaker[Session], settings: Settings) -> None:
    first = _store(session_factory, settings, [("1.1.a", {}, 10)])
    sid = first.submission_id or 0
    with transaction(session_factory) as session, pytest.raises(ReviewError) as info:
        review_submission(session=session, submission_id=sid, action="returned", comment="  ", actor=ACTOR)
    assert info.value.code == "comment_required"
    officer = Actor("officer")
    with transaction(session_factory) as session:
        review_submission(session=session, submission_id=sid, action="returned", comment="Check 1.1.a", actor=officer)
    with transaction(session_factory) as session, pytest.raises(ReviewError) as info:
        review_submission(session=session, submission_id=sid, action="approved", comment=None, actor=officer)
    assert info.value.code == "not_reviewable"
    second = _store(session_factory, settings, [("1.1.a", {}, 12)])
    with transaction(session_factory) as session:
        review_submission(
            session=session, submission_id=second.submission_id or 0, action="approved", comment=None, actor=officer
        )
    with session_factory() as session:
        assert _versions(session) == [(1, "superseded"), (2, "approved")]
        reviews = session.execute(
            text(
                "SELECT s.version, r.action, r.comment FROM submission_review r "
                "JOIN submission s ON s.id = r.submission_id ORDER BY r.id"
            )
        ).all()
        assert [tuple(r) for r in reviews] == [(1, "returned", "Check 1.1.a"), (2, "approved", None)]
        reviewed = session.execute(
            text("SELECT reviewed_at, review_comment FROM submission WHERE id = :i"), {"i": sid}
        ).one()
        assert reviewed[0] is not None and reviewed[1] == "Check 1.1.a"
        audit = session.execute(
            text(
                "SELECT actor, action FROM audit_log "
                "WHERE action IN ('submission.return', 'submission.approve') ORDER BY id"
            )
        ).all()
        assert [tuple(a) for a in audit] == [("officer", "submission.return"), ("officer", "submission.approve")]


def test_diff_against_previous_version(session_factory: sessionmaker[Session], settings: Settings) -> None:
    _store(session_factory, settings, [("1.1.a", {}, 10), ("1.1.a", {"sex": "female"}, 6), ("1.b", {}, 3)])
    second = _store(
        session_factory, settings, [("1.1.a", {}, 12), ("1.1.a", {"sex": "female"}, 6), ("1.1.a", {"sex": "male"}, 6)]
    )
    with session_factory() as session:
        diff = submission_diff(session, second.submission_id or 0)
    assert (diff.version, diff.previous_version) == (2, 1)
    got = {
        (line.indicator, tuple(sorted(line.categories.items())), line.old, line.new, line.change) for line in diff.lines
    }
    assert got == {
        ("1.1.a", (), 10.0, 12.0, "changed"),
        ("1.1.a", (("sex", "female"),), 6.0, 6.0, "unchanged"),
        ("1.1.a", (("sex", "male"),), None, 6.0, "added"),
        ("1.b", (), 3.0, None, "removed"),
    }
    assert len(diff.changed) == 3


def test_measurements_import_and_replacement(session_factory: sessionmaker[Session], settings: Settings) -> None:
    def load(rows: list[tuple[str, str, str, dict[str, str], float]], data: bytes) -> ImportResult:
        with transaction(session_factory) as session:
            parsed = parsed_measurements(session, rows)
            return import_parsed(
                session=session, parsed=parsed, data=data, filename="m.xlsx", settings=settings, actor=ACTOR
            )

    first = load([("1.a", "baseline", "2017", {}, 8), ("3.a", "baseline", "2018", {"sex": "female"}, 40.2)], b"m1")
    assert (first.status, first.kind) == ("accepted", "measurements")
    second = load([("1.a", "baseline", "2017", {}, 9), ("1.a", "endline", "2022", {}, 14)], b"m2")
    assert second.status == "accepted"
    with session_factory() as session:
        rows = session.execute(
            text(
                "SELECT i.code, m.round, m.date, c.key, m.value, m.batch_id FROM measurement m "
                "JOIN indicator i ON i.id = m.indicator_id JOIN combination c ON c.id = m.combination_id"
            )
        ).all()
        got = {(code, rnd, date, key == "", value, batch) for code, rnd, date, key, value, batch in rows}
        assert got == {
            ("1.a", "baseline", "2017", True, 9.0, second.batch_id),
            ("1.a", "endline", "2022", True, 14.0, second.batch_id),
            ("3.a", "baseline", "2018", False, 40.2, first.batch_id),
        }
        replaced = session.execute(text("SELECT before FROM audit_log WHERE action = 'measurement.replace'")).all()
        assert len(replaced) == 1
        before = replaced[0][0]
        before = before if isinstance(before, dict) else __import__("json").loads(before)
        assert (before["value"], before["round"], before["batch_id"]) == (8.0, "baseline", first.batch_id)


def test_outlier_and_cumulative_warnings(session_factory: sessionmaker[Session], settings: Settings) -> None:
    history = {"2020Q3": (10, 50), "2020Q4": (12, 52), "2021Q1": (11, 48), "2021Q2": (9, 50)}
    for period, (trained, cases) in history.items():
        _store(session_factory, settings, [("1.1.a", {}, trained), ("1.b", {}, cases)], period=period)
    result = _store(session_factory, settings, [("1.1.a", {}, 45), ("1.b", {}, 150)], period="2021Q3")
    codes = {(w.code, w.cell) for w in result.warnings}
    # 45 >= 10+12+11+9 = 42: a running total; 150 against 48-52 (below their sum 200): an outlier
    assert codes == {("looks_cumulative", "F5"), ("outlier", "F6")}
    with session_factory() as session:
        stored = session.execute(
            text("SELECT code, cell FROM import_warning WHERE submission_id = :s"), {"s": result.submission_id}
        ).all()
        assert {tuple(r) for r in stored} == codes
    quiet = _store(session_factory, settings, [("1.1.a", {}, 11), ("1.b", {}, 51)], period="2021Q4")
    assert quiet.warnings == []


def test_concurrent_uploads_give_one_version_sequence(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    results: list[ImportResult] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(10)

    def upload(n: int) -> None:
        try:
            barrier.wait()
            results.append(_store(session_factory, settings, [("1.1.a", {}, 100 + n)], data=f"upload {n}".encode()))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(r.version or 0 for r in results) == list(range(1, 11))
    with session_factory() as session:
        versions = _versions(session)
        assert [v for v, _s in versions] == list(range(1, 11))
        assert [s for _v, s in versions] == ["superseded"] * 9 + ["submitted"]
        assert int(session.execute(text("SELECT count(*) FROM value")).scalar_one()) == 10
