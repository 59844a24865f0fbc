"""Submissions through the API: their status and versions, and machine submissions (workbook or JSON).

A workbook goes through the durable import queue like a web upload (same worker limits, same
instance-wide concurrency); the route waits for its result up to ``?wait=`` seconds, else answers
202 with the job to poll. A JSON report is checked in process by the workbook rules
(``mel.reports.json_report``). Both answer ``mel import --json``'s object: 201 when a version was
stored, 200 for a duplicate (or a dry run), 422 when rejected.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mel.auth.identity import CurrentUser
from mel.core.db import transaction
from mel.core.i18n import t
from mel.core.settings import Settings
from mel.reports.files import safe_filename
from mel.reports.history import reviews_of
from mel.reports.job_dispatcher import dispatcher
from mel.reports.job_queue import enqueue_import
from mel.reports.job_results import job_detail, job_view
from mel.reports.json_report import JsonImport, ReportIn, import_json_report, invalid_json
from mel.reports.submission_records import submission_records, version_records
from mel.reports.submission_view import submission_counts, submission_header
from mel.reports.upload_choices import upload_partner_choices
from mel.web.api.auth import ApiError, ApiPartnerOrStaff, ApiSubmitter, lang_of, not_found
from mel.web.api.http import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, json_answer, keyset_page, listing
from mel.web.deps import SessionDep
from mel.web.sessions import API_PATH, actor_of, csrf_router

router = csrf_router(prefix=API_PATH, tags=["submissions"])
MAX_WAIT = 300


@router.get("/submissions", name="api_submissions")
def submissions(
    request: Request,
    session: SessionDep,
    user: ApiPartnerOrStaff,
    partnership: str | None = None,
    partner: str | None = None,
    period: str | None = None,
    status: Annotated[str | None, Query(pattern="^(submitted|approved|returned|superseded)$")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Every version of the reports this token may see (partner tokens: their own organization's)."""
    after = decode_cursor(request, cursor)
    found = submission_records(
        session,
        partner_ids=sorted(user.visible_partner_ids) if user.is_partner else None,
        partnership=partnership,
        partner=partner,
        period=period,
        status=status,
        after=after if isinstance(after, int) else None,
        limit=limit + 1,
    )
    rows, next_cursor = keyset_page(found, limit, key=lambda r: int(r["id"]))
    return listing(request, rows, next_cursor)


@router.get("/submissions/{submission_id}", name="api_submission")
def submission(request: Request, session: SessionDep, user: ApiPartnerOrStaff, submission_id: int) -> Response:
    """One version with its reviews, and every version of the same partner and quarter."""
    header = submission_header(session, submission_id, user)
    if header is None:
        raise not_found(request)
    versions = version_records(session, header.partner_id, header.period)
    reviews = reviews_of(session, [v["id"] for v in versions])
    for v in versions:
        v["reviews"] = [
            {"action": r.action, "comment": r.comment, "at": r.at.isoformat() + "Z"} for r in reviews.get(v["id"], [])
        ]
    body = dict(next(v for v in versions if v["id"] == submission_id))
    values, trainings = submission_counts(session, submission_id)
    body.update(
        values=values,
        trainings=trainings,
        prepared_by=header.prepared_by,
        report_date=header.report_date.isoformat() if header.report_date else None,
        versions=versions,
    )
    return json_answer(request, body)


# --------------------------------------------------------------------------------------------
# Machine submissions


def _import_status(body: dict[str, Any]) -> int:
    if body["status"] == "rejected":
        return 422
    return 201 if body["status"] == "accepted" and not body.get("dry_run") else 200


def _reporting_partner(request: Request, user: CurrentUser, code: str) -> str:
    """The partner named for a workbook: one this account may report for (else 404, as on the pages)."""
    with request.app.state.sessionmaker() as session:
        choices = upload_partner_choices(session, user)
    chosen = next((c for c in choices if c.code == code), None)
    if chosen is None:
        raise not_found(request)
    return chosen.code


WORKBOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "partner"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The filled .xlsx report."},
                        "partner": {"type": "string", "description": "Partner code; the Cover must agree."},
                        "period": {"type": "string", "description": "Quarter (2021Q3); the Cover must agree."},
                        "reason": {"type": "string", "description": "Why, when a version is already approved."},
                    },
                }
            }
        },
    }
}


@router.post("/reports", name="api_report_upload", openapi_extra=WORKBOOK_BODY, status_code=201)
async def report_upload(
    request: Request,
    user: ApiSubmitter,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description="Seconds to wait for the result.")] = 60,
) -> Response:
    """Import a quarterly report workbook through the import queue; the body is read only after the token."""
    settings: Settings = request.app.state.settings
    lang = lang_of(request)
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    partner = form.get("partner")
    period, reason = form.get("period"), form.get("reason")
    if not isinstance(upload, UploadFile) or not isinstance(partner, str) or not partner:
        raise ApiError(
            400, "bad_request", t(lang, "Send multipart/form-data with the fields file (the .xlsx) and partner.")
        )
    code = await run_in_threadpool(_reporting_partner, request, user, partner)
    data = await upload.read()
    actor = actor_of(request, user)
    with transaction(request.app.state.sessionmaker) as session:
        job_id = enqueue_import(
            session=session,
            data=data,
            filename=safe_filename(upload.filename or "upload.xlsx"),
            actor=actor,
            partner_code=code,
            period=period if isinstance(period, str) and period else None,
            lang=lang,
            reason=reason.strip() or None if isinstance(reason, str) else None,
            detail=True,
        )
    dispatcher(request.app).poke()
    deadline = time.monotonic() + min(wait, settings.import_timeout_seconds + 30)
    while True:
        answer = await run_in_threadpool(_job_answer, request, job_id, user)
        if answer.status_code != 202 or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(0.2)


def _job_answer(request: Request, job_id: str, user: CurrentUser) -> Response:
    with request.app.state.sessionmaker() as session:
        view = job_view(session, job_id, user.id)
        raw = job_detail(session, job_id) if view is not None and view.done else None
    if view is None:
        raise not_found(request)
    if not view.done:
        body = {"job": job_id, "state": view.stage, "queued_ahead": view.ahead, "percent": view.percent}
        return json_answer(request, body, status_code=202)
    if raw is None:  # failed before a result: the interrupted-job message
        result = view.result
        body = {
            "status": "rejected",
            "errors": [i.as_json() for i in result.errors] if result else [],
        }
        return json_answer(request, body, status_code=422)
    return json_answer(request, raw, status_code=_import_status(raw))


@router.get("/reports/jobs/{job_id}", name="api_report_job")
def report_job(request: Request, user: ApiSubmitter, job_id: str) -> Response:
    """A queued workbook's state (202) or its result, for whoever sent it."""
    return _job_answer(request, job_id, user)


@router.post(
    "/reports/json",
    name="api_report_json",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReportIn"}}},
        }
    },
)
async def report_json(
    request: Request,
    user: ApiSubmitter,
    dry_run: Annotated[bool, Query(description="Check only: store nothing.")] = False,
) -> Response:
    """Import a quarterly report sent as JSON: the workbook's rules and error codes, with JSON pointers."""
    settings: Settings = request.app.state.settings
    lang = lang_of(request)
    raw = await request.body()
    if len(raw) > settings.max_upload_mb * 1024 * 1024:
        limit = f"{settings.max_upload_mb:g}"
        raise ApiError(413, "file_too_large", t(lang, "The document is larger than {limit} MB.", limit=limit))
    try:
        report = ReportIn.model_validate_json(raw)
    except ValidationError as exc:
        return json_answer(request, invalid_json(exc, lang).as_json(), status_code=422)
    actor = actor_of(request, user)

    def run() -> JsonImport:
        with transaction(request.app.state.sessionmaker) as session:
            return import_json_report(
                session=session,
                report=report,
                settings=settings,
                actor=actor,
                lang=lang,
                dry_run=dry_run,
                partner_ids=frozenset(user.visible_partner_ids) if user.is_partner else None,
            )

    body = (await run_in_threadpool(run)).as_json()
    return json_answer(request, body, status_code=_import_status(body))
