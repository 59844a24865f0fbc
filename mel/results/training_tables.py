"""Participants in cross tables (by one or two dimensions) and knowledge gain, rolled up from grouped passes.

Tables that only use sex, age and ``CUBE_DIMENSIONS`` share one GROUP BY over those dimensions (a
result of a few hundred rows whatever the history's size), and so may the knowledge gain by one of
them (``tables_and_gain``); a table by partner or quarter gets its own GROUP BY.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, Float, case, cast, distinct, func
from sqlalchemy.orm import Session

from mel.reports.models import TrainingAttendance, TrainingEvent
from mel.results.training_filters import TrainingFilter
from mel.results.training_groups import (
    _MEASURES,
    _SCORED,
    ALL_TRAININGS,
    DIMENSIONS,
    PARTICIPANTS,
    PARTICIPANTS_BUCKET,
    SPLIT_DIMENSIONS,
    TOTAL_COLUMN,
    WIDTH,
    Bucket,
    NotCrossable,
    _bucket,
    _fill_quarters,
    _grouped,
    split_buckets,
)

_A = TrainingAttendance


@dataclass
class CrossTable:
    """Participants by one dimension (``cols`` is one "participants" column) or by two."""

    row_dim: str
    col_dim: str | None
    rows: list[Bucket]
    cols: list[Bucket]
    cells: dict[tuple[str, str], int]

    def cell(self, row: str, col: str) -> int:
        return self.cells.get((row, col), 0)

    def row_total(self, row: str) -> int:
        return sum(self.cell(row, c.code) for c in self.cols)

    def col_total(self, col: str) -> int:
        return sum(self.cell(r.code, col) for r in self.rows)

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def matrix(self) -> list[tuple[Bucket, list[int], int]]:
        """Rows as (bucket, cells in column order, row total) for templates."""
        return [(r, [self.cell(r.code, c.code) for c in self.cols], self.row_total(r.code)) for r in self.rows]

    def chart(self, lang: str) -> dict[str, Any]:
        """Chart.js-ready data in ``lang``: one dataset per column, rows on the axis."""
        return {
            "labels": [r.label(lang) for r in self.rows],
            "datasets": [
                {"label": c.label(lang), "data": [self.cell(r.code, c.code) for r in self.rows]} for c in self.cols
            ],
            "stacked": self.col_dim is not None,
        }


def cross_table(session: Session, filt: TrainingFilter, row_dim: str, col_dim: str | None = None) -> CrossTable:
    """Participants by ``row_dim`` (and ``col_dim``): one GROUP BY query over the counted rows.

    Sex and age are columns of a row, so they become several SUMs of one grouped query; they
    cannot be crossed with each other (``NotCrossable``): no row records sex by age.
    """
    return cross_tables(session, filt, [(row_dim, col_dim)])[0]


CUBE_DIMENSIONS: Final = ("institution", "region", "modality", "pillar")
"""Attribute dimensions with few categories: grouped together, their combinations stay a few hundred."""


def cross_tables(session: Session, filt: TrainingFilter, specs: Sequence[tuple[str, str | None]]) -> list[CrossTable]:
    """Several tables, each (rows, columns or None), with as few passes over the rows as possible.

    Tables that only use sex, age and ``CUBE_DIMENSIONS`` come from one GROUP BY over those
    dimensions (a result of at most a few hundred rows, whatever the history's size), rolled up
    here; any other table (by partner or quarter) gets its own GROUP BY.
    """
    return tables_and_gain(session, filt, specs)[0]


def tables_and_gain(
    session: Session,
    filt: TrainingFilter,
    specs: Sequence[tuple[str, str | None]],
    *,
    gain_by: str | None = None,
) -> tuple[list[CrossTable], list[GainRow]]:
    """``cross_tables`` and, from the same grouped pass, ``knowledge_gain(by=gain_by)``.

    ``gain_by`` is one of ``CUBE_DIMENSIONS``: the cube groups by it with region, modality and
    pillar, which no event spans, so its distinct-event counts add up across the other keys.
    """
    for row_dim, col_dim in specs:
        for dim in (row_dim, col_dim):
            if dim is not None and dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r}")
        if row_dim == col_dim or (row_dim in SPLIT_DIMENSIONS and col_dim in SPLIT_DIMENSIONS):
            raise NotCrossable(f"{row_dim} x {col_dim}")
    cube = [spec for spec in specs if all(d is None or d in SPLIT_DIMENSIONS + CUBE_DIMENSIONS for d in spec)]
    done: dict[tuple[str, str | None], CrossTable] = {}
    gain: list[GainRow] = []
    if cube or gain_by:
        if gain_by is not None and gain_by not in CUBE_DIMENSIONS:
            raise ValueError(f"knowledge gain by {gain_by!r} does not come from the cube")
        used = {d for spec in cube for d in spec} | {gain_by}
        dims: list[str] = [d for d in CUBE_DIMENSIONS if d in used]
        facts = _facts(session, filt, dims, gain=gain_by is not None)
        for spec in cube:
            done[spec] = _shape(session, filt, spec, facts)
        if gain_by is not None:
            gain = _gain_from(facts, gain_by)
    for spec in specs:
        if spec not in done:
            dims = [str(d) for d in spec if d is not None and d not in SPLIT_DIMENSIONS]
            done[spec] = _shape(session, filt, spec, _facts(session, filt, dims))
    return [done[spec] for spec in specs], gain


@dataclass
class _Facts:
    """A grouped result: per group, the code of each dimension and every measure; and the buckets seen.

    ``gains`` holds, per group (with or without participants), the sums of ``_gain_measures``."""

    buckets: dict[str, dict[str, Bucket]]
    groups: list[tuple[dict[str, str], dict[str, int]]]
    gains: list[tuple[dict[str, str], tuple[Any, ...]]] = field(default_factory=list)


def _facts(session: Session, filt: TrainingFilter, dims: list[str], *, gain: bool = False) -> _Facts:
    names = list(_MEASURES)
    measures = [*_MEASURES.values(), *(_gain_measures() if gain else [])]
    buckets: dict[str, dict[str, Bucket]] = {d: {} for d in dims}
    groups = []
    gains = []
    for rec in session.execute(_grouped(filt, dims, measures)):
        codes = {}
        for n, dim in enumerate(dims):
            code = rec[WIDTH * n]
            codes[dim] = code
            if code not in buckets[dim]:
                buckets[dim][code] = _bucket(dim, rec[WIDTH * n : WIDTH * (n + 1)])
        numbers = {name: int(rec[WIDTH * len(dims) + m] or 0) for m, name in enumerate(names)}
        if numbers[TOTAL_COLUMN] or not dims:
            groups.append((codes, numbers))
        if gain:
            gains.append((codes, tuple(rec[WIDTH * len(dims) + len(names) :])))
    return _Facts(buckets, groups, gains)


def _gain_from(facts: _Facts, by: str) -> list[GainRow]:
    """``knowledge_gain(by=...)`` rolled up from the cube's groups (see ``tables_and_gain``)."""
    sums: dict[str, list[float]] = {}
    for codes, numbers in facts.gains:
        total = sums.setdefault(codes[by], [0.0] * len(numbers))
        for n, number in enumerate(numbers):
            total[n] += float(number or 0)
    rows = [_gain_row(facts.buckets[by][code], total) for code, total in sums.items()]
    return sorted(rows, key=lambda g: g.bucket.order)


def _shape(session: Session, filt: TrainingFilter, spec: tuple[str, str | None], facts: _Facts) -> CrossTable:
    """Roll the grouped facts up into one table; a split (sex, age) contributes its measures as categories."""
    row_dim, col_dim = spec
    participants = [PARTICIPANTS_BUCKET]

    def axis(dim: str | None) -> list[Bucket]:
        if dim is None:
            return participants
        if dim in SPLIT_DIMENSIONS:
            return split_buckets(session, filt.partnership_id, dim)
        found = sorted({codes[dim] for codes, _n in facts.groups})
        buckets = sorted((facts.buckets[dim][code] for code in found), key=lambda b: b.order)
        return _fill_quarters(buckets) if dim == "quarter" else buckets

    rows, cols = axis(row_dim), axis(col_dim)
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for codes, numbers in facts.groups:
        if row_dim in SPLIT_DIMENSIONS:
            for r in rows:
                cells[(r.code, codes[col_dim] if col_dim else TOTAL_COLUMN)] += numbers[r.code]
        elif col_dim in SPLIT_DIMENSIONS:
            for c in cols:
                cells[(codes[row_dim], c.code)] += numbers[c.code]
        else:
            cells[(codes[row_dim], codes[col_dim] if col_dim else TOTAL_COLUMN)] += numbers[TOTAL_COLUMN]
    return CrossTable(row_dim, col_dim, rows, cols, dict(cells))


def modality_trend(session: Session, filt: TrainingFilter) -> CrossTable:
    """Participants per quarter and modality: where the 2020 move online shows."""
    return cross_table(session, filt, "quarter", "modality")


@dataclass(frozen=True)
class GainRow:
    """Knowledge gain of one group: participant-weighted means over rows with both scores."""

    bucket: Bucket
    events: int
    events_with_scores: int
    participants_scored: int
    mean_pre: float | None
    mean_post: float | None

    @property
    def mean_gain(self) -> float | None:
        if self.mean_pre is None or self.mean_post is None:
            return None
        return self.mean_post - self.mean_pre

    @property
    def share_scored(self) -> float | None:
        return 100.0 * self.events_with_scores / self.events if self.events else None


def _gain_measures() -> list[ColumnElement[Any]]:
    """Events, scored events, scored participants, weighted pre and post sums and their weight: all additive
    over groups that split no event (an event has one quarter, modality, region and pillar)."""
    weight = cast(PARTICIPANTS, Float)
    return [
        func.count(distinct(TrainingEvent.id)),
        func.count(distinct(case((_SCORED, TrainingEvent.id)))),
        func.sum(case((_SCORED, PARTICIPANTS), else_=0)),
        func.sum(case((_SCORED, _A.pre_score * weight), else_=0.0)),
        func.sum(case((_SCORED, _A.post_score * weight), else_=0.0)),
        func.sum(case((_SCORED, weight), else_=0.0)),
    ]


def _gain_row(bucket: Bucket, sums: Sequence[Any]) -> GainRow:
    events, scored_events, people, pre_sum, post_sum, wsum = sums
    has = bool(wsum)
    return GainRow(
        bucket,
        int(events or 0),
        int(scored_events or 0),
        int(people or 0),
        float(pre_sum) / float(wsum) if has else None,
        float(post_sum) / float(wsum) if has else None,
    )


def knowledge_gain(session: Session, filt: TrainingFilter, by: str | None = None) -> list[GainRow]:
    """Mean pre-test, post-test and gain, weighted by the participants of each scored row.

    Weighting by participants (not averaging events) lets a 60-person course weigh more than a
    6-person one; only rows with both scores count, so pre and post describe the same people.
    ``by`` groups by an attribute dimension; None gives one overall row.
    """
    dims = [by] if by else []
    result = []
    for rec in session.execute(_grouped(filt, dims, _gain_measures())):
        bucket = _bucket(by, rec[:WIDTH]) if by else ALL_TRAININGS
        result.append(_gain_row(bucket, rec[WIDTH * len(dims) :]))
    if not by and result and result[0].events == 0:
        return []
    return sorted(result, key=lambda g: g.bucket.order)
