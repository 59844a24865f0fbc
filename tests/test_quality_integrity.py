"""Theory-of-change integrity on small frameworks built for the purpose: each gap once, and none when whole."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_id
from mel.catalog.models import Indicator, Partnership, Result, Target
from mel.quality.integrity import integrity_issues
from mel.reports.models import Measurement, MeasurementBatch, StoredFile


def _framework(session: Session, code: str, links: dict[str, tuple[str, list[str]]]) -> tuple[Partnership, dict]:
    partnership = Partnership(
        code=code, name=code, country="PE", starts_on=dt.date(2020, 1, 1), ends_on=dt.date(2022, 12, 31)
    )
    session.add(partnership)
    session.flush()
    results: dict[str, Result] = {}
    for n, (rcode, (level, _to)) in enumerate(links.items()):
        results[rcode] = Result(partnership_id=partnership.id, code=rcode, level=level, statement=rcode, position=n)
        session.add(results[rcode])
    session.flush()
    for rcode, (_level, to) in links.items():
        results[rcode].contributes_to = [results[t] for t in to]
    session.flush()
    return partnership, results


def _indicator(
    session: Session, partnership: Partnership, result: Result, code: str, *, baseline: bool = True, target: bool = True
) -> None:
    ind = Indicator(
        partnership_id=partnership.id,
        result_id=result.id,
        code=code,
        name=code,
        unit="count",
        aggregation="sum",
        direction="increase",
        baseline_value=0.0 if baseline else None,
    )
    session.add(ind)
    session.flush()
    if target:
        session.add(Target(indicator_id=ind.id, period="", value=10.0))
        session.flush()


def test_each_gap_is_reported(session: Session) -> None:
    partnership, r = _framework(
        session,
        "toc-gaps",
        {
            "IMP": ("impact", []),
            "O1": ("outcome", ["IMP"]),
            "O2": ("outcome", ["IMP"]),
            "OUT1": ("output", ["O1"]),
            "OUT2": ("output", ["IMP"]),
            "OUT3": ("output", ["OUT1"]),
            "OUT4": ("output", ["OUT2"]),
        },
    )
    _indicator(session, partnership, r["IMP"], "IMP.a")
    _indicator(session, partnership, r["O1"], "O1.a")
    _indicator(session, partnership, r["OUT1"], "OUT1.a")
    _indicator(session, partnership, r["OUT2"], "OUT2.a", baseline=False, target=False)
    _indicator(session, partnership, r["OUT3"], "OUT3.a", target=False)
    issues = integrity_issues(session, partnership.id)
    assert [(i.kind, i.subject) for i in issues] == [
        ("outcome_without_indicator", "O2"),
        ("result_without_indicator", "OUT4"),
        ("indicator_without_baseline", "OUT2.a"),
        ("indicator_without_target", "OUT2.a"),
        ("indicator_without_target", "OUT3.a"),
        ("output_skips_outcome", "OUT2"),
        ("output_skips_outcome", "OUT4"),
    ]
    assert issues[0].message("en") == "Outcome O2 has no outcome-level indicator."
    spanish = integrity_issues(session, partnership.id)
    assert spanish[0].message("es") != issues[0].message("en") and "O2" in spanish[0].message("es")


def test_whole_framework_has_no_gap(session: Session) -> None:
    partnership, r = _framework(
        session,
        "toc-whole",
        {"IMP": ("impact", []), "O1": ("outcome", ["IMP"]), "OUT1": ("output", ["O1"]), "OUT2": ("output", ["OUT1"])},
    )
    for code, result in r.items():
        _indicator(session, partnership, result, f"{code}.a")
    assert integrity_issues(session, partnership.id) == []


def test_a_measured_baseline_counts(session: Session) -> None:
    partnership, r = _framework(session, "toc-measured", {"IMP": ("impact", []), "O1": ("outcome", ["IMP"])})
    _indicator(session, partnership, r["IMP"], "IMP.a")
    _indicator(session, partnership, r["O1"], "O1.a", baseline=False)
    assert [(i.kind, i.subject) for i in integrity_issues(session, partnership.id)] == [
        ("indicator_without_baseline", "O1.a")
    ]
    session.add(StoredFile(sha256="b" * 64, size=1, original_name="baseline.xlsx"))
    session.flush()
    batch = MeasurementBatch(partnership_id=partnership.id, file_sha256="b" * 64)
    session.add(batch)
    session.flush()
    o1a = session.scalars(select(Indicator).where(Indicator.code == "O1.a")).one()
    session.add(
        Measurement(
            batch_id=batch.id,
            indicator_id=o1a.id,
            combination_id=combination_id(session, []),
            round="baseline",
            date="2020-03-01",
            value=4.0,
            sheet="Measurements",
            cell="D5",
        )
    )
    session.flush()
    assert integrity_issues(session, partnership.id) == []
