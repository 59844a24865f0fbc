"""Recording the day a report was received (staff only; CSRF-checked like every POST; audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from mel.core.db import transaction
from mel.reports.received import ReceivedRefused, set_received_on
from mel.web.deps import StaffUser
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()


@router.post("/submissions/{submission_id}/received", name="submission_received")
def submission_received(
    request: Request, user: StaffUser, submission_id: int, received_on: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """An officer records when a report arrived by e-mail or on paper; partners cannot (403)."""
    try:
        day = dt.date.fromisoformat(received_on) if received_on.strip() else None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="Write the date as YYYY-MM-DD.") from exc
    try:
        with transaction(request.app.state.sessionmaker) as session:
            set_received_on(session, submission_id=submission_id, received_on=day, actor=actor_of(request, user))
    except ReceivedRefused as exc:
        if exc.code == "not_found":
            raise HTTPException(status_code=404) from exc
        detail = {
            "after_upload": "A report cannot have been received after it was uploaded.",
            "before_quarter": "A report cannot have been received before its quarter began.",
        }[exc.code]
        raise HTTPException(status_code=422, detail=detail) from exc
    return RedirectResponse(request.url_for("submission_page", submission_id=submission_id), status_code=303)
