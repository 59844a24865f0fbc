"""New and repeat participants of trainings, by institution and region.

Training rows carry, as an aggregate, how many of their participants the project had trained
before (``repeat``). New participants are the rest: counting them alone stops a life-of-partnership
sum from counting the same official twice. Rows whose repeat participants were not recorded are
kept apart (``unrecorded``), never guessed as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.orm import Session

from mel.reports.models import TrainingAttendance
from mel.results.training_filters import TrainingFilter
from mel.results.training_groups import ALL_TRAININGS, PARTICIPANTS, WIDTH, Bucket, _bucket, _grouped

_A = TrainingAttendance
_RECORDED = _A.repeat.is_not(None)
MEASURES: list[Any] = [
    func.sum(PARTICIPANTS),
    func.sum(case((_RECORDED, _A.repeat), else_=0)),
    func.sum(case((_RECORDED, PARTICIPANTS - _A.repeat), else_=0)),
    func.sum(case((_RECORDED, 0), else_=PARTICIPANTS)),
]
"""Participants, repeat, new (rows that recorded repeat participants) and participants of rows that did not."""


@dataclass(frozen=True)
class NewRepeatRow:
    bucket: Bucket
    participants: int
    repeat: int
    new: int
    unrecorded: int

    @property
    def repeat_pct(self) -> float | None:
        """Repeat participants as a share of the participants of rows that recorded them."""
        recorded = self.repeat + self.new
        return self.repeat / recorded * 100 if recorded else None


def _row(bucket: Bucket, sums: Any) -> NewRepeatRow:
    people, repeat, new, unrecorded = (int(x or 0) for x in sums)
    return NewRepeatRow(bucket, people, repeat, new, unrecorded)


def new_and_repeat(session: Session, filt: TrainingFilter, by: str | None = None) -> list[NewRepeatRow]:
    """New and repeat participants overall (``by`` None) or by an attribute dimension: one GROUP BY."""
    dims = [by] if by else []
    out = []
    for rec in session.execute(_grouped(filt, dims, MEASURES)):
        bucket = _bucket(by, rec[:WIDTH]) if by else ALL_TRAININGS
        row = _row(bucket, rec[WIDTH * len(dims) :])
        if row.participants or not by:
            out.append(row)
    return sorted(out, key=lambda r: r.bucket.order)
