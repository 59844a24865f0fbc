"""The trainings queries: one counting rule, and the one-pass overview agrees with the separate queries."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership
from mel.reports.models import TrainingAttendance
from mel.results.counting import Scope
from mel.results.training_filters import TrainingFilter, counted_trainings, make_training_filter
from mel.results.training_groups import NotCrossable
from mel.results.training_overview import training_overview, training_totals
from mel.results.training_tables import cross_table, knowledge_gain, modality_trend
from tests.training_history import DB_SCENARIOS, Flat, approved, history, participants  # noqa: F401 (the fixture and its stored rows)


def test_queries_share_the_counting_rule(session: Session, history: list[Flat]) -> None:  # noqa: F811
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    filt = make_training_filter(session, partnership_id=partnership.id, partner="yanapanakusun", first_period="2020Q1")
    exported = session.execute(counted_trainings(filt)).all()
    expected = [r for r in approved(history) if r.partner == "yanapanakusun" and r.period >= "2020Q1"]
    assert sorted((e.title, e.female, e.male) for e in exported) == sorted(
        (r.event, r.row.female, r.row.male) for r in expected
    )
    stored = session.scalar(select(func.count(TrainingAttendance.id)))
    assert stored is not None and stored > len(history)  # superseded and returned rows exist but never count
    every = TrainingFilter(partnership.id, Scope(include_provisional=True))
    assert len(session.execute(counted_trainings(every)).all()) == len(history)
    assert cross_table(session, every, "partner").total == sum(r.row.participants for r in history)
    with pytest.raises(NotCrossable):
        cross_table(session, every, "sex", "age")
    other = session.scalars(select(Partner).where(Partner.partnership_id != partnership.id)).first()
    if other is not None:
        assert make_training_filter(session, partnership_id=partnership.id, partner=other.code).scope.partner_ids == []


def test_one_pass_overview_agrees_with_the_separate_queries(session: Session, history: list[Flat]) -> None:  # noqa: F811
    """The page's one-pass overview relies on events not spanning quarters or modalities: check it holds."""
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    for filt in (
        TrainingFilter(partnership.id, Scope(include_provisional=True)),
        make_training_filter(session, partnership_id=partnership.id, partner="ilo", pillar="protection"),
    ):
        overview = training_overview(session, filt)
        assert overview.totals == training_totals(session, filt)
        trend = modality_trend(session, filt)
        assert (overview.trend.rows, overview.trend.cols, overview.trend.cells) == (trend.rows, trend.cols, trend.cells)
        for one_pass, separate in (
            (overview.gain_all, knowledge_gain(session, filt)),
            (overview.gain_by_modality, knowledge_gain(session, filt, "modality")),
        ):
            assert [(g.bucket, g.events, g.events_with_scores, g.participants_scored) for g in one_pass] == [
                (g.bucket, g.events, g.events_with_scores, g.participants_scored) for g in separate
            ]
            means = [m for g in separate for m in (g.mean_pre, g.mean_post)]
            assert [m for g in one_pass for m in (g.mean_pre, g.mean_post)] == pytest.approx(means)
