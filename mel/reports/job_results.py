"""What an import job's page and API show: its stage, its place in the queue, and its result.

A finished job keeps only what the page draws (counts, not rows) as JSON on its row, or the whole
``mel import --json`` object when an API client asked for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.reports.import_result import ImportResult
from mel.reports.job_models import FINISHED, STAGES, ImportJob
from mel.reports.parse_results import Issue


@dataclass
class ShownResult:
    """An import's result as stored on its job: what the result page draws (counts, not rows)."""

    status: str
    kind: str = "quarterly_report"
    partner: str | None = None
    partner_name: str | None = None
    period: str | None = None
    version: int | None = None
    submission_id: int | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    infos: list[Issue] = field(default_factory=list)
    values: Sequence[int] = range(0)
    trainings: Sequence[int] = range(0)
    measurements: Sequence[int] = range(0)


def result_json(result: ImportResult, *, detail: bool = False) -> str:
    """The part of an ``ImportResult`` the page needs, as JSON (row lists become their lengths).

    With ``detail`` the whole ``mel import --json`` object comes along under ``detail`` (API jobs).
    """
    extra = {"detail": result.as_json()} if detail else {}
    return json.dumps(
        {
            "status": result.status,
            "kind": result.kind,
            "partner": result.partner,
            "partner_name": result.partner_name,
            "period": result.period,
            "version": result.version,
            "submission_id": result.submission_id,
            "errors": [{**i.as_json(), "indicator_id": i.indicator_id} for i in result.errors],
            "warnings": [i.as_json() for i in result.warnings],
            "infos": [i.as_json() for i in result.infos],
            "values": len(result.values),
            "trainings": len(result.trainings),
            "measurements": len(result.measurements),
            **extra,
        },
        ensure_ascii=False,
    )


def job_detail(session: Session, job_id: str) -> dict[str, Any] | None:
    """The whole ``mel import --json`` object of a finished job that kept it (see ``result_json``)."""
    raw = session.scalar(select(ImportJob.result).where(ImportJob.id == job_id, ImportJob.detail.is_(True)))
    if not raw:
        return None
    found = json.loads(raw).get("detail")
    return found if isinstance(found, dict) else None


def shown_result(raw: str) -> ShownResult:
    data: dict[str, Any] = json.loads(raw)

    def issues(key: str) -> list[Issue]:
        return [
            Issue(i["code"], i["sheet"], i["cell"], i["message"], indicator_id=i.get("indicator_id"))
            for i in data.get(key, [])
        ]

    return ShownResult(
        status=data["status"],
        kind=data.get("kind", "quarterly_report"),
        partner=data.get("partner"),
        partner_name=data.get("partner_name"),
        period=data.get("period"),
        version=data.get("version"),
        submission_id=data.get("submission_id"),
        errors=issues("errors"),
        warnings=issues("warnings"),
        infos=issues("infos"),
        values=range(int(data.get("values", 0))),
        trainings=range(int(data.get("trainings", 0))),
        measurements=range(int(data.get("measurements", 0))),
    )


@dataclass
class JobView:
    """One job as its page shows it."""

    id: str
    filename: str
    stage: str
    fraction: float
    ahead: int
    """Queued jobs before this one (0 once it runs)."""
    result: ShownResult | None

    @property
    def done(self) -> bool:
        return self.stage in FINISHED

    @property
    def failed(self) -> bool:
        return self.stage == "failed" and self.result is None

    @property
    def queued(self) -> bool:
        return self.stage == "queued"

    @property
    def percent(self) -> int:
        """Overall progress: each stage (reading, checking, storing) is a third of the way."""
        index = STAGES.index(self.stage) if self.stage in STAGES else 0
        return round(100 * (index + (self.fraction if self.stage in STAGES else 0.0)) / len(STAGES))


def job_view(session: Session, job_id: str, user_id: int) -> JobView | None:
    """The job, only for the user who started it."""
    job = session.get(ImportJob, job_id)
    if job is None or job.user_id != user_id:
        return None
    ahead = 0
    if job.state == "queued":
        ahead = (
            session.scalar(
                select(func.count())
                .select_from(ImportJob)
                .where(ImportJob.state == "queued", ImportJob.created_at < job.created_at)
            )
            or 0
        )
    result = shown_result(job.result) if job.result else None
    return JobView(job.id, job.filename, job.state, job.fraction, ahead, result)
