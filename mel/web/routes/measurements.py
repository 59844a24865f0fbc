"""Evaluators' (and staff's) measurement workbooks on the web: baselines, midlines and endlines.

The same durable import queue as quarterly reports; a measurement workbook counts at once, without
review, so only evaluators, officers and admins may send one (a partner's is ``not_allowed``, and an
evaluator's quarterly report too).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mel.auth.identity import CurrentUser
from mel.catalog.queries import partnerships_by_start
from mel.web.deps import SessionDep, SettingsDep
from mel.web.policy import Allow
from mel.web.render import render
from mel.web.routes.submissions import queue_upload
from mel.web.sessions import csrf_router

router = csrf_router()
Measurer = Annotated[CurrentUser, Depends(Allow("evaluator", "admin", "officer"))]


@router.get("/measurements", response_class=HTMLResponse, name="measurements_home")
def measurements_page(request: Request, session: SessionDep, settings: SettingsDep, user: Measurer) -> HTMLResponse:
    """Upload a measurement workbook (a Measurements sheet, no Cover: REPORT-FORMAT.md)."""
    partnerships = partnerships_by_start(session)
    context = {"max_mb": f"{settings.max_upload_mb:g}", "partnerships": partnerships}
    return render(request, "reports/measurements.html", context)


@router.post("/measurements/upload", name="measurements_upload")
async def measurements_upload(
    request: Request,
    settings: SettingsDep,
    user: Measurer,
    file: UploadFile,
    partnership: Annotated[str, Form()] = "",
) -> Response:
    """Queue the workbook's import; show its result, or its progress while it runs.

    The partnership applies to rows without a Partnership column, as ``mel import --partnership``.
    """
    chosen = partnership.strip() or None
    return await queue_upload(
        request, settings, user, file, partner_code=None, period=None, reason=None, partnership_code=chosen
    )
