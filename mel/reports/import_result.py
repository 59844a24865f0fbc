"""What an import did: the one result of ``import_workbook`` for the upload page, the job queue,
the API and ``mel import --json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mel.reports.parse_results import (
    Issue,
    Kind,
    ParsedFollowUp,
    ParsedMeasurement,
    ParsedNarrative,
    ParsedTraining,
    ParsedValue,
)

Status = Literal["accepted", "rejected", "duplicate"]


@dataclass
class ImportResult:
    """What an import did, and what ``mel import --json`` prints."""

    status: Status
    kind: Kind = "quarterly_report"
    partner: str | None = None
    period: str | None = None
    version: int | None = None
    submission_id: int | None = None
    partner_name: str | None = None
    """For the upload page only (not part of the ``--json`` contract)."""
    batch_id: int | None = None
    sha256: str | None = None
    dry_run: bool = False
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    infos: list[Issue] = field(default_factory=list)
    values: list[ParsedValue] = field(default_factory=list)
    trainings: list[ParsedTraining] = field(default_factory=list)
    narrative: list[ParsedNarrative] = field(default_factory=list)
    measurements: list[ParsedMeasurement] = field(default_factory=list)
    followups: list[ParsedFollowUp] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "kind": self.kind,
            "partner": self.partner,
            "period": self.period,
            "version": self.version,
            "errors": [e.as_json() for e in self.errors],
            "warnings": [w.as_json() for w in self.warnings],
            "values": [v.as_json() for v in self.values],
            "trainings": [tr.as_json() for tr in self.trainings],
            "narrative": [n.as_json() for n in self.narrative],
            "measurements": [m.as_json() for m in self.measurements],
            "followups": [f.as_json() for f in self.followups],
            "infos": [i.as_json() for i in self.infos],
            "submission_id": self.submission_id,
            "measurement_batch_id": self.batch_id,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
        }
