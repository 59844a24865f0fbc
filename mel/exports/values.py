"""``mel export values``: every stored value of the report versions that count, long format.

Built for a million rows: one SQL query over the value and submission tables streamed with a
server-side cursor (``yield_per``), catalog codes looked up in small dictionaries read once, and
plain tuples handed to ``csv.writer``; no ORM object is created per value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, CombinationMember, Dimension, Indicator, Partner, Partnership
from mel.core.periods import fiscal_label
from mel.exports.options import ExportOptions
from mel.exports.safe import DANGEROUS_PREFIXES, neutralize
from mel.exports.writer import SUPPRESSION_RULE, Column, Table, flag
from mel.reports.models import Submission, Value
from mel.results.counting import Scope, submission_filter
from mel.results.disclosure import mark
from mel.results.disclosure.values import hidden_values

BATCH = 20_000

COLUMNS = [
    Column("indicator", "Indicator code.", width=9),
    Column("partner", "Implementing partner code.", width=12),
    Column("period", "Calendar quarter of the report (2021Q3).", width=8),
    Column("fiscal_period", "The quarter under the partnership's fiscal year (FY2021 Q4).", width=11),
    Column("categories", "Categories of the value (dimension=category; empty for the total).", width=28),
    Column(
        "value",
        "The reported number; <5 when small and suppressed, x when hidden to protect one.",
        "number",
        unit="see unit",
    ),
    Column("unit", "count, percent or yes_no (1 yes, 0 no).", width=8),
    Column("suppressed", "true when small-cell suppression hides the value.", width=10),
    Column("status", "approved, or submitted (awaiting review: provisional).", width=10),
    Column("submission_id", "Id of the report version the value comes from.", "int", width=10),
    Column("submission_version", "Version of the partner's report for the quarter.", "int", width=10),
    Column("sheet", "Sheet of the original workbook.", width=11),
    Column("cell", "Cell of the original workbook.", width=7),
    Column("comment", "The partner's comment on the value.", width=40),
]


def combination_categories(session: Session, partnership: Partnership) -> dict[int, dict[str, str]]:
    """Categories per combination id of ``partnership``'s dimensions, in dimension order."""
    rows = session.execute(
        select(CombinationMember.combination_id, Dimension.code, Category.code)
        .join(Category, Category.id == CombinationMember.category_id)
        .join(Dimension, Dimension.id == CombinationMember.dimension_id)
        .where(Dimension.partnership_id == partnership.id)
        .order_by(CombinationMember.combination_id, Dimension.position)
    )
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for combo, dim, cat in rows:
        out[combo][dim] = cat
    return out


def value_query(partnership: Partnership, scope: Scope) -> Any:
    """The one query: counted values of ``partnership`` with their submission's status and version."""
    return (
        select(
            Value.indicator_id,
            Value.partner_id,
            Value.period,
            Value.combination_id,
            Value.value,
            Submission.status,
            Value.submission_id,
            Submission.version,
            Value.sheet,
            Value.cell,
            Value.comment,
        )
        .join(Submission, Submission.id == Value.submission_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(submission_filter(scope), Indicator.partnership_id == partnership.id)
        # the order of ix_value_progress: read along the index, no sort of a million rows
        .order_by(Value.indicator_id, Value.combination_id, Value.period, Value.partner_id, Value.submission_id)
    )


class _Lookups:
    """Codes of ``partnership``'s catalog, read once and neutralized once."""

    def __init__(self, session: Session, partnership: Partnership) -> None:
        self.indicators = {
            i: (code, neutralize(code), unit, bool(sensitive))
            for i, code, unit, sensitive in session.execute(
                select(Indicator.id, Indicator.code, Indicator.unit, Indicator.sensitive).where(
                    Indicator.partnership_id == partnership.id
                )
            )
        }
        self.partners: dict[int, str] = {
            i: code
            for i, code in session.execute(
                select(Partner.id, Partner.code).where(Partner.partnership_id == partnership.id)
            )
        }
        self.safe_partners = {k: neutralize(v) for k, v in self.partners.items()}
        self.combos = combination_categories(session, partnership)
        self.combo_text = {
            k: str(neutralize("; ".join(f"{d}={c}" for d, c in v.items()))) for k, v in self.combos.items()
        }
        fy = partnership.fiscal_year_start
        self.fiscal = cache(lambda period: fiscal_label(period, fy))


def _stream(session: Session, partnership: Partnership, options: ExportOptions) -> Iterator[Any]:
    scope = Scope(include_provisional=options.include_provisional)
    query = value_query(partnership, scope).execution_options(yield_per=BATCH, stream_results=True)
    # on the session's connection, not session.execute: Core rows skip the ORM's result
    # machinery, which doubles the time of a million-row fetch
    return iter(session.connection().execute(query))


def value_record(
    indicator: str,
    partner: str,
    period: str,
    fiscal_period: str,
    categories: dict[str, str],
    value: float,
    unit: str,
    suppressed: bool,
    status: str,
    submission_id: int,
    version: int,
    sheet: str,
    cell: str,
    comment: str | None,
) -> dict[str, Any]:
    """One ``mel export values --format json`` object (DESIGN.md's contract), for the export and the API."""
    return {
        "indicator": indicator,
        "partner": partner,
        "period": period,
        "fiscal_period": fiscal_period,
        "categories": categories,
        "value": None if suppressed else (int(value) if float(value).is_integer() else value),
        "unit": unit,
        "suppressed": suppressed,
        "status": status,
        "submission_id": submission_id,
        "submission_version": version,
        "sheet": sheet,
        "cell": cell,
        "comment": comment,
    }


def build(session: Session, partnership: Partnership, options: ExportOptions) -> Table:
    look = _Lookups(session, partnership)
    viewer = options.viewer()
    hide = hidden_values(session, partnership, viewer, viewer.scope())

    def rows() -> Iterator[tuple[Any, ...]]:
        indicators, partners, combo_text, fiscal = look.indicators, look.safe_partners, look.combo_text, look.fiscal
        for iid, pid, period, combo, value, status, sub_id, version, sheet, cell, comment in _stream(
            session, partnership, options
        ):
            _raw, code, unit, _sensitive = indicators[iid]
            reason = hide.get((iid, pid, period, combo)) if hide else None
            if comment and comment.startswith(DANGEROUS_PREFIXES):
                comment = "'" + comment
            yield (
                code,
                partners[pid],
                period,
                fiscal(period),
                combo_text.get(combo, ""),
                mark(reason) if reason else (int(value) if value.is_integer() else value),
                unit,
                flag(bool(reason)),
                status,
                sub_id,
                version,
                sheet,
                cell,
                comment,
            )

    def records() -> Iterator[dict[str, Any]]:
        indicators, partners, combos, fiscal = look.indicators, look.partners, look.combos, look.fiscal
        for iid, pid, period, combo, value, status, sub_id, version, sheet, cell, comment in _stream(
            session, partnership, options
        ):
            code, _safe, unit, _sensitive = indicators[iid]
            suppressed = bool(hide) and (iid, pid, period, combo) in hide
            yield value_record(
                code, partners[pid], period, fiscal(period), combos.get(combo, {}), value, unit, suppressed,
                status, sub_id, version, sheet, cell, comment,
            )  # fmt: skip

    return Table(
        name="Values",
        title=f"{partnership.name}: reported values",
        columns=COLUMNS,
        rows=rows,
        records=records,
        notes=[
            (
                "Versions",
                "Only the current version of each partner's quarterly report counts; superseded ones are left out.",
            ),
            (
                "Figures",
                "Approved reports only"
                + (", plus reports awaiting review (status submitted)." if options.include_provisional else "."),
            ),
            ("Periods", "Calendar quarters; fiscal_period names them in the partnership's fiscal year."),
            ("Suppression", SUPPRESSION_RULE if options.suppress else "Not applied: raw values (--no-suppress)."),
            ("Sources", "Each value names its report version (submission_id, submission_version), sheet and cell."),
        ],
    )
