"""The baseline-versus-endline comparison through the disclosure gate.

The comparison of one indicator is a small table: the total and, when a dimension is chosen, its
categories, each with a baseline and an endline. The categories add up to the total when they
cover the whole dimension, so a hidden category must not be left the only unknown of that sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace

from mel.results.comparison import ComparisonRow
from mel.results.disclosure import Relation, Viewer, is_small, protect

Key = tuple[str, str]  # (baseline | endline, category code or '' for the total)


def disclose_comparison(rows: list[ComparisonRow], viewer: Viewer) -> list[ComparisonRow]:
    """``rows`` as ``viewer`` may read them."""
    category_counts = {d.code: len(d.categories) for r in rows for d in r.indicator.dimensions}
    by_indicator: dict[int, list[ComparisonRow]] = defaultdict(list)
    for row in rows:
        by_indicator[row.indicator.id].append(row)
    hidden: dict[tuple[int, str, str], str] = {}
    for group in by_indicator.values():
        ind = group[0].indicator
        if not viewer.hides(ind.sensitive):
            continue
        values: dict[Key, float | None] = {}
        for row in group:
            cat = row.category.code if row.category else ""
            values[("baseline", cat)] = row.baseline.value if row.baseline else None
            values[("endline", cat)] = row.endline.value if row.endline else None
        cats = [r.category for r in group if r.category is not None]
        relations: list[Relation[Key]] = []
        if ind.unit == "count" and cats and len(cats) == category_counts.get(cats[0].dimension, -1):
            for end in ("baseline", "endline"):
                parts = [(end, c.code) for c in cats]
                if all(values[p] is not None for p in parts):
                    relations.append(((end, ""), parts))
        for (end, cat), reason in protect(values, relations).items():
            hidden[(ind.id, end, cat)] = reason
    shown = [_hide(row, hidden) for row in rows] if hidden else rows
    return [
        replace(row, reported=None) if viewer.hides(row.indicator.sensitive) and is_small(row.reported) else row
        for row in shown
    ]


def _hide(row: ComparisonRow, hidden: Mapping[tuple[int, str, str], str]) -> ComparisonRow:
    """A hidden value takes the numbers derived from it (change, percent change, progress) with it,
    since any of them would give it back; the trend, a direction only, stays."""
    cat = row.category.code if row.category else ""
    base = hidden.get((row.indicator.id, "baseline", cat))
    end = hidden.get((row.indicator.id, "endline", cat))
    if not (base or end):
        return row
    baseline = (
        replace(row.baseline, value=None, suppressed=True, hidden=base) if base and row.baseline else row.baseline
    )
    endline = replace(row.endline, value=None, suppressed=True, hidden=end) if end and row.endline else row.endline
    return replace(
        row,
        baseline=baseline,
        endline=endline,
        change=None,
        percent_change=None,
        progress_pct=None,
        pct_of_target=None,
        suppressed=True,
    )
