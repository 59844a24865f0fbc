"""``mel export trainings``: one row per training row that counts, with the trainings page's filters.

The rows come from ``mel.results.training_filters.counted_trainings`` (the query the page uses), so the
export and the page agree on what counts. The fields are those of ``mel import --json``'s
``trainings``, preceded by the partner, quarter and status of the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.exports.options import ExportOptions
from mel.exports.safe import neutralize_row
from mel.exports.writer import Column, Table
from mel.results.training_filters import counted_trainings, make_training_filter

BATCH = 10_000

COLUMNS = [
    Column("partner", "Implementing partner code.", width=12),
    Column("period", "Calendar quarter of the report.", width=8),
    Column("status", "approved, or submitted (awaiting review).", width=10),
    Column("submission_version", "Version of the partner's report.", "int", width=10),
    Column("title", "Title of the training event.", width=40),
    Column("start_date", "First day of the event.", width=11),
    Column("end_date", "Last day of the event (empty: one day).", width=11),
    Column("pillar", "prosecution, protection or prevention.", width=11),
    Column("region", "Region category code.", width=12),
    Column("modality", "in-person, virtual or hybrid.", width=10),
    Column("institution", "Institution of the participants on this row.", width=14),
    Column("female", "Female participants.", "int", width=8, unit="people"),
    Column("male", "Male participants.", "int", width=8, unit="people"),
    Column("other", "Participants of other or unrecorded sex.", "int", width=8, unit="people"),
    Column("under_18", "Participants under 18 (empty: not recorded).", "int", width=8, unit="people"),
    Column("hours", "Hours of training.", "number", width=7, unit="hours"),
    Column("pre_score", "Average pre-test score, 0-100.", "number", width=9, unit="points"),
    Column("post_score", "Average post-test score, 0-100.", "number", width=9, unit="points"),
    Column(
        "repeat", "Participants the project had trained before (empty: not recorded).", "int", width=8, unit="people"
    ),
    Column(
        "new",
        "New participants: participants minus repeat (empty: repeat not recorded).",
        "int",
        width=8,
        unit="people",
    ),
    Column("sheet", "Sheet of the original workbook.", width=11),
    Column("row", "Row of the original workbook.", "int", width=6),
]
KEYS = [c.key for c in COLUMNS]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def build(session: Session, partnership: Partnership, options: ExportOptions) -> Table:
    filt = make_training_filter(
        session,
        partnership_id=partnership.id,
        partner=options.partner,
        pillar=options.pillar,
        first_period=options.first_period,
        last_period=options.last_period,
        include_provisional=options.include_provisional,
    )
    query = counted_trainings(filt).execution_options(yield_per=BATCH, stream_results=True)

    def records() -> Iterator[dict[str, Any]]:
        for row in session.connection().execute(query).mappings():
            record = {k: _plain(row[k]) for k in KEYS if k != "new"}
            repeat = record["repeat"]
            record["new"] = None if repeat is None else record["female"] + record["male"] + record["other"] - repeat
            yield {k: record[k] for k in KEYS}

    def rows() -> Iterator[list[Any]]:
        return (neutralize_row(list(r.values())) for r in records())

    return Table(
        name="Trainings",
        title=f"{partnership.name}: training rows",
        columns=COLUMNS,
        rows=rows,
        records=records,
        notes=[
            ("Rows", "One row per training event and participant institution, as reported."),
            ("Counting", "A person trained twice counts twice: participants are counted per row."),
            (
                "Figures",
                "Approved reports only" + (", plus reports awaiting review." if options.include_provisional else "."),
            ),
            (
                "Filters",
                f"partner={options.partner or 'all'}, pillar={options.pillar or 'all'}, "
                f"from={options.first_period or 'start'}, to={options.last_period or 'end'}",
            ),
        ],
    )
