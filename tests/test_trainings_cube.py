"""The trainings page's cross tables and knowledge gain by institution come from one grouped pass:
it must say what the separate queries and the stored rows say."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.results.counting import Scope
from mel.results.training_filters import TrainingFilter, make_training_filter
from mel.results.training_tables import cross_tables, knowledge_gain, tables_and_gain
from tests.training_history import DB_SCENARIOS, Flat, history  # noqa: F401 (the fixture and its stored rows)

SPECS: list[tuple[str, str | None]] = [("institution", "sex"), ("region", "modality"), ("pillar", None)]


def _filters(session: Session) -> list[TrainingFilter]:
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    return [
        TrainingFilter(partnership.id, Scope(include_provisional=True)),
        TrainingFilter(partnership.id, Scope()),
        make_training_filter(session, partnership_id=partnership.id, partner="ilo", pillar="protection"),
    ]


def test_one_pass_agrees_with_the_separate_queries(session: Session, history: list[Flat]) -> None:  # noqa: F811
    for filt in _filters(session):
        tables, gain = tables_and_gain(session, filt, SPECS, gain_by="institution")
        separate = cross_tables(session, filt, SPECS)
        assert [(t.rows, t.cols, t.cells) for t in tables] == [(t.rows, t.cols, t.cells) for t in separate]
        expected = knowledge_gain(session, filt, "institution")
        assert [(g.bucket, g.events, g.events_with_scores, g.participants_scored) for g in gain] == [
            (g.bucket, g.events, g.events_with_scores, g.participants_scored) for g in expected
        ]
        means = [m for g in expected for m in (g.mean_pre, g.mean_post)]
        assert [m for g in gain for m in (g.mean_pre, g.mean_post)] == pytest.approx(means)


def test_events_spanning_institutions_are_counted_once_per_institution(session: Session, history: list[Flat]) -> None:  # noqa: F811
    """Counted from the stored rows here: an event with rows of two institutions counts for each."""
    rows = [r for r in history if r.status == "approved"]
    assert any(len({r.row.institution for r in rows if r.event == event}) > 1 for event in {r.event for r in rows}), (
        "the fixture needs an event with several institutions"
    )
    events: dict[str, set[str]] = defaultdict(set)
    scored: dict[str, set[str]] = defaultdict(set)
    people: dict[str, int] = defaultdict(int)
    for r in rows:
        events[r.row.institution].add(r.event)
        if r.row.pre_score is not None and r.row.post_score is not None and r.row.participants:
            scored[r.row.institution].add(r.event)
            people[r.row.institution] += r.row.participants
    _tables, gain = tables_and_gain(session, _filters(session)[1], SPECS, gain_by="institution")
    found = {g.bucket.code: (g.events, g.events_with_scores, g.participants_scored) for g in gain}
    assert found == {i: (len(events[i]), len(scored[i]), people[i]) for i in events}


def test_gain_by_a_dimension_outside_the_cube_is_refused(session: Session) -> None:
    with pytest.raises(ValueError):
        tables_and_gain(session, _filters(session)[1], SPECS, gain_by="quarter")
