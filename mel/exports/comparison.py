"""``mel export comparison``: the baseline-versus-endline table of ``mel.results.comparison``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.exports.options import ExportOptions
from mel.exports.safe import neutralize_row
from mel.exports.writer import SUPPRESSION_RULE, Column, Table, flag, number
from mel.results.comparison import ComparisonRow, Point, as_json, comparison
from mel.results.disclosure import mark
from mel.results.disclosure.comparison import disclose_comparison

COLUMNS = [
    Column("indicator", "Indicator code in the results framework.", width=9),
    Column("name", "Indicator name.", width=48),
    Column("level", "Result level: impact, outcome or output.", width=9),
    Column("pillar", "Pillar of the result (empty: cross-cutting).", width=11),
    Column("unit", "Unit of the indicator: count, percent or yes_no.", width=8),
    Column("direction", "Desired direction: increase, decrease or none.", width=9),
    Column("categories", "Category of the chosen dimension (dimension=category); empty for the total.", width=16),
    Column("baseline_value", "Baseline: the evaluator's baseline measurement, else the catalog baseline.", "number"),
    Column("baseline_date", "Date or year of the baseline.", width=10),
    Column("baseline_source", "Source of the baseline.", width=24),
    Column("baseline_from", "measurement or catalog.", width=11),
    Column("endline_value", "Endline: the endline measurement, else the actual from reported results.", "number"),
    Column("endline_date", "Date of the endline measurement, or the last quarter of the reported results.", width=10),
    Column("endline_source", "Source of the endline.", width=24),
    Column("endline_from", "measurement or reported (partners' approved reports).", width=11),
    Column("comparable", "false when a measurement was marked not comparable with the baseline.", width=10),
    Column("change", "Endline minus baseline (empty without a baseline).", "number", unit="see change_unit"),
    Column(
        "change_unit",
        "count (for stage indicators: levels moved), percentage_points (percent indicators) or yes_no.",
        width=16,
    ),
    Column(
        "percent_change",
        "Change / baseline × 100, count indicators with a non-zero baseline only.",
        "decimal1",
        unit="%",
    ),
    Column(
        "trend",
        "improved, worsened or unchanged by the indicator's direction; n/a for direction none; not_comparable "
        "when a measurement is flagged so; within_margin when the surveys' margins of error cover the change.",
        width=12,
    ),
    Column("achieved", "yes/no indicators: whether the endline reads achieved.", width=9),
    Column("target", "Life-of-partnership target (totals only).", "number"),
    Column(
        "progress_pct",
        "Progress from baseline: (endline - baseline) / (target - baseline) × 100, baseline 0 when absent.",
        "decimal1",
        unit="%",
    ),
    Column("pct_of_target", "% of target: endline / target × 100 (increase indicators only).", "decimal1", unit="%"),
    Column("suppressed", "true when a small cell of a sensitive indicator is hidden.", width=10),
]


def _shown(point: Point) -> Any:
    return mark(point.hidden) if point.hidden else number(point.value)


def _row(row: ComparisonRow) -> list[Any]:
    base, end = row.baseline, row.endline
    return neutralize_row(
        [
            row.indicator.code,
            row.indicator.name,
            row.result.level,
            row.result.pillar,
            row.indicator.unit,
            row.indicator.direction,
            "; ".join(f"{k}={v}" for k, v in row.categories.items()) or None,
            _shown(base) if base else None,
            base.date if base else None,
            base.source if base else None,
            base.origin if base else None,
            _shown(end) if end else None,
            end.date if end else None,
            end.source if end else None,
            end.origin if end else None,
            flag(row.comparable),
            number(row.change),
            row.change_unit,
            number(row.percent_change),
            row.trend,
            None if row.achieved is None else flag(row.achieved),
            number(row.target),
            number(row.progress_pct),
            number(row.pct_of_target),
            flag(row.suppressed),
        ]
    )


def build(session: Session, partnership: Partnership, options: ExportOptions) -> Table:
    viewer = options.viewer()
    found = comparison(
        session,
        partnership,
        scope=viewer.scope(),
        dimension=options.dimension,
        pillar=options.pillar,
        level=options.level,
    )
    rows = disclose_comparison(found, viewer)

    def table_rows() -> Iterator[list[Any]]:
        return (_row(r) for r in rows)

    def records() -> Iterator[dict[str, Any]]:
        return (as_json(r) for r in rows)

    return Table(
        name="Comparison",
        title=f"{partnership.name}: baseline and endline",
        columns=COLUMNS,
        rows=table_rows,
        records=records,
        notes=[
            ("Baseline", "The evaluator's baseline measurement (the latest if several), else the catalog baseline."),
            (
                "Endline",
                "The evaluator's endline measurement, else the life-of-partnership actual from partners' reports "
                "(sum indicators add up quarters; counts add up across partners; percents are never added).",
            ),
            ("Percentage points", "Changes of percent indicators are in percentage points, never percent change."),
            ("Comparability", "A measurement marked not comparable with the baseline is flagged comparable=false."),
            (
                "Figures",
                "Official figures: approved reports only"
                + (", plus reports awaiting review." if options.include_provisional else "."),
            ),
            ("Suppression", SUPPRESSION_RULE if options.suppress else "Not applied: raw values (--no-suppress)."),
            ("Sources", "Measurements: the evaluators' measurement workbooks; reported: partners' quarterly reports."),
        ],
    )
