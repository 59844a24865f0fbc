"""What every sheet parser shares: the context it checks against, and the catalog lookups with their errors.

Lookups are memoized per distinct spelling (an indicator code, a category label), so a sheet of
100,000 rows looks each one up once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from mel.core.i18n import t
from mel.core.text import norm
from mel.reports.matching import CategoryInfo, DimensionInfo, Framework, IndicatorInfo, PartnerInfo
from mel.reports.numbers import display
from mel.reports.tables import Issues, Table, blank
from mel.workbooks.book import column_letter

_UNSEEN = object()


@dataclass
class Context:
    """What every sheet reader needs: the language, the issue list and the catalog it checks against."""

    lang: str
    issues: Issues
    framework: Framework | None
    partner: PartnerInfo | None
    period: str | None


class CategoryColumns:
    """The dimension columns of a table and a memoized cell -> category lookup per dimension."""

    def __init__(self, framework: Framework, table: Table) -> None:
        self.framework = framework
        self.columns: list[tuple[DimensionInfo, int]] = [
            (framework.dimensions[int(name[4:])], col) for name, col in table.columns.items() if name.startswith("dim:")
        ]
        self.columns.sort(key=lambda item: item[1])
        self._memo: dict[int, dict[Any, Any]] = {dim.id: {} for dim, _ in self.columns}
        self._columns = [(dim, col, self._memo[dim.id]) for dim, col in self.columns]

    @staticmethod
    def extra(framework: Framework | None) -> dict[str, str]:
        """Header keys of the dimension columns, for ``tables.locate``."""
        if framework is None:
            return {}
        return {key: f"dim:{did}" for key, did in framework.dimension_keys.items()}

    def find(self, dim: DimensionInfo, raw: Any) -> CategoryInfo | None:
        memo = self._memo[dim.id]
        found = memo.get(raw, _UNSEEN)
        if found is _UNSEEN:
            text = display(raw) if isinstance(raw, float) else str(raw)
            found = dim.categories.get(norm(text))
            memo[raw] = found
        return cast("CategoryInfo | None", found)

    def read(
        self, ctx: Context, sheet: str, r: int, row: list[Any], indicator: IndicatorInfo | None
    ) -> tuple[dict[str, str], list[int], bool]:
        """(dimension code -> category code, category ids, every filled cell valid) of one row."""
        categories: dict[str, str] = {}
        ids: list[int] = []
        ok = True
        for dim, col, memo in self._columns:
            raw = row[col]
            if raw == "" or raw is None or (type(raw) is str and raw.isspace()):
                continue
            if indicator is not None and dim.id not in indicator.dimension_ids:
                ctx.issues.error(
                    "dimension_not_used",
                    sheet,
                    f"{column_letter(col)}{r + 1}",
                    t(
                        ctx.lang,
                        "Indicator {code} is not broken down by {dimension}: leave this cell empty.",
                        code=indicator.code,
                        dimension=dim.label(ctx.lang),
                    ),
                )
                ok = False
                continue
            found = memo.get(raw, _UNSEEN)
            category = self.find(dim, raw) if found is _UNSEEN else found
            if category is None:
                cell = f"{column_letter(col)}{r + 1}"
                unknown_category(ctx, sheet, cell, raw, dim.label(ctx.lang), dim.choices(ctx.lang))
                ok = False
                continue
            categories[dim.code] = category.code
            ids.append(category.id)
        return categories, ids, ok


def unknown_category(ctx: Context, sheet: str, cell: str, raw: Any, what: str, choices: str) -> None:
    ctx.issues.error(
        "unknown_category",
        sheet,
        cell,
        t(
            ctx.lang,
            "{value} is not a category of {dimension}: write one of {choices}.",
            value=display(raw) if not blank(raw) else "''",
            dimension=what,
            choices=choices,
        ),
    )


def unknown_indicator(ctx: Context, sheet: str, cell: str, raw: Any, among: list[str] | None) -> None:
    fw = ctx.framework
    if blank(raw):
        message = t(ctx.lang, "The row has no indicator code: write the code of the indicator in this cell.")
    else:
        near = ", ".join(fw.suggest(raw, among)) if fw is not None else ""
        message = t(
            ctx.lang,
            "{value} is not an indicator code: write the code of one of your indicators (nearest: {codes}).",
            value=display(raw),
            codes=near or "-",
        )
    ctx.issues.error("unknown_indicator", sheet, cell, message)


def find_indicator(fw: Framework | None, memo: dict[Any, IndicatorInfo | None], raw: Any) -> IndicatorInfo | None:
    found = memo.get(raw, _UNSEEN)
    if found is _UNSEEN:
        found = fw.find_indicator(raw) if fw is not None else None
        memo[raw] = found
    return found  # type: ignore[return-value]
