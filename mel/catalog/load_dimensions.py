"""Loading a catalog's disaggregation dimensions and their categories; a category in use stays."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog import dhis2
from mel.catalog.catalog_file import LineDict, Problems
from mel.catalog.load_shared import LoadSummary, catalog_tables, set_changed
from mel.catalog.models import Category, Dimension, Partnership
from mel.core.db import referring_rows


def _category_in_use(session: Session, category_id: int) -> bool:
    """Whether a stored value's combination or a training row names the category."""
    skip = catalog_tables() - {"combination_member"}
    return referring_rows(session, "category", category_id, skip=skip) > 0


def load_dimensions(
    session: Session, problems: Problems, partnership: Partnership, data: LineDict, summary: LoadSummary
) -> None:
    existing = {d.code: d for d in session.scalars(select(Dimension).where(Dimension.partnership_id == partnership.id))}
    dims: LineDict = data.get("dimensions") or LineDict()
    for position, (code, item) in enumerate(dims.items()):
        dim = existing.get(code)
        if dim is None:
            dim = Dimension(code=code, partnership=partnership)
            session.add(dim)
            summary.created.append(f"dimension {code}")
        set_changed(
            dim,
            summary,
            f"dimension {code}",
            label_en=item["label"]["en"],
            label_es=item["label"]["es"],
            aliases=[str(a) for a in item.get("aliases") or []],
            position=position,
        )
        session.flush()
        old = {c.code: c for c in dim.categories}
        seen: set[str] = set()
        for cpos, cat_item in enumerate(item.get("categories") or []):
            ccode = str(cat_item["code"])
            seen.add(ccode)
            cat = old.get(ccode)
            if cat is None:
                cat = Category(code=ccode, dimension=dim)
                session.add(cat)
                summary.created.append(f"category {code}.{ccode}")
            set_changed(
                cat,
                summary,
                f"category {code}.{ccode}",
                label_en=str(cat_item["en"]),
                label_es=str(cat_item["es"]),
                aliases=[str(a) for a in cat_item.get("aliases") or []],
                position=cpos,
                dhis2=dhis2.stored(cat_item),
            )
        for ccode, cat in old.items():
            if ccode in seen:
                continue
            if _category_in_use(session, cat.id):
                problems.add(
                    dims.lines[code],
                    f"dimensions.{code}.categories.{ccode}",
                    "this category has stored values and cannot be removed",
                )
            else:
                session.delete(cat)
                summary.removed.append(f"category {code}.{ccode}")
    for code, dim in existing.items():
        if code in dims:
            continue
        if any(_category_in_use(session, c.id) for c in dim.categories):
            problems.add(
                data.lines.get("dimensions", 1),
                f"dimensions.{code}",
                "this dimension has stored values and cannot be removed",
            )
        else:
            session.delete(dim)
            summary.removed.append(f"dimension {code}")
    session.flush()
