"""Queries on values and evidence files: ask, answer, close, attach, download.

Every route checks that the user sees the submission's partner (404 otherwise, as for the
submission page), then the service decides what this user may do at this review level.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from mel.auth.identity import CurrentUser
from mel.core.db import transaction
from mel.core.i18n import t
from mel.reports import evidence as ev
from mel.reports import queries_values as qv
from mel.reports.files import content_disposition
from mel.reports.models import Value
from mel.reports.review import ReviewError
from mel.reports.review_models import ValueQuery
from mel.web.deps import PartnerOrStaff, SessionDep, SettingsDep
from mel.web.render import render
from mel.web.routes.submissions import _header, _read_limited, _submission_context
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()


def followup_message(code: str, lang: str, detail: str = "") -> str:
    """What to tell the user when a query or an evidence file is refused, in their language."""
    messages = {
        "question_required": t(lang, "Write the question about this value."),
        "answer_required": t(lang, "Write your answer."),
        "resolved": t(lang, "This query is already resolved."),
        "not_allowed": t(lang, "You may not do this on this report."),
        "not_reviewable": t(lang, "Ask about the values of the current version."),
        "file_too_large": t(lang, "The file is too large."),
        "type_not_accepted": t(
            lang, "Evidence must be a PDF, an image (PNG, JPEG, WebP), a spreadsheet (XLSX, CSV) or a document (DOCX)."
        ),
        "personal_data": t(
            lang,
            "The file lists persons' personal data ({headers}): it was not kept. Attach a document without "
            "names, ID numbers, phones or addresses, or the counts only.",
            headers=detail,
        ),
        "unreadable": t(lang, "The spreadsheet cannot be read to check it for personal data: save it again as .xlsx."),
    }
    return messages.get(code, t(lang, "Choose a value from the list."))


def _refused(
    request: Request, session: SessionDep, user: CurrentUser, submission_id: int, exc: ReviewError
) -> Response:
    header = _header(session, user, submission_id)
    context = _submission_context(session, user, header)
    context["followup_error"] = followup_message(exc.code, request.state.lang, str(exc))
    status = 403 if exc.code == "not_allowed" else 422
    return render(request, "reports/submission.html", context, status_code=status)


def _back(request: Request, submission_id: int, anchor: str) -> RedirectResponse:
    url = str(request.url_for("submission_page", submission_id=submission_id)) + anchor
    return RedirectResponse(url, status_code=303)


@router.post("/submissions/{submission_id}/queries", name="query_ask")
def query_ask(
    request: Request,
    session: SessionDep,
    user: PartnerOrStaff,
    submission_id: int,
    value_id: Annotated[int, Form()],
    question: Annotated[str, Form()] = "",
) -> Response:
    """Attach a question to one value of this version (staff, or the sub-recipient's prime)."""
    _header(session, user, submission_id)
    value = session.get(Value, value_id)
    if value is None or value.submission_id != submission_id:
        raise HTTPException(status_code=404)
    try:
        with transaction(request.app.state.sessionmaker) as tx:
            qv.ask_query(session=tx, value_id=value_id, question=question, actor=actor_of(request, user))
    except ReviewError as exc:
        return _refused(request, session, user, submission_id, exc)
    return _back(request, submission_id, "#queries")


def _query_submission(session: SessionDep, user: CurrentUser, query_id: int) -> int:
    """The submission page a query belongs to, or 404 when this user may not see its partner."""
    query = session.get(ValueQuery, query_id)
    if query is None or not user.sees_partner(query.partner_id):
        raise HTTPException(status_code=404)
    return query.submission_id


@router.post("/queries/{query_id}/reply", name="query_reply")
def query_reply(
    request: Request, session: SessionDep, user: PartnerOrStaff, query_id: int, body: Annotated[str, Form()] = ""
) -> Response:
    """An answer (the partner) or a follow-up (a reviewer) in a query's thread."""
    submission_id = _query_submission(session, user, query_id)
    try:
        with transaction(request.app.state.sessionmaker) as tx:
            qv.reply(session=tx, query_id=query_id, body=body, actor=actor_of(request, user))
    except ReviewError as exc:
        return _refused(request, session, user, submission_id, exc)
    return _back(request, submission_id, f"#query-{query_id}")


@router.post("/queries/{query_id}/resolve", name="query_resolve")
def query_resolve(request: Request, session: SessionDep, user: PartnerOrStaff, query_id: int) -> Response:
    """A reviewer closes a query."""
    submission_id = _query_submission(session, user, query_id)
    try:
        with transaction(request.app.state.sessionmaker) as tx:
            qv.resolve(session=tx, query_id=query_id, actor=actor_of(request, user))
    except ReviewError as exc:
        return _refused(request, session, user, submission_id, exc)
    return _back(request, submission_id, f"#query-{query_id}")


@router.post("/submissions/{submission_id}/evidence", name="evidence_attach")
async def evidence_attach(
    request: Request,
    settings: SettingsDep,
    user: PartnerOrStaff,
    submission_id: int,
    file: UploadFile,
    value_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    """Attach a means of verification to this report or one of its values."""
    limit = int(settings.max_upload_mb * 1024 * 1024)
    data = await _read_limited(file, limit)
    factory = request.app.state.sessionmaker
    with factory() as session:
        _header(session, user, submission_id)
    try:
        if data is None:
            raise ReviewError("file_too_large", "")
        with transaction(factory) as tx:
            ev.attach(
                session=tx,
                upload_dir=settings.upload_dir,
                max_bytes=limit,
                submission_id=submission_id,
                value_id=int(value_id) if value_id.strip().isdigit() else None,
                data=data,
                filename=file.filename or "evidence",
                description=description,
                actor=actor_of(request, user),
            )
    except ReviewError as exc:
        with factory() as session:
            return _refused(request, session, user, submission_id, exc)
    return _back(request, submission_id, "#evidence")


@router.get("/evidence/{evidence_id}", name="evidence_download")
def evidence_download(
    session: SessionDep, settings: SettingsDep, user: PartnerOrStaff, evidence_id: int
) -> FileResponse:
    """An evidence file, as an attachment: staff any, partners their own; evaluators see the index only."""
    row = ev.evidence_file(session, evidence_id)
    if row is None or not user.sees_partner(row.partner_id):
        raise HTTPException(status_code=404)
    path = ev.evidence_path(settings.upload_dir, row.sha256)
    if not path.is_file():
        raise HTTPException(status_code=404)
    headers = {
        "Content-Disposition": content_disposition(row.original_name, ext=ev.EXTENSIONS[row.media_type]),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    return FileResponse(path, media_type=row.media_type, headers=headers)
