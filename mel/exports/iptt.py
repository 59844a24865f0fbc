"""``mel export iptt``: the Indicator Performance Tracking Table of ``mel.results.iptt`` as a flat table.

One row per indicator, partner and category row of the IPTT, one column per bucket and measure
(target, actual, % of target). Small cells of sensitive indicators are suppressed with the
percent derived from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.exports.figures import HIDDEN, long_form
from mel.exports.options import ExportOptions
from mel.exports.safe import neutralize_row
from mel.exports.writer import SUPPRESSION_RULE, Column, Table, flag, number
from mel.results.disclosure import mark
from mel.results.disclosure.iptt import disclose_iptt
from mel.results.figures import round1
from mel.results.iptt import GRANULARITIES, iptt_table

FIXED = {
    "kind": "indicator, partner or category row.",
    "level": "Result level.",
    "pillar": "Pillar of the result (empty: cross-cutting).",
    "result": "Result code.",
    "indicator": "Indicator code.",
    "name": "Indicator name.",
    "unit": "count, percent or yes_no.",
    "aggregation": "sum (quarters add up) or latest (the most recent value).",
    "baseline": "Baseline: the evaluator's baseline measurement, else the catalog baseline.",
    "label": "The partner or the category of the row.",
    "dimension": "Dimension of a category row.",
    "per_partner": "true when a percent is reported by several partners: see the partner rows.",
    "source": "reports, or measurement (indicators no partner reports).",
}


def build(session: Session, partnership: Partnership, options: ExportOptions) -> Table:
    scope = options.viewer().scope(first=options.first_period, last=options.last_period)
    pillar = "cross-cutting" if options.pillar == "-" else options.pillar
    granularity = options.granularity if options.granularity in GRANULARITIES else "fy"
    table = disclose_iptt(
        iptt_table(session, partnership, scope, granularity=granularity, pillar=pillar, level=options.level),
        options.viewer(),
    )
    kinds = ("target", "original target", "actual", "%") if options.original_targets else ("target", "actual", "%")
    measures: list[str] = []
    for label in [*(b.label for b in table.buckets), "LOP"]:
        measures += [f"{label} {m}" for m in kinds]
    columns = [Column(k, d, width=10 if k not in ("name", "label") else 36) for k, d in FIXED.items()]
    for key in measures:
        kind = "decimal1" if key.endswith("%") else "number"
        label, _sep, measure = key.partition(" ")
        what = "Actual as a percent of the target" if key.endswith("%") else measure.capitalize()
        if measure == "original target":
            what = "Original target, where it was revised since"
        columns.append(Column(key, f"{what} for {label}.", kind, unit="%" if kind == "decimal1" else ""))
    columns.append(Column("suppressed", "true when small cells of a sensitive indicator are hidden.", width=10))

    def shaped() -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
        """Each record with the keys that the disclosure gate hid, and what they print."""
        for row, record in zip(table.flat(), table.records(options.lang, options.original_targets), strict=True):
            out: dict[str, Any] = {k: record.get(k) for k in FIXED}
            cells = [(f"{b.label} actual", c) for b, c in zip(table.buckets, row.cells, strict=True)]
            gone = {key: mark(c.hidden) for key, c in [*cells, ("LOP actual", row.lop)] if c.hidden}
            if row.baseline_hidden:
                gone["baseline"] = mark(row.baseline_hidden)
            for key in ("baseline", *measures):
                value = record.get(key)
                out[key] = round1(value) if key.endswith("%") else number(value)
            out["suppressed"] = bool(gone)
            yield out, gone

    def records() -> Iterator[dict[str, Any]]:
        """Long form for programs: one object per indicator × scope × period (README, "Figures")."""
        return ({k: v for k, v in r.items() if k != HIDDEN} for r in long_form(table))

    def rows() -> Iterator[list[Any]]:
        for out, gone in shaped():
            shown = [gone[c.key] if c.key in gone else out[c.key] for c in columns]
            yield neutralize_row(
                [flag(v) if isinstance(v, bool) else number(v) if isinstance(v, float) else v for v in shown]
            )

    return Table(
        name="IPTT",
        title=f"{partnership.name}: indicator performance tracking table",
        columns=columns,
        rows=rows,
        records=records,
        notes=[
            (
                "Buckets",
                f"Columns per {'quarter' if granularity == 'quarter' else 'fiscal year'}, "
                "then life of partnership (LOP).",
            ),
            (
                "Aggregation",
                "Sum indicators add up quarters; latest indicators take the most recent value. "
                "Percents are never added across partners.",
            ),
            (
                "Figures",
                "Approved reports only" + (", plus reports awaiting review." if options.include_provisional else "."),
            ),
            ("Suppression", SUPPRESSION_RULE if options.suppress else "Not applied: raw values (--no-suppress)."),
        ],
    )
