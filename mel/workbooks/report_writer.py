"""Filled quarterly reports and measurement workbooks, written from plain rows with xlsxwriter.

The demo and the sample files hand their data to the importer as workbooks, exactly like a partner
would, so that every stored number went through the same validation. xlsxwriter is fast and, with
a fixed creation date, writes byte-identical files for identical content (the importer recognizes
an already stored file by its hash: the demo can run twice without duplicating anything).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from mel.workbooks.attendance import Attendance
from mel.workbooks.labels import (
    cover_labels,
    followup_headers,
    indicator_headers,
    measurement_headers,
    narrative_headers,
    pillar_labels,
    round_labels,
    section_labels,
    sheet_names,
    training_headers,
    yes_no,
)
from mel.workbooks.spec import DimensionSpec
from mel.workbooks.xlsx import FIXED_TIME

Cell = str | int | float | dt.date | None


@dataclass
class IndicatorRow:
    code: str
    value: Cell
    categories: dict[str, str] = field(default_factory=dict)
    """Dimension code -> category code; written as the category's label in the workbook's language."""
    comment: str | None = None
    numerator: int | None = None  # a pooled rate's counts (REPORT-FORMAT.md v1.1)
    denominator: int | None = None


@dataclass
class TrainingRow(Attendance):
    """One row of the Trainings sheet: catalog codes, written as labels in the workbook's language."""

    title: str
    start_date: dt.date
    pillar: str
    region: str
    modality: str
    institution: str
    end_date: dt.date | None = None


@dataclass
class FollowUpRow:
    """A Follow-up (Seguimiento) row: counts of an earlier training's participants met again."""

    title: str
    start_date: dt.date
    institution: str | None
    months: int
    participants: int
    reached: int
    in_post: int
    applying: int


@dataclass
class Report:
    partner: str
    period: str
    indicators: list[IndicatorRow]
    trainings: list[TrainingRow] = field(default_factory=list)
    narrative: list[tuple[str, str]] = field(default_factory=list)
    prepared_by: str | None = None
    report_date: dt.date | None = None
    followups: list[FollowUpRow] = field(default_factory=list)


@dataclass
class MeasurementRow:
    indicator: str
    round: str
    date: int | str | dt.date
    value: Cell
    categories: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    comparable: bool = True
    note: str | None = None
    sample_size: int | None = None  # surveys
    margin_of_error: float | None = None  # percentage points at 95 %


def _book(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": FIXED_TIME, "author": "mel"})
    return book


def _write_row(ws: Worksheet, row: int, values: list[Any], date_format: Any) -> None:
    for col, value in enumerate(values):
        if value is None or value == "":
            continue
        if isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_format)
        else:
            ws.write(row, col, value)


def write_report(report: Report, dimensions: dict[str, DimensionSpec], lang: str) -> bytes:
    """A quarterly report workbook in ``lang``; ``dimensions`` gives headers and category labels."""
    buffer = io.BytesIO()
    book = _book(buffer)
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    names = sheet_names(lang)

    cover = book.add_worksheet(names["cover"])
    labels = cover_labels(lang)
    cover.set_column(0, 1, 22)
    pairs: list[tuple[str, Cell]] = [
        (labels["partner"], report.partner),
        (labels["period"], report.period),
        (labels["prepared_by"], report.prepared_by),
        (labels["date"], report.report_date),
    ]
    for row, (label, value) in enumerate(pairs, start=1):
        cover.write(row, 0, label, bold)
        _write_row(cover, row, [None, value], date_format)

    used = [code for code in dimensions if any(code in r.categories for r in report.indicators)]
    heads = indicator_headers(lang)
    ws = book.add_worksheet(names["indicators"])
    pooled = any(r.denominator is not None for r in report.indicators)
    counts = [heads["numerator"], heads["denominator"]] if pooled else []
    header = [heads["indicator"], *[dimensions[c].label for c in used], heads["value"], *counts, heads["comment"]]
    ws.write_row(0, 0, header, bold)
    for number, item in enumerate(report.indicators, start=1):
        cats = [dimensions[c].label_of(item.categories[c]) if c in item.categories else None for c in used]
        rate = [item.numerator, item.denominator] if pooled else []
        _write_row(ws, number, [item.code, *cats, item.value, *rate, item.comment], date_format)

    if report.trainings:
        _write_trainings(book.add_worksheet(names["trainings"]), report.trainings, dimensions, lang, bold, date_format)
    if report.followups:
        _write_followups(book.add_worksheet(names["followup"]), report.followups, dimensions, lang, bold, date_format)
    if report.narrative:
        ws = book.add_worksheet(names["narrative"])
        nheads = narrative_headers(lang)
        sections = section_labels(lang)
        ws.write_row(0, 0, [nheads["section"], nheads["text"]], bold)
        for number, (section, text) in enumerate(report.narrative, start=1):
            ws.write_row(number, 0, [sections[section], text])
    book.close()
    return buffer.getvalue()


def _write_trainings(
    ws: Worksheet,
    rows: list[TrainingRow],
    dimensions: dict[str, DimensionSpec],
    lang: str,
    bold: Any,
    date_format: Any,
) -> None:
    heads = training_headers(lang)
    pillars = pillar_labels(lang)
    keys = list(heads)
    ws.write_row(0, 0, [heads[k] for k in keys], bold)
    for number, item in enumerate(rows, start=1):
        values: dict[str, Cell] = {
            "title": item.title,
            "start_date": item.start_date,
            "end_date": item.end_date,
            "pillar": pillars[item.pillar],
            "region": dimensions["region"].label_of(item.region),
            "modality": dimensions["modality"].label_of(item.modality),
            "institution": dimensions["institution"].label_of(item.institution),
            "female": item.female,
            "male": item.male,
            "other": item.other,
            "under_18": item.under_18,
            "hours": item.hours,
            "pre_score": item.pre_score,
            "post_score": item.post_score,
            "repeat": item.repeat,
        }
        _write_row(ws, number, [values[k] for k in keys], date_format)


def _write_followups(
    ws: Worksheet,
    rows: list[FollowUpRow],
    dimensions: dict[str, DimensionSpec],
    lang: str,
    bold: Any,
    date_format: Any,
) -> None:
    heads = followup_headers(lang)
    keys = ["title", "start_date", "institution", "months", "participants", "reached", "in_post", "applying"]
    ws.write_row(0, 0, [heads[k] for k in keys], bold)
    for number, item in enumerate(rows, start=1):
        institution = dimensions["institution"].label_of(item.institution) if item.institution else None
        values: list[Any] = [item.title, item.start_date, institution, item.months, item.participants]
        values += [item.reached, item.in_post, item.applying]
        _write_row(ws, number, values, date_format)


def write_measurements(rows: list[MeasurementRow], dimensions: dict[str, DimensionSpec], lang: str) -> bytes:
    """A measurement workbook (one Measurements sheet, no cover) in ``lang``."""
    buffer = io.BytesIO()
    book = _book(buffer)
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    heads = measurement_headers(lang)
    rounds = round_labels(lang)
    used = [code for code in dimensions if any(code in r.categories for r in rows)]
    ws = book.add_worksheet(sheet_names(lang)["measurements"])
    header = [heads["indicator"], heads["round"], heads["date"], *[dimensions[c].label for c in used]]
    header += [heads["value"], heads["source"], heads["comparable"], heads["note"]]
    surveys = any(r.sample_size is not None or r.margin_of_error is not None for r in rows)
    if surveys:
        header += [heads["sample_size"], heads["margin_of_error"]]
    ws.write_row(0, 0, header, bold)
    for number, item in enumerate(rows, start=1):
        cats = [dimensions[c].label_of(item.categories[c]) if c in item.categories else None for c in used]
        values: list[Any] = [item.indicator, rounds[item.round], item.date, *cats]
        values += [item.value, item.source, yes_no(lang, item.comparable), item.note]
        if surveys:
            values += [item.sample_size, item.margin_of_error]
        _write_row(ws, number, values, date_format)
    book.close()
    return buffer.getvalue()
