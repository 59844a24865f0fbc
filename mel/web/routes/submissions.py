"""Quarterly reporting pages: template download and upload, history, the review queue, one submission.

Routes parse the request, call the view models (``mel.reports.upload_choices``, ``history``, ``review_queue``,
``submission_view``) or the service, and render. Uploads become durable jobs (``mel.reports.job_queue``) run by
worker processes, so a large file shows its stage (or place in the queue) while it is checked, from any process.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from mel.auth.identity import CurrentUser
from mel.catalog.calendar import last_ended_quarter
from mel.core import periods
from mel.core.db import transaction
from mel.core.i18n import t
from mel.core.settings import Settings
from mel.reports import submission_view, upload_choices
from mel.reports.files import content_disposition, safe_filename, stored_path
from mel.reports.followup_view import followup_context
from mel.reports.history import partner_history
from mel.reports.import_result import ImportResult
from mel.reports.job_dispatcher import dispatcher
from mel.reports.job_queue import enqueue_import, forget_job, record_finished
from mel.reports.job_results import job_view
from mel.reports.parse_results import Issue, Kind
from mel.reports.queries_values import open_counts
from mel.reports.received import received_of
from mel.reports.review import ReviewError, approval_refused, review_submission, submission_diff
from mel.reports.review_queue import queue_filters, review_queue
from mel.results.disclosure import viewer_of
from mel.results.prefill import build_template
from mel.web.deps import PartnerOrStaff, SessionDep, SettingsDep
from mel.web.policy import Allow
from mel.web.render import is_htmx, render
from mel.web.sessions import actor_of, csrf_router
from mel.workbooks.spec import SpecError

router = csrf_router()

Uploader = Annotated[CurrentUser, Depends(Allow("partner", "admin", "officer"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INLINE_WAIT_SECONDS = 1.0
"""How long the upload request waits for a small file's result before showing the progress instead."""
CHUNK = 1024 * 1024
MAX_VALUE_ROWS = 1000
MAX_TRAINING_ROWS = 300
"""Rows shown on a submission page; the original file holds them all (partners are often on slow links)."""


def _choose(
    session: SessionDep, user: CurrentUser, partner: str | None
) -> tuple[list[upload_choices.PartnerChoice], upload_choices.PartnerChoice | None]:
    """The partners this user may report for, and the chosen one (a partner user's own by default)."""
    choices = upload_choices.upload_partner_choices(session, user)
    if partner:
        chosen = next((c for c in choices if c.code == partner), None)
        if chosen is None:
            raise HTTPException(status_code=404)
        return choices, chosen
    if user.is_partner:
        own = next((c for c in choices if c.id == user.partner_id), None)
        return choices, own or (choices[0] if choices else None)
    return choices, None


def _period(choice: upload_choices.PartnerChoice, period: str | None) -> tuple[list[str], str | None]:
    day = periods.today()
    open_periods = upload_choices.period_choices(choice, day)
    if period in open_periods:
        return open_periods, period
    default = last_ended_quarter(day)
    return open_periods, default if default in open_periods else (open_periods[0] if open_periods else None)


def _form_context(session: SessionDep, user: CurrentUser, partner: str | None, period: str | None) -> dict[str, Any]:
    choices, chosen = _choose(session, user, partner)
    periods, selected = _period(chosen, period) if chosen else ([], None)
    current = upload_choices.current_version(session, chosen.id, selected) if chosen and selected else None
    return {
        "choices": choices,
        "chosen": chosen,
        "periods": periods,
        "period": selected,
        "current": current,
        "needs_reason": current is not None and current.status == "approved",
        "open_queries": open_counts(session, [chosen.id]).get((chosen.id, selected), 0) if chosen and selected else 0,
    }


@router.get("/reports", response_class=HTMLResponse, name="reports_home")
def reports_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: Uploader,
    partner: str | None = None,
    period: str | None = None,
) -> HTMLResponse:
    """Choose a quarter, download its template, upload the filled report."""
    context = _form_context(session, user, partner, period)
    context["max_mb"] = f"{settings.max_upload_mb:g}"
    return render(request, "reports/upload.html", context, block="upload_form")


@router.get("/reports/template", name="report_template")
def report_template(request: Request, session: SessionDep, user: Uploader, partner: str, period: str) -> Response:
    """The blank workbook of a partner and quarter, in the user's language."""
    _choices, chosen = _choose(session, user, partner)
    assert chosen is not None
    lang: str = request.state.lang
    try:
        data = build_template(
            session=session, partner_code=chosen.code, period=period, lang=lang, viewer=viewer_of(user)
        )
    except SpecError as exc:
        raise HTTPException(status_code=404) from exc
    name = f"{chosen.code}-{period}-{lang}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _too_large(lang: str, settings: Settings) -> Issue:
    return Issue(
        "file_too_large",
        "",
        "",
        t(
            lang,
            "The file is larger than {limit} MB: split it or remove unneeded sheets.",
            limit=f"{settings.max_upload_mb:g}",
        ),
    )


async def _read_limited(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None as soon as it exceeds ``limit`` (never more than that in memory)."""
    if upload.size is not None and upload.size > limit:
        return None
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/reports/upload", name="report_upload")
async def report_upload(
    request: Request,
    settings: SettingsDep,
    user: Uploader,
    partner: Annotated[str, Form()],
    period: Annotated[str, Form()],
    file: UploadFile,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Start the import of an uploaded workbook; show its result, or its progress while it runs."""
    with request.app.state.sessionmaker() as session:
        _choices, chosen = _choose(session, user, partner)
    assert chosen is not None
    return await queue_upload(
        request, settings, user, file, partner_code=chosen.code, period=period, reason=reason.strip() or None
    )


async def queue_upload(
    request: Request,
    settings: Settings,
    user: CurrentUser,
    file: UploadFile,
    *,
    partner_code: str | None,
    period: str | None,
    reason: str | None,
    partnership_code: str | None = None,
) -> Response:
    """Read the upload within the size limit, queue its import, and answer with its result when it
    comes within a second, else with the job page that follows it (reports and measurements alike)."""
    lang: str = request.state.lang
    limit = int(settings.max_upload_mb * 1024 * 1024)
    filename = safe_filename(file.filename or "upload.xlsx")
    declared = int(request.headers.get("content-length") or 0)
    data = None if declared > limit + CHUNK else await _read_limited(file, limit)
    actor = actor_of(request, user)
    with transaction(request.app.state.sessionmaker) as session:
        if data is None:
            kind: Kind = "quarterly_report" if partner_code else "measurements"
            errors = [_too_large(lang, settings)]
            refused = ImportResult("rejected", kind=kind, partner=partner_code, period=period, errors=errors)
            job_id = record_finished(session=session, actor=actor, filename=filename, lang=lang, result=refused)
        else:
            job_id = enqueue_import(
                session=session,
                data=data,
                filename=filename,
                actor=actor,
                partner_code=partner_code,
                period=period,
                lang=lang,
                reason=reason,
                partnership_code=partnership_code,
            )
    dispatcher(request.app).poke()
    deadline = time.monotonic() + INLINE_WAIT_SECONDS
    while time.monotonic() < deadline and not _finished(request, job_id, user.id):
        await asyncio.sleep(0.1)
    if is_htmx(request):
        return _job_response(request, job_id, user.id)
    return RedirectResponse(request.url_for("report_job", job_id=job_id), status_code=303)


def _finished(request: Request, job_id: str, user_id: int) -> bool:
    with request.app.state.sessionmaker() as session:
        view = job_view(session, job_id, user_id)
    return view is None or view.done


def _job_response(request: Request, job_id: str, user_id: int) -> HTMLResponse:
    factory = request.app.state.sessionmaker
    with factory() as session:
        job = job_view(session, job_id, user_id)
    if job is None:  # htmx swaps only successful answers: a 200 fragment stops the polling
        status = 200 if is_htmx(request) else 404
        return render(request, "reports/job.html", {"job": None}, block="job", status_code=status)
    if job.queued:  # after a restart nobody may have woken this process's dispatcher yet
        dispatcher(request.app).poke()
    result = job.result if job.done else None
    named = {i.indicator_id for i in result.errors if i.indicator_id is not None} if result else set()
    with factory() as session:
        indicators = upload_choices.indicator_labels(session, named) if named else {}
    context = {"job": job, "done": job.done, "result": result, "indicators": indicators}
    response = render(request, "reports/job.html", context, block="job")
    if job.done:  # shown once: the submission history keeps the lasting record
        with transaction(factory) as session:
            forget_job(session=session, job_id=job.id)
    return response


JobOwner = Annotated[CurrentUser, Depends(Allow("partner", "admin", "officer", "evaluator"))]
"""Whoever may upload (reports or measurements) follows their own jobs; others' answer 404."""


@router.get("/reports/jobs/{job_id}", response_class=HTMLResponse, name="report_job")
def report_job(request: Request, user: JobOwner, job_id: str) -> HTMLResponse:
    """An upload's place in the queue or stage while it runs (polled), then its result."""
    return _job_response(request, job_id, user.id)


@router.get("/reports/history", response_class=HTMLResponse, name="report_history")
def report_history(request: Request, session: SessionDep, user: Uploader, partner: str | None = None) -> HTMLResponse:
    """Every version a partner uploaded, with reviews and correction reasons."""
    choices, chosen = _choose(session, user, partner)
    if user.is_partner and chosen is None:
        ids = sorted(user.visible_partner_ids)
    elif user.is_partner and partner is None:
        ids = [c.id for c in choices]
    else:
        ids = [chosen.id] if chosen else []
    return render(
        request,
        "reports/history.html",
        {"choices": choices, "chosen": chosen if partner else None, "rows": partner_history(session, ids)},
    )


@router.get("/review", response_class=HTMLResponse, name="review_queue")
def review_queue_page(
    request: Request,
    session: SessionDep,
    user: PartnerOrStaff,
    partnership: str | None = None,
    partner: str | None = None,
) -> HTMLResponse:
    """Reports awaiting review, oldest first; a prime partner's users see their sub-recipients' reports
    awaiting the prime's review."""
    partnerships, partners = queue_filters(session)
    params = {"partnership": partnership or "", "partner": partner or ""}
    rows = review_queue(session, partnership=partnership or None, partner=partner or None)
    if user.is_partner:
        rows = [r for r in rows if r.level == "prime" and r.prime_id == user.partner_id]
        partners = [p for p in partners if any(r.partner == p.code for r in rows)]  # no other partner's name
        partnerships = [s for s in partnerships if any(r.partnership == s.code for r in rows)]
    context = {"partnerships": partnerships, "partners": partners, "params": params, "rows": rows}
    return render(request, "reports/queue.html", context, block="queue")


def _header(session: SessionDep, user: CurrentUser, submission_id: int) -> submission_view.SubmissionHeader:
    header = submission_view.submission_header(session, submission_id, user)
    if header is None:
        raise HTTPException(status_code=404)
    return header


def _submission_context(
    session: SessionDep, user: CurrentUser, header: submission_view.SubmissionHeader
) -> dict[str, Any]:
    diff = submission_diff(session, header.id)
    labels = submission_view.category_labels(session, header.partnership)
    value_count, training_count = submission_view.submission_counts(session, header.id)
    return {
        "value_count": value_count,
        "training_count": training_count,
        "sub": header,
        "values": submission_view.submission_values(session, header.id, limit=MAX_VALUE_ROWS),
        "trainings": submission_view.submission_trainings(session, header.id, limit=MAX_TRAINING_ROWS),
        "narrative": submission_view.submission_narrative(session, header.id),
        "warnings": submission_view.submission_warnings(session, header.id),
        "diff": diff,
        "diff_lines": [(line, submission_view.labelled(line.categories, labels)) for line in diff.changed],
        "own_upload": approval_refused(session, header.id, user.id, user.role),
        "review_error": None,
        **followup_context(session, user, header.id, header.partner_id, header.period),
        "received": received_of(session, header.id),
    }


@router.get("/submissions/{submission_id}", response_class=HTMLResponse, name="submission_page")
def submission_page(request: Request, session: SessionDep, user: PartnerOrStaff, submission_id: int) -> HTMLResponse:
    """One version of a report: what was stored, what changed, and its review."""
    header = _header(session, user, submission_id)
    context = _submission_context(session, user, header)
    return render(request, "reports/submission.html", context, block="status")


def _review_message(code: str, lang: str) -> str:
    if code == "comment_required":
        return t(lang, "Say what the partner should change: a returned report needs a comment.")
    if code == "not_reviewable":
        return t(lang, "This version is no longer awaiting review: reload the page.")
    if code == "own_upload":
        return t(lang, "You uploaded this version: another program officer or an administrator must approve it.")
    if code == "awaiting_prime":
        return t(lang, "The prime partner reviews this sub-recipient's report first; you may return it.")
    if code == "not_your_level":
        return t(lang, "This report is not awaiting your review.")
    return t(lang, "Choose approve or return.")


@router.post("/submissions/{submission_id}/review", response_class=HTMLResponse, name="submission_review")
def submission_review(
    request: Request,
    user: PartnerOrStaff,
    submission_id: int,
    action: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Approve or return a report awaiting review (the service records it in the audit log)."""
    lang: str = request.state.lang
    factory = request.app.state.sessionmaker
    error: str | None = None
    refused = False
    with factory() as session:
        _header(session, user, submission_id)
    try:
        with transaction(factory) as session:
            review_submission(
                session=session,
                submission_id=submission_id,
                action={"approve": "approved", "return": "returned"}.get(action, action),
                comment=comment,
                actor=actor_of(request, user),
            )
    except ReviewError as exc:
        error = _review_message(exc.code, lang)
        refused = exc.code in ("own_upload", "awaiting_prime", "not_your_level")
    if error is None and not is_htmx(request):
        return RedirectResponse(request.url_for("submission_page", submission_id=submission_id), status_code=303)
    with factory() as session:
        header = _header(session, user, submission_id)
        context = _submission_context(session, user, header)
    context["review_error"] = error
    context["comment"] = comment
    status = 200 if error is None or is_htmx(request) else (403 if refused else 422)
    return render(request, "reports/submission.html", context, block="status", status_code=status)


@router.get("/submissions/{submission_id}/file", name="submission_file")
def submission_file(
    session: SessionDep, settings: SettingsDep, user: PartnerOrStaff, submission_id: int
) -> FileResponse:
    """The original uploaded workbook, exactly as it was received."""
    header = _header(session, user, submission_id)
    path = stored_path(settings.upload_dir, header.file_sha256)
    if not path.is_file():
        raise HTTPException(status_code=404)
    if header.filename.endswith(".json"):  # a report sent as JSON through the API (mel.reports.json_report)
        disposition = content_disposition(header.filename, ext=".json")
        return FileResponse(path, media_type="application/json", headers={"Content-Disposition": disposition})
    return FileResponse(path, media_type=XLSX, headers={"Content-Disposition": content_disposition(header.filename)})
