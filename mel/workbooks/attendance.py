"""The attendance of one training row: its participants' counts, the hours and the test scores.

A training row is written into a workbook (``report_writer``), read back from one
(``mel.reports.parse_results``), shown on the submission page and in the list of training
events; each of those types extends this one, so the fields and the participant count are
defined once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(kw_only=True)
class Attendance:
    """Keyword-only fields: a row type extending it keeps its own fields positional, first."""

    female: int
    male: int
    other: int = 0
    """Other or unrecorded sex."""
    under_18: int | None = None
    hours: float | None = None
    pre_score: float | None = None
    """Mean test scores in percent."""
    post_score: float | None = None
    repeat: int | None = None
    """Participants the project had trained before (None: not recorded)."""

    @property
    def participants(self) -> int:
        """Everyone on the row, whatever their sex: a person trained twice counts twice."""
        return self.female + self.male + self.other
