"""The target history page of a partnership, and an officer's revision of one target."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mel.catalog.targets import TargetChangeRefused, revise_target, target_of
from mel.core.db import transaction
from mel.core.i18n import t
from mel.results.disclosure import viewer_of
from mel.results.target_history import target_history
from mel.web.deps import AnyUser, PartnershipDep, SessionDep, SharedPartnership, StaffUser
from mel.web.page_store import stored_page
from mel.web.render import render
from mel.web.routes.progress import common
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()


def _refusal(code: str, lang: str) -> str:
    if code == "reason_required":
        return t(lang, "A revised target needs the reason of the change.")
    if code == "bad_quarter":
        return t(lang, "Write the quarter the revision applies from, as 2020Q2.")
    return t(lang, "A target is a number of zero or more.")


@router.get("/p/{code}/targets", response_class=HTMLResponse, name="target_history")
@stored_page
def target_history_page(
    request: Request, session: SessionDep, user: AnyUser, partnership: SharedPartnership, revised: str | None = None
) -> HTMLResponse:
    """Every original and revised target; partners read only their partnership and their own targets."""
    lang: str = request.state.lang
    viewer = viewer_of(user)
    rows = target_history(session, partnership, viewer, revised_only=bool(revised))
    context = {
        **common(partnership, user, lang),
        "rows": rows,
        "revised_only": bool(revised),
        "error": request.query_params.get("error"),
    }
    return render(request, "targets.html", context)


@router.post("/p/{code}/targets/revise", name="target_revise")
def target_revise(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    partnership: PartnershipDep,
    target_id: Annotated[int, Form(alias="target")],
    value: Annotated[str, Form()],
    effective: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    approved_by: Annotated[str, Form()] = "",
    decided_on: Annotated[str, Form()] = "",
) -> Response:
    """An officer revises one target of this partnership, in force from a quarter; audited."""
    lang: str = request.state.lang
    if target_of(session, target_id, partnership.id) is None:
        raise HTTPException(status_code=404)
    try:
        number = float(value.replace(",", ""))
        day = dt.date.fromisoformat(decided_on) if decided_on.strip() else None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=t(lang, "Write the target as a number.")) from exc
    try:
        with transaction(request.app.state.sessionmaker) as tx:
            target = target_of(tx, target_id, partnership.id)
            assert target is not None
            revise_target(
                tx,
                target=target,
                value=number,
                effective=effective.strip().upper(),
                reason=reason,
                approved_by=approved_by.strip() or None,
                decided_on=day,
                actor=actor_of(request, user),
            )
    except TargetChangeRefused as exc:
        raise HTTPException(status_code=422, detail=_refusal(exc.code, lang)) from exc
    return RedirectResponse(request.url_for("target_history", code=partnership.code), status_code=303)
