"""``mel export figures``, the IPTT's JSON and the API's figures: one object per indicator × scope × period.

The measures are the figures engine's (``mel.results.figures``) as the IPTT computes them, after the
disclosure gate (``disclose_iptt``). Scopes are the partnership (the indicator row), a partner, or a
category; periods are the IPTT's buckets (quarters or fiscal years) and ``LOP``, the life of the
partnership. Keys are snake_case and mean the same as on every page (README, "Figures").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.exports.options import ExportOptions
from mel.exports.safe import neutralize_row
from mel.exports.writer import SUPPRESSION_RULE, Column, Table, flag, number
from mel.results.disclosure import Viewer, mark
from mel.results.disclosure.iptt import disclose_iptt
from mel.results.figures import round1
from mel.results.iptt import GRANULARITIES, Iptt, IpttCell, IpttRow, iptt_table

LOP = "LOP"
HIDDEN = "_hidden"
"""Why the gate hid a cell (small | secondary): printed as <5 or x in CSV and XLSX, dropped from JSON."""
COLUMNS = [
    Column("indicator", "Indicator code.", width=9),
    Column("scope", "partnership (all partners), partner, or category (all partners, one category).", width=11),
    Column("partner", "Partner code of a partner row.", width=12),
    Column("category", "Categories of a category row (dimension=category).", width=24),
    Column("period", "Quarter (2021Q3), fiscal year (FY2021) or LOP (life of the partnership).", width=9),
    Column("unit", "count, percent or yes_no.", width=8),
    Column("target", "Target in force for the period (partner, category rows: where one is set).", "number"),
    Column("original_target", "The original target, where it was revised since (else empty).", "number"),
    Column("actual", "Actual: quarters added up (sum) or the latest value (latest).", "number"),
    Column("pct_of_target", "Actual as a percent of the target.", "decimal1", unit="%"),
    Column("deviation", "over or under: outside 100 ± 10 % of the period's target.", width=9),
    Column("explanation", "The partners' comments on the period's totals, for a deviation.", width=40),
    Column("as_of", "A latest value carried from this earlier quarter.", width=8),
    Column("numerator", "A pooled rate's numerator (Σ over partners and quarters).", "number"),
    Column("denominator", "A pooled rate's denominator.", "number"),
    Column("suppressed", "true when the disclosure gate hides the actual (<5 or x).", width=10),
]


@dataclass(frozen=True)
class FigureQuery:
    """What a caller asks for: the IPTT's filters."""

    granularity: str = "quarter"
    first_period: str | None = None
    last_period: str | None = None
    pillar: str | None = None
    level: str | None = None
    indicator: str | None = None
    partner: str | None = None
    scope: str | None = None  # partnership | partner | category


def _scope(row: IpttRow) -> str:
    return "partnership" if row.kind == "indicator" else row.kind


def figure_records(
    session: Session, partnership: Partnership, viewer: Viewer, query: FigureQuery
) -> list[dict[str, Any]]:
    """The measures of ``partnership`` for ``viewer``, long form, after the disclosure gate."""
    return [{k: v for k, v in r.items() if k != HIDDEN} for r in _collect(session, partnership, viewer, query)]


def _collect(session: Session, partnership: Partnership, viewer: Viewer, query: FigureQuery) -> list[dict[str, Any]]:
    granularity = query.granularity if query.granularity in GRANULARITIES else "quarter"
    pillar = "cross-cutting" if query.pillar == "-" else query.pillar
    scope = viewer.scope(first=query.first_period, last=query.last_period)
    table = disclose_iptt(
        iptt_table(session, partnership, scope, granularity=granularity, pillar=pillar, level=query.level),
        viewer,
    )
    return [
        r
        for r in long_form(table)
        if (not query.indicator or r["indicator"] == query.indicator)
        and (not query.scope or r["scope"] == query.scope)
        and (not query.partner or r["partner"] == query.partner)
    ]


def long_form(table: Iptt) -> list[dict[str, Any]]:
    """One record per row of a disclosed IPTT and period (its buckets, then LOP)."""
    partnership = table.partnership
    partners = {p.id: p.code for p in partnership.partners}
    labels = [b.label for b in table.buckets]
    out: list[dict[str, Any]] = []
    for row in table.flat():
        partner = partners.get(row.partner_id) if row.partner_id is not None else None
        category = {row.dimension: row.category} if row.kind == "category" else {}
        for label, cell in [*zip(labels, row.cells, strict=True), (LOP, row.lop)]:
            out.append(_record(row, _scope(row), partner, category, label, cell))
    return out


def _record(
    row: IpttRow, kind: str, partner: str | None, category: dict[str, str], period: str, cell: IpttCell
) -> dict[str, Any]:
    return {
        "indicator": row.indicator,
        "scope": kind,
        "partner": partner,
        "category": category,
        "period": period,
        "unit": row.unit,
        "target": number(cell.target),
        "original_target": number(cell.original_target),
        "actual": number(cell.actual),
        "pct_of_target": round1(cell.pct_of_target),
        "deviation": cell.deviation if row.kind == "indicator" else None,
        "explanation": cell.explanation if row.kind == "indicator" else None,
        "as_of": cell.as_of,
        "numerator": number(cell.numerator),
        "denominator": number(cell.denominator),
        "suppressed": cell.hidden is not None,
        HIDDEN: cell.hidden,
    }


def build(session: Session, partnership: Partnership, options: ExportOptions) -> Table:
    query = FigureQuery(
        granularity=options.granularity,
        first_period=options.first_period,
        last_period=options.last_period,
        pillar=options.pillar,
        level=options.level,
        partner=options.partner,
    )
    found = _collect(session, partnership, options.viewer(), query)

    def records() -> Iterator[dict[str, Any]]:
        return ({k: v for k, v in r.items() if k != HIDDEN} for r in found)

    def rows() -> Iterator[list[Any]]:
        for r in found:
            shown = {**r, "category": "; ".join(f"{d}={c}" for d, c in r["category"].items())}
            if r["suppressed"]:
                shown["actual"] = mark(r.get(HIDDEN))
            yield neutralize_row(
                [flag(v) if isinstance(v, bool) else shown[c.key] for c in COLUMNS for v in [shown[c.key]]]
            )

    return Table(
        name="Figures",
        title=f"{partnership.name}: figures by indicator, scope and period",
        columns=COLUMNS,
        rows=rows,
        records=records,
        notes=[
            (
                "Periods",
                "One row per quarter or fiscal year (--granularity), then LOP for the life of the partnership.",
            ),
            (
                "Figures",
                "Approved reports only" + (", plus reports awaiting review." if options.include_provisional else "."),
            ),
            ("Suppression", SUPPRESSION_RULE if options.suppress else "Not applied: raw values (--no-suppress)."),
        ],
    )
