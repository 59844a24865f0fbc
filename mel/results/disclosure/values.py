"""Stored values through the disclosure gate: which reported cells of sensitive indicators to hide.

A list of values (the values export, the sources of a number) holds, per partner and quarter, an
indicator's total and its breakdowns: the total minus the other categories would give a hidden
category away, so each partner-quarter is protected as one small table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, CombinationMember, Dimension, Indicator, Partnership
from mel.reports.models import Value
from mel.results.counting import Scope, counted_values
from mel.results.disclosure import Viewer, breakdown_relations, protect

ValueKey = tuple[int, int, str, int]
"""indicator id, partner id, period, combination id"""


def combination_members(session: Session, combination_ids: Collection[int]) -> dict[int, frozenset[tuple[int, int]]]:
    """(dimension id, category id) pairs of each combination; the total is the empty set."""
    out: dict[int, set[tuple[int, int]]] = defaultdict(set)
    ids = sorted(set(combination_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                CombinationMember.combination_id, CombinationMember.dimension_id, CombinationMember.category_id
            ).where(CombinationMember.combination_id.in_(ids[start : start + 500]))
        )
        for combo, dim, cat in rows:
            out[combo].add((dim, cat))
    return {c: frozenset(out.get(c, set())) for c in ids}


def category_counts(session: Session, partnership_id: int) -> dict[int, int]:
    """Categories per dimension id: a breakdown adds up to its total only when it covers them all."""
    rows = session.execute(
        select(Category.dimension_id, func.count())
        .join(Dimension, Dimension.id == Category.dimension_id)
        .where(Dimension.partnership_id == partnership_id)
        .group_by(Category.dimension_id)
    )
    return {dim: int(n) for dim, n in rows}


def sensitive_indicator_ids(session: Session, partnership_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Indicator.id).where(Indicator.partnership_id == partnership_id, Indicator.sensitive.is_(True))
        )
    )


def hidden_values(
    session: Session,
    partnership: Partnership,
    viewer: Viewer,
    scope: Scope,
    *,
    indicator_ids: Collection[int] | None = None,
) -> dict[ValueKey, str]:
    """The stored values of ``partnership`` under ``scope`` that ``viewer`` must not read, with the reason."""
    if not viewer.suppress:
        return {}
    sensitive = sensitive_indicator_ids(session, partnership.id)
    if indicator_ids is not None:
        sensitive &= set(indicator_ids)
    if not sensitive:
        return {}
    query = counted_values(scope, partnership_id=partnership.id).where(Value.indicator_id.in_(sorted(sensitive)))
    groups: dict[tuple[int, int, str], dict[int, float | None]] = defaultdict(dict)
    for iid, pid, period, combo, value, _sub, _status in session.execute(query):
        groups[(iid, pid, period)][combo] = value
    members = combination_members(session, {c for g in groups.values() for c in g})
    sizes = category_counts(session, partnership.id)
    out: dict[ValueKey, str] = {}
    for (iid, pid, period), values in groups.items():
        relations = breakdown_relations({c: members[c] for c in values}, sizes)
        for combo, reason in protect(values, relations).items():
            out[(iid, pid, period, combo)] = reason
    return out
