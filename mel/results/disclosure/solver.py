"""Complementary suppression: which cells of one table to hide so that no small count can be worked out.

A table is its cells and its margins ("this cell is the sum of those"). A reader who sees some cells
and knows the margins holds a linear system; a hidden cell is safe when that system leaves it free.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np

SMALL = "small"
SECONDARY = "secondary"
SUPPRESS_BELOW = 5

K = TypeVar("K", bound=Hashable)
Relation = tuple[K, Sequence[K]]
"""A margin: the first cell is the sum of the others."""


def is_small(value: float | None) -> bool:
    """1 to 4: the counts that could identify a child in a small community (zero is shown)."""
    return value is not None and 0 < value < SUPPRESS_BELOW


def protect(
    values: Mapping[K, float | None],
    relations: Iterable[Relation[K]],
    *,
    unseen: Collection[K] = (),
    known: Collection[K] = (),
) -> dict[K, str]:
    """The shown cells of one table to hide, each with its reason (``small`` or ``secondary``).

    ``values`` holds every cell of the table, shown or not; ``unseen`` are cells the viewer never
    gets (another partner's row, for a partner user) and ``known`` cells the viewer knows anyway
    (their own organization's figures: still shown as '<5' when small, but no secret to keep).
    A small cell is protected when no combination of the shown cells determines it: the linear
    system of the relations, with the hidden and unseen cells as unknowns, leaves it free. Until
    then the smallest shown cell of a margin that exposes it is hidden too (preferring non-zero
    cells and parts over totals).
    """
    unseen_set, known_set = set(unseen), set(known)
    rels: list[tuple[K, tuple[K, ...]]] = [(t, tuple(p)) for t, p in relations if p]
    hidden: dict[K, str] = {k: SMALL for k, v in values.items() if k not in unseen_set and is_small(v)}
    primaries = {k for k in (set(hidden) | unseen_set) if k not in known_set and is_small(values.get(k))}
    if not primaries:
        return hidden
    touching: dict[K, list[int]] = defaultdict(list)
    for i, (total, parts) in enumerate(rels):
        for k in (total, *parts):
            touching[k].append(i)

    def unknowns() -> set[K]:
        return {k for k in (set(hidden) | unseen_set) if k not in known_set and k in values}

    while True:
        exposed = _exposed(primaries, unknowns(), rels, touching)
        if not exposed:
            return hidden
        grew = False
        for key in exposed:
            choice = _next_to_hide(key, rels, touching, values, unknowns(), known_set)
            if choice is not None:
                hidden[choice] = SECONDARY
                grew = True
        if not grew:  # nothing left to hide around them: the margins already show nothing else
            return hidden


def _next_to_hide(
    key: K,
    rels: list[tuple[K, tuple[K, ...]]],
    touching: Mapping[K, list[int]],
    values: Mapping[K, float | None],
    unknown: set[K],
    known: set[K],
) -> K | None:
    """The smallest shown cell of the nearest margin around ``key`` that has one to hide.

    Margins are searched outward: when every cell of the margins around ``key`` is already unknown
    or known to the viewer, the margins of those unknown cells come next (a total that is hidden but
    itself the sum of shown quarters, say).
    """
    seen_keys, seen_rels = {key}, set()
    frontier = [key]
    while frontier:
        around = sorted(
            {i for k in frontier for i in touching.get(k, []) if i not in seen_rels},
            key=lambda i: (sum(1 for k in (rels[i][0], *rels[i][1]) if k in unknown), i),
        )
        seen_rels.update(around)
        for i in around:
            total, parts = rels[i]
            candidates = [
                (k is total, (values[k] or 0) == 0, values[k] or 0, str(k), k)
                for k in (total, *parts)
                if k in values and values[k] is not None and k not in unknown and k not in known
            ]
            if candidates:
                return min(candidates, key=lambda c: c[:4])[4]
        frontier = [k for i in around for k in (rels[i][0], *rels[i][1]) if k in unknown and k not in seen_keys]
        seen_keys.update(frontier)
    return None


def _exposed(
    primaries: set[K], unknown: set[K], rels: list[tuple[K, tuple[K, ...]]], touching: Mapping[K, list[int]]
) -> list[K]:
    """Primary cells that the relations determine, given which cells are unknown."""
    # cheap first: a margin with one unknown gives it away; peel those off and repeat
    solved: set[K] = set()
    queue = [i for k in unknown for i in touching.get(k, [])]
    while queue:
        i = queue.pop()
        total, parts = rels[i]
        free = [k for k in {total, *parts} if k in unknown and k not in solved]
        if len(free) == 1:
            solved.add(free[0])
            queue.extend(touching.get(free[0], []))
    found = sorted((k for k in solved if k in primaries), key=str)
    if found:
        return found
    return sorted((k for k in _determined(unknown, rels) if k in primaries), key=str)


def _determined(unknown: set[K], rels: list[tuple[K, tuple[K, ...]]]) -> set[K]:
    """Unknowns fixed by the linear system: those whose unit vector lies in the row space."""
    cols = {k: j for j, k in enumerate(sorted(unknown, key=str))}
    rows = []
    for total, parts in rels:
        row = np.zeros(len(cols))
        if total in cols:
            row[cols[total]] -= 1.0
        for k in parts:
            if k in cols:
                row[cols[k]] += 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    _u, s, vt = np.linalg.svd(matrix)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return set(cols)
    free = np.abs(null).max(axis=0) > 1e-9
    return {k for k, j in cols.items() if not free[j]}


def breakdown_relations(combos: Mapping[K, frozenset[tuple[int, int]]], sizes: Mapping[int, int]) -> list[Relation[K]]:
    """Margins among the combinations of one indicator, partner and period.

    For a combination and one of its dimensions, the combination without that dimension is the sum
    of the combinations that differ from it only in that dimension's category (female + male =
    total; female-Cusco + female-Lima + ... = female), when they cover all ``sizes[dimension]``
    categories: a partial breakdown only bounds its total (REPORT-FORMAT.md). A margin whose sum
    is not in ``combos`` is left out.
    """
    by_members = {members: key for key, members in combos.items()}
    groups: dict[tuple[frozenset[tuple[int, int]], int], list[K]] = defaultdict(list)
    for key, members in combos.items():
        for dim, cat in members:
            groups[(members - {(dim, cat)}, dim)].append(key)
    return [
        (by_members[parent], parts)
        for (parent, dim), parts in groups.items()
        if parent in by_members and len(parts) == sizes.get(dim, -1)
    ]
