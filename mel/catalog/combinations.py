"""Category combinations: one normalized row per set of categories, shared by every value.

The key is the sorted category ids; the empty key is the total. Importers resolve all the
combinations of a workbook in one call, creating only the missing ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mel.catalog.models import Category, Combination, CombinationMember

TOTAL_KEY = ""


def combination_key(category_ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in sorted(set(category_ids)))


def combination_ids(session: Session, combos: Iterable[frozenset[int]]) -> dict[frozenset[int], int]:
    """Ids for every set of category ids, inserting the missing combinations in bulk."""
    wanted = {combination_key(c): c for c in set(combos)}
    if not wanted:
        return {}
    found = _existing(session, list(wanted))
    missing = [k for k in wanted if k not in found]
    if missing:
        try:
            with session.begin_nested():
                _insert(session, {k: wanted[k] for k in missing})
        except IntegrityError:  # another import created some of them meanwhile: read them back
            pass
        found.update(_existing(session, missing))
    return {wanted[k]: found[k] for k in wanted}


def combination_id(session: Session, category_ids: Iterable[int]) -> int:
    combo = frozenset(category_ids)
    return combination_ids(session, [combo])[combo]


def _existing(session: Session, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = session.execute(select(Combination.key, Combination.id).where(Combination.key.in_(chunk)))
        found.update((key, cid) for key, cid in rows)
    return found


def _insert(session: Session, combos: dict[str, frozenset[int]]) -> None:
    session.execute(insert(Combination), [{"key": k, "size": len(c)} for k, c in combos.items()])
    ids = _existing(session, list(combos))
    all_categories = {cid for c in combos.values() for cid in c}
    dimension_of: dict[int, int] = {}
    for start in range(0, len(all_categories), 500):
        chunk = list(all_categories)[start : start + 500]
        rows = session.execute(select(Category.id, Category.dimension_id).where(Category.id.in_(chunk)))
        dimension_of.update((cid, did) for cid, did in rows)
    members = [
        {"combination_id": ids[k], "category_id": cid, "dimension_id": dimension_of[cid]}
        for k, c in combos.items()
        for cid in c
    ]
    if members:
        session.execute(insert(CombinationMember), members)
