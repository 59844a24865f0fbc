"""The officer's follow-up form beside a training event: staff only, one service call, back to the event."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from mel.core.i18n import t
from mel.reports.training_followup import MESSAGES, FollowUpCounts, FollowUpRefused, enter_followup
from mel.web.deps import PartnershipDep, SessionDep, StaffUser
from mel.web.render import render
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else None


@router.post("/p/{code}/trainings/events/{event_id}/followup", response_model=None, name="training_followup_add")
def training_followup_add(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    code: str,
    partnership: PartnershipDep,
    event_id: int,
    months: Annotated[str, Form()] = "",
    reached: Annotated[str, Form()] = "",
    in_post: Annotated[str, Form()] = "",
    applying: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Store the follow-up of ``event_id`` and return to the trainings page at that event."""
    lang: str = request.state.lang
    numbers = [_whole(v) for v in (months, reached, in_post, applying)]
    try:
        if any(n is None for n in numbers):
            raise FollowUpRefused(
                "negative" if any(v.strip() for v in (months, reached, in_post, applying)) else "months"
            )
        counts = FollowUpCounts(*(int(n or 0) for n in numbers))
        enter_followup(
            session, partnership_id=partnership.id, event_id=event_id, counts=counts, actor=actor_of(request, user)
        )
        session.commit()
    except FollowUpRefused as exc:
        session.rollback()
        context = {
            "partnership": partnership,
            "message": t(lang, MESSAGES[exc.code]),
            "back": _back(request, code, back),
        }
        status = 404 if exc.code == "unknown_event" else 422
        return render(request, "training_followup_refused.html", context, status_code=status)
    return RedirectResponse(f"{_back(request, code, back)}#event-{event_id}", status_code=303)


def _back(request: Request, code: str, query: str) -> str:
    """The trainings page with the filters the officer had (only its own known parameters)."""
    keep = ("partner", "pillar", "from", "to", "provisional", "rows", "cols", "page")
    pairs = [p.split("=", 1) for p in query.split("&") if "=" in p]
    params = {k: v for k, v in pairs if k in keep and v and len(v) <= 40 and v.replace("-", "").isalnum()}
    url = str(request.url_for("trainings", code=code).path)
    return f"{url}?{urlencode(params)}" if params else url
