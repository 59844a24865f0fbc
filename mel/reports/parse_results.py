"""What a checked workbook becomes: plain rows resolved against the catalog, plus every problem found.

The parser (``mel.reports.parse``) fills these from a ``mel.workbooks.book.Workbook``; the import
service (``mel.reports.service``) stores them. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from mel.workbooks.attendance import Attendance

Kind = Literal["quarterly_report", "measurements"]


@dataclass(frozen=True)
class Issue:
    """An error, warning or information line, exactly as ``mel import --json`` reports it."""

    code: str
    sheet: str
    cell: str
    message: str
    params: dict[str, Any] | None = field(default=None, compare=False)
    """For stored warnings: the message's parameters, so each reader sees it in their own language."""
    indicator_id: int | None = field(default=None, compare=False)
    """The indicator of the row the cell is on, when known: the upload page names it beside the cell."""

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "sheet": self.sheet, "cell": self.cell, "message": self.message}


@dataclass
class ParsedValue:
    indicator_id: int
    indicator: str
    categories: dict[str, str]
    """Dimension code -> category code; ``{}`` for the total."""
    category_ids: frozenset[int]
    value: float
    comment: str | None
    sheet: str
    cell: str
    numerator: float | None = None  # a pooled rate's counts (REPORT-FORMAT.md v1.1)
    denominator: float | None = None

    def as_json(self) -> dict[str, Any]:
        number: float | int = int(self.value) if float(self.value).is_integer() else self.value
        out: dict[str, Any] = {
            "indicator": self.indicator,
            "categories": self.categories,
            "value": number,
            "comment": self.comment,
        }
        if self.denominator is not None and self.numerator is not None:
            out["numerator"], out["denominator"] = int(self.numerator), int(self.denominator)
        return out


@dataclass
class ParsedTraining(Attendance):
    title: str
    start_date: dt.date
    end_date: dt.date | None
    pillar: str
    region: str
    region_id: int
    modality: str
    modality_id: int
    institution: str
    institution_id: int
    sheet: str
    row: int
    """Spreadsheet row number (1-based) of this training row."""

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "pillar": self.pillar,
            "region": self.region,
            "modality": self.modality,
            "institution": self.institution,
            "female": self.female,
            "male": self.male,
            "other": self.other,
            "under_18": self.under_18,
            "hours": _plain(self.hours),
            "pre_score": self.pre_score,
            "post_score": self.post_score,
            "repeat": self.repeat,
        }


@dataclass
class ParsedFollowUp:
    """One row of the Follow-up sheet: counts of a training's participants met again (no names)."""

    title: str | None
    start_date: dt.date | None
    training_period: str | None
    institution: str | None
    institution_id: int | None
    months: int
    participants: int | None
    reached: int
    in_post: int
    applying: int
    sheet: str
    row: int

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "training_period": self.training_period,
            "institution": self.institution,
            "months": self.months,
            "participants": self.participants,
            "reached": self.reached,
            "in_post": self.in_post,
            "applying": self.applying,
        }


@dataclass
class ParsedNarrative:
    section: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"section": self.section, "text": self.text}


@dataclass
class ParsedMeasurement:
    indicator_id: int
    indicator: str
    round: str
    date: str
    """``2022`` or ``2022-05-31``, as the workbook gave it."""
    categories: dict[str, str]
    category_ids: frozenset[int]
    value: float
    source: str | None
    comparable: bool
    note: str | None
    sheet: str
    cell: str
    sample_size: int | None = None  # surveys
    margin_of_error: float | None = None  # percentage points at 95 %

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "indicator": self.indicator,
            "round": self.round,
            "date": self.date,
            "categories": self.categories,
            "value": _plain(self.value),
            "source": self.source,
            "comparable": self.comparable,
            "note": self.note,
        }
        if self.sample_size is not None:  # surveys only (REPORT-FORMAT.md v1.1)
            out["sample_size"] = self.sample_size
        if self.margin_of_error is not None:
            out["margin_of_error"] = _plain(self.margin_of_error)
        return out


@dataclass
class ParsedWorkbook:
    """Everything read from one workbook; ``errors`` empty means it may be stored."""

    kind: Kind
    lang: str
    partnership_id: int | None = None
    partner_id: int | None = None
    partner: str | None = None
    partner_name: str | None = None
    period: str | None = None
    prepared_by: str | None = None
    report_date: dt.date | None = None
    values: list[ParsedValue] = field(default_factory=list)
    trainings: list[ParsedTraining] = field(default_factory=list)
    narrative: list[ParsedNarrative] = field(default_factory=list)
    followups: list[ParsedFollowUp] = field(default_factory=list)
    measurements: list[ParsedMeasurement] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    infos: list[Issue] = field(default_factory=list)
    """Ignored sheets and columns, "N/A" cells read as nothing reported."""


def _plain(number: float | None) -> float | int | None:
    """JSON numbers as people wrote them: 16, not 16.0."""
    if number is None:
        return None
    return int(number) if float(number).is_integer() else number
