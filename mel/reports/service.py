"""Importing a workbook: read, check against the catalog, then store it all or nothing.

``import_workbook`` is the one way data enters the system (web upload, ``mel import``, the demo).
It works inside the caller's transaction: the caller commits. The original file is kept under its
SHA-256 only when the import is stored; a file with personal data is never kept.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from mel.core.audit import CLI, Actor, record
from mel.core.i18n import t
from mel.core.settings import Settings
from mel.reports import storage
from mel.reports.files import keep_file, safe_filename, sha256_of
from mel.reports.import_refusals import may_import_measurements, refuse_measurements, refuse_report
from mel.reports.import_result import ImportResult
from mel.reports.import_warnings import quality_warnings
from mel.reports.intake_messages import external_links_warning, macros_message, too_large_issue
from mel.reports.parse import parse_workbook
from mel.reports.parse_results import Issue, Kind, ParsedWorkbook
from mel.workbooks.book import WorkbookError
from mel.workbooks.reader import read_workbook
from mel.workbooks.sanitize import strip_external_links

ProgressCallback = Callable[[str, float], None]
"""Told each stage of an import and the fraction done (0 to 1), for a progress bar."""


def _noop(_stage: str, _fraction: float) -> None:
    return None


def import_workbook(
    *,
    session: Session,
    data: bytes,
    filename: str,
    settings: Settings,
    partner_code: str | None = None,
    period: str | None = None,
    partnership_code: str | None = None,
    lang: str = "en",
    actor: Actor = CLI,
    dry_run: bool = False,
    reason: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Check ``data`` and, unless ``dry_run`` or rejected, store it as a new version (or batch)."""
    report = progress or _noop
    report("reading", 0.0)
    filename = safe_filename(filename)
    max_bytes = int(settings.max_upload_mb * 1024 * 1024)
    if len(data) > max_bytes:
        issue = Issue(
            "file_too_large",
            "",
            "",
            t(lang, "The file is larger than {limit} MB: split it or remove unneeded sheets.", limit=_mb(settings)),
        )
        return ImportResult("rejected", errors=[issue])
    sha = sha256_of(data)
    existing = storage.already_stored(session, sha)
    if existing is not None:
        report("reading", 1.0)
        if existing.kind == "measurements" and not may_import_measurements(actor):
            refused = ImportResult("rejected", kind="measurements", sha256=sha, dry_run=dry_run)
            return refuse_measurements(session, refused, actor=actor, filename=filename, lang=lang)
        return _duplicate(existing, sha, lang, dry_run)
    try:
        workbook = read_workbook(
            data, max_bytes=max_bytes, max_part_bytes=settings.max_part_bytes, max_cells=settings.max_sheet_cells
        )
    except WorkbookError as exc:
        return ImportResult("rejected", sha256=sha, dry_run=dry_run, errors=[_workbook_issue(exc, lang, settings)])
    report("reading", 1.0)
    report("checking", 0.0)
    parsed = parse_workbook(
        session, workbook, lang=lang, partner_code=partner_code, period=period, partnership_code=partnership_code
    )
    if workbook.external_links:  # never store (nor serve again) a file that reaches out to other machines
        data = strip_external_links(data)
        parsed.warnings.append(external_links_warning(lang, len(workbook.external_links)))
    report("checking", 1.0)
    return import_parsed(
        session=session,
        parsed=parsed,
        data=data,
        filename=filename,
        settings=settings,
        actor=actor,
        dry_run=dry_run,
        reason=reason,
        progress=report,
    )


def import_parsed(
    *,
    session: Session,
    parsed: ParsedWorkbook,
    data: bytes,
    filename: str,
    settings: Settings,
    actor: Actor = CLI,
    dry_run: bool = False,
    reason: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Store an already checked workbook: the second half of ``import_workbook``."""
    report = progress or _noop
    sha = sha256_of(data)
    result = ImportResult(
        "rejected",
        kind=parsed.kind,
        partner=parsed.partner,
        partner_name=parsed.partner_name,
        period=parsed.period,
        sha256=sha,
        dry_run=dry_run,
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
        infos=list(parsed.infos),
        values=parsed.values,
        trainings=parsed.trainings,
        narrative=parsed.narrative,
        measurements=parsed.measurements,
        followups=parsed.followups,
    )
    reason = (reason or "").strip() or None
    if parsed.kind == "measurements" and not may_import_measurements(actor):
        return refuse_measurements(session, result, actor=actor, filename=filename, lang=parsed.lang)
    if parsed.kind != "measurements" and actor.user_id is not None and actor.role == "evaluator":
        return refuse_report(session, result, actor=actor, filename=filename, lang=parsed.lang)
    if result.errors:
        return result
    if parsed.kind == "measurements":
        return _measurements(session, parsed, result, data=data, filename=filename, settings=settings, actor=actor)

    assert parsed.partner_id is not None and parsed.period is not None
    partner_id, period = parsed.partner_id, parsed.period
    result.warnings += quality_warnings(
        session, partner_id=partner_id, period=period, values=parsed.values, settings=settings, lang=parsed.lang
    )
    if dry_run:
        problem = _needs_reason(session, partner_id, period, reason, parsed.lang)
        if problem:
            result.errors.append(problem)
            return result
        result.status = "accepted"
        result.version = storage.next_version(session, partner_id, period)
        return result

    report("storing", 0.0)
    storage.lock_partner(session, partner_id)
    existing = storage.already_stored(session, sha)  # again, now that concurrent imports are serialized
    if existing is not None:
        return _duplicate(existing, sha, parsed.lang, dry_run=False)
    problem = _needs_reason(session, partner_id, period, reason, parsed.lang)
    if problem:
        result.errors.append(problem)
        return result
    with session.begin_nested():
        storage.add_stored_file(session, sha256=sha, size=len(data), filename=filename)
        stored = storage.store_report(
            session, parsed=parsed, sha256=sha, user_id=actor.user_id, reason=reason, warnings=result.warnings
        )
        report("storing", 0.8)
        record(
            session,
            actor=actor,
            action="submission.import",
            entity="submission",
            entity_id=stored.submission_id,
            summary=f"{parsed.partner} {period} v{stored.version} ({filename})",
            before=(
                {
                    "submission_id": stored.previous_id,
                    "version": stored.previous_version,
                    "status": stored.previous_status,
                }
                if stored.previous_id
                else None
            ),
            after={
                "version": stored.version,
                "status": "submitted",
                "file_sha256": sha,
                "file": filename,
                "reason": reason,
                "values": len(parsed.values),
                "trainings": len(parsed.trainings),
                "narrative": len(parsed.narrative),
                "warnings": len(result.warnings),
            },
        )
        if stored.previous_id is not None:
            record(
                session,
                actor=actor,
                action="submission.supersede",
                entity="submission",
                entity_id=stored.previous_id,
                summary=f"{parsed.partner} {period} v{stored.previous_version} superseded by v{stored.version}",
                before={"status": stored.previous_status},
                after={"status": "superseded", "by_version": stored.version, "reason": reason},
            )
    keep_file(session, upload_dir=settings.upload_dir, sha256=sha, data=data)
    report("storing", 1.0)
    result.status = "accepted"
    result.version = stored.version
    result.submission_id = stored.submission_id
    return result


def _measurements(
    session: Session,
    parsed: ParsedWorkbook,
    result: ImportResult,
    *,
    data: bytes,
    filename: str,
    settings: Settings,
    actor: Actor,
) -> ImportResult:
    if result.dry_run:
        result.status = "accepted"
        return result
    assert parsed.partnership_id is not None
    sha = result.sha256 or sha256_of(data)
    storage.lock_partnership(session, parsed.partnership_id)
    existing = storage.already_stored(session, sha)
    if existing is not None:
        return _duplicate(existing, sha, parsed.lang, dry_run=False)
    with session.begin_nested():
        storage.add_stored_file(session, sha256=sha, size=len(data), filename=filename)
        stored = storage.store_measurements(session, parsed=parsed, sha256=sha, user_id=actor.user_id)
        record(
            session,
            actor=actor,
            action="measurement.import",
            entity="measurement_batch",
            entity_id=stored.batch_id,
            summary=f"{len(parsed.measurements)} measurements ({filename})",
            after={
                "file_sha256": sha,
                "file": filename,
                "measurements": len(parsed.measurements),
                "replaced": len(stored.replaced),
            },
        )
        for old in stored.replaced:
            record(
                session,
                actor=actor,
                action="measurement.replace",
                entity="measurement",
                entity_id=old["id"],
                summary=f"replaced by batch {stored.batch_id}",
                before=old,
                after={"batch_id": stored.batch_id},
            )
    keep_file(session, upload_dir=settings.upload_dir, sha256=sha, data=data)
    result.status = "accepted"
    result.batch_id = stored.batch_id
    return result


def _needs_reason(session: Session, partner_id: int, period: str, reason: str | None, lang: str) -> Issue | None:
    """A new version of an approved report must say why (shown in the history)."""
    current = storage.current_submission(session, partner_id, period)
    if current is None or current.status != "approved" or reason:
        return None
    return Issue(
        "reason_required",
        "",
        "",
        t(
            lang,
            "Version {version} of this report is already approved: state the reason for the new version.",
            version=current.version,
        ),
    )


def _duplicate(existing: storage.Existing, sha: str, lang: str, dry_run: bool) -> ImportResult:
    kind: Kind = "measurements" if existing.kind == "measurements" else "quarterly_report"
    info = Issue("already_imported", "", "", t(lang, "This exact file was already imported: nothing was stored."))
    return ImportResult(
        "duplicate",
        kind=kind,
        partner=existing.partner,
        period=existing.period,
        version=existing.version,
        submission_id=existing.submission_id,
        sha256=sha,
        dry_run=dry_run,
        infos=[info],
    )


def _mb(settings: Settings) -> str:
    return f"{settings.max_upload_mb:g}"


def _workbook_issue(exc: WorkbookError, lang: str, settings: Settings) -> Issue:
    if exc.code == "file_too_large":
        message = t(
            lang, "The file is larger than {limit} MB: split it or remove unneeded sheets.", limit=_mb(settings)
        )
    elif exc.code == "too_large":
        return too_large_issue(lang, exc.sheet, settings.max_sheet_cells)
    elif exc.reason == "macros":
        message = macros_message(lang)
    else:
        message = t(lang, "This file is not an Excel workbook (.xlsx): save it as .xlsx and upload it again.")
    return Issue(exc.code, exc.sheet, "", message)
