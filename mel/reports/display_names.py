"""The names the reporting pages show: a user's name and a combination's categories (in both
languages: the page picks one). Shared by the upload, history, review-queue and submission views and
by the value queries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from mel.auth.models import User
from mel.catalog.models import Category, CombinationMember, Dimension
from mel.core.i18n import Bilingual


def user_name() -> tuple[Any, ColumnElement[str]]:
    """An alias of the user table and the name to show for it (the email when no name is set)."""
    who = aliased(User)
    return who, func.coalesce(who.name, who.email)


def combination_labels(session: Session, combination_ids: set[int]) -> dict[int, list[tuple[Bilingual, Bilingual]]]:
    """(dimension, category) labels of each combination, dimensions in catalog order."""
    out: dict[int, list[tuple[Bilingual, Bilingual]]] = defaultdict(list)
    if not combination_ids:
        return out
    for combo, dim_en, dim_es, cat_en, cat_es in session.execute(
        select(
            CombinationMember.combination_id,
            Dimension.label_en,
            Dimension.label_es,
            Category.label_en,
            Category.label_es,
        )
        .join(Category, Category.id == CombinationMember.category_id)
        .join(Dimension, Dimension.id == CombinationMember.dimension_id)
        .where(CombinationMember.combination_id.in_(combination_ids))
        .order_by(CombinationMember.combination_id, Dimension.position)
    ):
        out[combo].append((Bilingual(dim_en, dim_es), Bilingual(cat_en, cat_es)))
    return out
