"""The trainings page's headline figures: totals, the quarterly trend by modality and knowledge gain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent
from mel.results.training_filters import TrainingFilter, _rows_from
from mel.results.training_groups import (
    ALL_TRAININGS,
    PARTICIPANTS,
    WIDTH,
    Bucket,
    _bucket,
    _fill_quarters,
    _grouped,
    quarter_bucket,
)
from mel.results.training_tables import CrossTable, GainRow, _gain_measures, _gain_row

_A = TrainingAttendance


@dataclass(frozen=True)
class TrainingTotals:
    events: int
    rows: int
    participants: int
    participant_hours: float
    first_period: str | None
    last_period: str | None


def training_totals(session: Session, filt: TrainingFilter) -> TrainingTotals:
    """Events, rows, participants and participant-hours (participants × the row's hours, when recorded)."""
    query = _rows_from(
        select(
            func.count(distinct(TrainingEvent.id)),
            func.count(_A.id),
            func.coalesce(func.sum(PARTICIPANTS), 0),
            func.coalesce(func.sum(case((_A.hours.is_not(None), PARTICIPANTS * _A.hours), else_=0.0)), 0.0),
            func.min(Submission.period),
            func.max(Submission.period),
        ),
        filt,
    )
    events, rows, participants, hours, first, last = session.execute(query).one()
    return TrainingTotals(int(events), int(rows), int(participants), float(hours), first, last)


@dataclass(frozen=True)
class Overview:
    """The page's headline figures: totals, the quarter × modality trend, knowledge gain overall and by modality."""

    totals: TrainingTotals
    trend: CrossTable
    gain_all: list[GainRow]
    gain_by_modality: list[GainRow]


def training_overview(session: Session, filt: TrainingFilter) -> Overview:
    """``training_totals``, ``modality_trend`` and ``knowledge_gain`` (overall, by modality) in one pass.

    One GROUP BY quarter and modality over the counted rows: an event belongs to one report (one
    quarter) and has one modality, so its distinct counts add up across these groups, and the few
    dozen groups are rolled up here instead of scanning the rows four times.
    """
    measures = [
        func.sum(PARTICIPANTS),
        func.count(_A.id),
        func.sum(case((_A.hours.is_not(None), PARTICIPANTS * _A.hours), else_=0.0)),
        *_gain_measures(),
    ]
    groups = session.execute(_grouped(filt, ["quarter", "modality"], measures)).all()
    modalities: dict[str, Bucket] = {}
    cells: dict[tuple[str, str], int] = defaultdict(int)
    gain_sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * 6)
    events = rows = participants = 0
    hours = 0.0
    seen_quarters: list[str] = []
    for rec in groups:
        quarter, code = rec[0], rec[WIDTH]
        people, count, group_hours, *gain = rec[2 * WIDTH :]
        bucket = modalities.setdefault(code, _bucket("modality", rec[WIDTH : 2 * WIDTH]))
        events += int(gain[0] or 0)
        rows += int(count or 0)
        participants += int(people or 0)
        hours += float(group_hours or 0.0)
        seen_quarters.append(quarter)
        if people:
            cells[(quarter, bucket.code)] += int(people)
        sums = gain_sums[bucket.code]
        for n, number in enumerate(gain):
            sums[n] += float(number or 0)
    ordered = sorted(modalities.values(), key=lambda b: b.order)
    with_people = [b for b in ordered if any(key[1] == b.code for key in cells)]
    quarters_seen = sorted({q for q, _m in cells})
    trend = CrossTable(
        "quarter", "modality", _fill_quarters([quarter_bucket(q) for q in quarters_seen]), with_people, dict(cells)
    )
    by_modality = [_gain_row(b, gain_sums[b.code]) for b in ordered]
    overall = [float(sum(v)) for v in zip(*gain_sums.values(), strict=True)] if gain_sums else []
    gain_all = [_gain_row(ALL_TRAININGS, overall)] if events else []
    totals = TrainingTotals(
        events,
        rows,
        participants,
        hours,
        min(seen_quarters) if seen_quarters else None,
        max(seen_quarters) if seen_quarters else None,
    )
    return Overview(totals, trend, gain_all, by_modality)


def busiest_training_partnership(session: Session, partner_id: int | None) -> str | None:
    """The code of the partnership with the most training events (a partner: among its own), so
    that the trainings link never opens an empty page."""
    query = (
        select(Partnership.code)
        .outerjoin(Partner, Partner.partnership_id == Partnership.id)
        .outerjoin(Submission, Submission.partner_id == Partner.id)
        .outerjoin(TrainingEvent, TrainingEvent.submission_id == Submission.id)
        .group_by(Partnership.id, Partnership.code, Partnership.starts_on)
        .order_by(func.count(TrainingEvent.id).desc(), Partnership.starts_on, Partnership.code)
    )
    if partner_id is not None:
        query = query.where(Partnership.id.in_(select(Partner.partnership_id).where(Partner.id == partner_id)))
    return session.scalars(query.limit(1)).first()
