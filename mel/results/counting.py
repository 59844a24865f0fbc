"""Which stored values count: the one rule every page and export shares.

Only the current (non-superseded) version of a report counts. Official figures use approved
reports; with ``include_provisional`` reports awaiting review count too and are marked.
Returned reports never count. Partner users may be limited to some partners.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal, select, true

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, Indicator
from mel.reports.models import Submission, Value


@dataclass(frozen=True)
class Scope:
    """What a query may see: provisional data or not, some partners only, a range of quarters."""

    include_provisional: bool = False
    partner_ids: Collection[int] | None = None
    first_period: str | None = None
    last_period: str | None = None

    def statuses(self) -> tuple[str, ...]:
        return ("approved", "submitted") if self.include_provisional else ("approved",)


def submission_filter(scope: Scope) -> ColumnElement[bool]:
    """The condition on ``Submission`` rows whose values count under ``scope``."""
    condition: ColumnElement[bool] = Submission.status.in_(scope.statuses())
    if scope.partner_ids is not None:
        condition = and_(condition, Submission.partner_id.in_(list(scope.partner_ids) or [-1]))
    if scope.first_period:
        condition = and_(condition, Submission.period >= scope.first_period)
    if scope.last_period:
        condition = and_(condition, Submission.period <= scope.last_period)
    return condition


def counted_values(
    scope: Scope, *, partnership_id: int | None = None, totals_only: bool = False
) -> Select[*tuple[Any, ...]]:
    """Value rows that count, with their submission's status; add columns or group as needed."""
    query = (
        select(
            Value.indicator_id,
            Value.partner_id,
            Value.period,
            Value.combination_id,
            Value.value,
            Value.submission_id,
            Submission.status,
        )
        .join(Submission, Submission.id == Value.submission_id)
        .where(submission_filter(scope))
    )
    if partnership_id is not None:
        query = query.join(Indicator, Indicator.id == Value.indicator_id).where(
            Indicator.partnership_id == partnership_id
        )
    if totals_only:
        query = query.join(Combination, Combination.id == Value.combination_id).where(
            Combination.key == literal(TOTAL_KEY)
        )
    return query.where(true())
