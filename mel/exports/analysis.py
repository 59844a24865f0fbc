"""Tidy pandas DataFrames of a partnership's values and figures, for evaluators' notebooks.

```python
from mel.exports import analysis
values = analysis.values("postgresql+psycopg://reader@db/mel", "peru-cpc")
figures = analysis.figures("sqlite:///mel.sqlite3", "peru-cpc", granularity="fy")
```
One row per observation and one column per variable: a value's categories become one column per
dimension of the partnership (``<NA>`` where the value is not broken down by it). The rows are the
exports' (``mel export values|figures``): approved reports only unless ``include_provisional``,
small cells of sensitive indicators null (``suppressed`` true) unless ``suppress=False``. Whoever
holds the database URL is the operator, as on the command line. pandas is imported on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mel.catalog.models import Dimension, Partnership
from mel.core.db import make_engine, make_sessionmaker
from mel.exports import figures as figure_export
from mel.exports import values as value_export
from mel.exports.options import ExportOptions
from mel.exports.writer import Table
from mel.results.progress import load_partnership

if TYPE_CHECKING:
    import pandas as pd

NUMERIC = ("int", "number", "decimal1")


class UnknownPartnership(LookupError):
    """No partnership with that code in the database."""


def values(
    database_url: str, partnership: str, *, include_provisional: bool = False, suppress: bool = True
) -> pd.DataFrame:
    """Every stored value of the report versions that count, one column per dimension of the partnership."""
    options = ExportOptions(include_provisional=include_provisional, suppress=suppress)
    return _frame(database_url, partnership, value_export.build, options, "categories")


def figures(
    database_url: str,
    partnership: str,
    *,
    granularity: str = "quarter",
    first_period: str | None = None,
    last_period: str | None = None,
    include_provisional: bool = False,
    suppress: bool = True,
) -> pd.DataFrame:
    """Target, actual and percent of target per indicator x scope x period (``mel.exports.figures``)."""
    options = ExportOptions(
        include_provisional=include_provisional,
        suppress=suppress,
        granularity=granularity,
        first_period=first_period,
        last_period=last_period,
    )
    return _frame(database_url, partnership, figure_export.build, options, "category")


def _frame(database_url: str, code: str, build: Any, options: ExportOptions, categories: str) -> pd.DataFrame:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            partnership = load_partnership(session, code)
            if partnership is None:
                raise UnknownPartnership(code)
            dims = _dimensions(session, partnership)
            table: Table = build(session, partnership, options)
            return _tidy(table, categories, dims)
    finally:
        engine.dispose()


def _dimensions(session: Any, partnership: Partnership) -> list[str]:
    return list(
        session.scalars(
            select(Dimension.code).where(Dimension.partnership_id == partnership.id).order_by(Dimension.position)
        )
    )


def _tidy(table: Table, categories: str, dims: list[str]) -> pd.DataFrame:
    import pandas as pd

    keys = [c.key for c in table.columns if c.key != categories]
    kinds = {c.key: c.kind for c in table.columns}
    data: dict[str, list[Any]] = {k: [] for k in [*keys, *dims]}
    for record in table.records():
        cats = record.get(categories) or {}
        for k in keys:
            data[k].append(record.get(k))
        for d in dims:
            data[d].append(cats.get(d))
    columns: dict[str, Any] = {}
    for k in keys:
        if kinds[k] in NUMERIC:
            columns[k] = pd.array(data[k], dtype="Int64" if kinds[k] == "int" else "Float64")
        elif k == "suppressed":
            columns[k] = pd.array(data[k], dtype="boolean")
        else:
            columns[k] = pd.array(data[k], dtype="string")
    for d in dims:
        columns[d] = pd.array(data[d], dtype="string")
    return pd.DataFrame(columns)
