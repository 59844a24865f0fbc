"""Who may import what: partners report, staff and evaluators import measurements. A workbook the
actor's role may not import is refused with one ``not_allowed`` error, nothing stored, and audited.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mel.core.audit import Actor, record
from mel.core.i18n import t
from mel.reports.import_result import ImportResult
from mel.reports.parse_results import Issue

MEASUREMENT_ROLES = frozenset({"admin", "officer", "evaluator"})


def may_import_measurements(actor: Actor) -> bool:
    """Measurements count at once, so only staff and evaluators import them (the command line too)."""
    return actor.role is None if actor.user_id is None else actor.role in MEASUREMENT_ROLES


def refuse_measurements(
    session: Session, result: ImportResult, *, actor: Actor, filename: str, lang: str
) -> ImportResult:
    """A partner's measurement workbook: measurements count at once, so only staff and evaluators."""
    message = t(
        lang,
        "Only program officers, administrators and evaluators import measurement workbooks (baselines and "
        "endlines). Upload your quarterly report instead, or send this file to your program officer.",
    )
    summary = f"{actor.role or 'unknown role'} may not import measurements ({filename})"
    return _not_allowed(session, result, actor, filename, "measurement.refused", "measurement_batch", summary, message)


def refuse_report(session: Session, result: ImportResult, *, actor: Actor, filename: str, lang: str) -> ImportResult:
    """An evaluator's quarterly report: partners report, evaluators measure."""
    message = t(
        lang,
        "Evaluators import measurement workbooks (baselines and endlines), not partners' quarterly reports: "
        "upload a workbook with a Measurements sheet, or ask the partner to submit its report.",
    )
    summary = f"an evaluator may not submit a partner's quarterly report ({filename})"
    return _not_allowed(session, result, actor, filename, "report.refused", "submission", summary, message)


def _not_allowed(
    session: Session,
    result: ImportResult,
    actor: Actor,
    filename: str,
    action: str,
    entity: str,
    summary: str,
    message: str,
) -> ImportResult:
    """A workbook this role may not import: one ``not_allowed`` error, nothing stored or listed, audited."""
    record(
        session,
        actor=actor,
        action=action,
        entity=entity,
        summary=summary,
        after={"file_sha256": result.sha256, "file": filename, "role": actor.role},
    )
    result.status = "rejected"
    result.errors = [Issue("not_allowed", "", "", message)]
    result.warnings, result.infos, result.measurements = [], [], []
    result.values, result.trainings, result.narrative = [], [], []
    result.followups = []
    return result
