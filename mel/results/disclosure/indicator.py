"""An indicator page through the disclosure gate: its quarterly series and its breakdown explorer.

The series is a table of the quarter's value and the cumulative value, whose margins are
"cumulative = previous cumulative + the quarter" (sum indicators). The explorer is categories by
partners, whose margins are "a category = the sum of its partners" and "the total = the sum of the
categories" when they cover the whole dimension. Other partners' own numbers never reach a partner
user: they are dropped from the per-partner columns and count only inside the totals.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from mel.catalog.models import Indicator
from mel.results.disclosure import Relation, Viewer, protect
from mel.results.figures import Folded
from mel.results.indicator_page import Breakdown, SeriesPoint


def _keep_visible(folded: Folded, viewer: Viewer) -> None:
    for pid in [p for p in folded.partners if not viewer.sees_rows_of(p)]:
        del folded.partners[pid]


def _apply(hidden: dict[Any, str], where: dict[Hashable, tuple[Folded, int | None]]) -> None:
    for key, reason in hidden.items():
        folded, pid = where[key]
        if pid is None:
            folded.value, folded.hidden = None, reason
        else:
            folded.partners[pid] = None  # type: ignore[assignment]
            folded.hidden_partners[pid] = reason


def disclose_series(points: list[SeriesPoint], indicator: Indicator, viewer: Viewer) -> None:
    """Hide, in place, what ``viewer`` may not read of the quarterly series."""
    for p in points:
        _keep_visible(p.reported, viewer)
        _keep_visible(p.to_date, viewer)
    if not viewer.hides(indicator.sensitive):
        return
    where: dict[Hashable, tuple[Folded, int | None]] = {}
    for i, p in enumerate(points):
        for name, folded in (("r", p.reported), ("d", p.to_date)):
            where[(name, i)] = (folded, None)
            for pid in folded.partners:
                where[(name, i, pid)] = (folded, pid)
    values = {k: (f.value if pid is None else f.partners.get(pid)) for k, (f, pid) in where.items()}
    relations: list[Relation[Hashable]] = []
    if indicator.unit == "count" and indicator.aggregation == "sum":
        for i in range(len(points)):
            relations.append((("d", i), [("d", i - 1), ("r", i)] if i else [("r", i)]))
    hidden = protect(values, relations)
    _apply(hidden, where)


def disclose_breakdown(explorer: Breakdown | None, indicator: Indicator, viewer: Viewer) -> None:
    """Hide, in place, what ``viewer`` may not read of the breakdown explorer."""
    if explorer is None:
        return
    folds: Iterable[Folded] = [*(r.total for r in explorer.rows), explorer.total]
    for folded in folds:
        _keep_visible(folded, viewer)
    explorer.partner_ids[:] = [p for p in explorer.partner_ids if viewer.sees_rows_of(p)]
    if not viewer.hides(indicator.sensitive):
        return
    where: dict[Hashable, tuple[Folded, int | None]] = {}
    rows = [(r.category_id, r.total) for r in explorer.rows] + [("total", explorer.total)]
    for key, folded in rows:
        where[(key,)] = (folded, None)
        for pid in folded.partners:
            where[(key, pid)] = (folded, pid)
    values = {k: (f.value if pid is None else f.partners.get(pid)) for k, (f, pid) in where.items()}
    relations: list[Relation[Hashable]] = []
    if indicator.unit == "count":
        for key, folded in rows:
            relations.append(((key,), [(key, pid) for pid in folded.partners]))
        complete = len(explorer.rows) == len(explorer.dimension.categories)
        if complete and all(r.total.value is not None for r in explorer.rows):
            relations.append((("total",), [(r.category_id,) for r in explorer.rows]))
        for pid in explorer.partner_ids:
            parts = [(r.category_id, pid) for r in explorer.rows]
            if complete and all(values.get(p) is not None for p in parts):
                relations.append((("total", pid), parts))
    hidden = protect(values, relations)
    _apply(hidden, where)
