"""The IPTT through the disclosure gate: rows a viewer may see, cells a viewer may read.

The table's margins are the ones a reader would use: a row's life-of-partnership cell is the sum
of its period cells (sum indicators), the indicator row is the sum of its partner rows and of the
category rows of each dimension, in every column. Disaggregation rows of sensitive indicators
take part even when the page does not show them, so that expanding a row never changes what the
collapsed table gave away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from mel.results.disclosure import Relation, Viewer, is_small, protect
from mel.results.iptt import Iptt, IpttCell, IpttRow

Key = tuple[Any, ...]


def disclose_iptt(table: Iptt, viewer: Viewer, *, expanded: Collection[str] | None = None) -> Iptt:
    """``table`` as ``viewer`` may see it (changed in place and returned).

    ``expanded`` names the indicators whose category rows stay on the page (None: all).
    """
    sizes = {
        (i.code, d.code): len(d.categories)
        for r in table.partnership.results
        for i in r.indicators
        for d in i.dimensions
    }
    for row in table.rows:
        if viewer.hides(row.sensitive):
            _protect(row, viewer, sizes)
        row.children = [
            c
            for c in row.children
            if (c.kind != "partner" or c.partner_id is None or viewer.sees_rows_of(c.partner_id))
            and (c.kind != "category" or expanded is None or row.indicator in expanded)
        ]
        if expanded is not None and row.indicator not in expanded:
            row.expanded = False
    return table


def _cell(row: IpttRow, col: int | str) -> IpttCell:
    return row.lop if col == "lop" else row.cells[int(col)]


def _protect(row: IpttRow, viewer: Viewer, sizes: dict[tuple[str, str], int]) -> None:
    cols: list[int | str] = [*range(len(row.cells)), "lop"]
    keyed: dict[Key, IpttRow] = {("total",): row}
    by_dim: dict[str, list[Key]] = defaultdict(list)
    partners: list[Key] = []
    for child in row.children:
        if child.kind == "partner":
            key: Key = ("partner", child.partner_id)
            partners.append(key)
        else:
            key = ("category", child.dimension, child.category)
            by_dim[child.dimension].append(key)
        keyed[key] = child
    values = {(rk, c): _cell(r, c).actual for rk, r in keyed.items() for c in cols}
    relations: list[Relation[Key]] = []
    if row.unit == "count":  # rates and yes/no do not add up: for them only the small cells hide
        if row.aggregation == "sum":
            relations += [((rk, "lop"), [(rk, c) for c in cols if c != "lop"]) for rk in keyed]
        for c in cols:
            if partners:
                relations.append(((("total",), c), [(pk, c) for pk in partners]))
            # a breakdown adds up to the total only when it covers every category (REPORT-FORMAT.md)
            relations += [
                ((("total",), c), [(ck, c) for ck in keys])
                for dim, keys in by_dim.items()
                if sum(values[(ck, c)] is not None for ck in keys) == sizes.get((row.indicator, dim), -1)
            ]
    own = [pk for pk in partners if viewer.partner_ids is not None and viewer.sees_rows_of(int(pk[1]))]
    others = [pk for pk in partners if not viewer.sees_rows_of(int(pk[1]))]
    hidden = protect(
        values,
        relations,
        unseen=[(pk, c) for pk in others for c in cols],
        known=[(pk, c) for pk in own for c in cols],
    )
    for (rk, c), reason in hidden.items():
        cell = _cell(keyed[rk], c)
        cell.actual, cell.hidden = None, reason
    if is_small(row.baseline):
        row.baseline, row.baseline_hidden = None, "small"
    for child in row.children:
        if is_small(child.baseline):
            child.baseline, child.baseline_hidden = None, "small"
