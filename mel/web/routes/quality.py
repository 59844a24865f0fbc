"""The data-quality page of a partnership: reporting grid, completeness, flags, warnings, reminders.

One route, two renderings (the whole page, or the results block when the htmx filter form asks);
officers explain import warnings with a POST that answers with the warnings block under htmx.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.catalog.queries import partner_ids_of, partnerships_by_start
from mel.core import periods
from mel.quality.completeness import expected_reporters, reporting_grid
from mel.quality.consistency import series_flags
from mel.quality.integrity import integrity_issues
from mel.quality.reminders import due_reports
from mel.quality.training_consistency import training_consistency
from mel.quality.warning_review import WarningNotFound, explain_warning, import_warnings
from mel.reports.queries_values import open_total
from mel.results.counting import Scope
from mel.results.disclosure import Viewer, viewer_of
from mel.results.store import stored
from mel.web.deps import EvaluatorOrStaff, PartnershipDep, SessionDep, SettingsDep, StaffUser, visible_partnership
from mel.web.page_store import stored_page
from mel.web.render import is_htmx, render
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()


@router.get("/quality", name="quality_home")
def quality_home(
    request: Request, session: SessionDep, user: EvaluatorOrStaff, partnership: str | None = None
) -> RedirectResponse:
    """The nav link: the data quality of the chosen (else the first) partnership."""
    code = partnership or min((p.code for p in partnerships_by_start(session)), default=None)
    if code is None:
        return RedirectResponse(request.url_for("portfolio"), status_code=303)
    return RedirectResponse(request.url_for("quality", code=code), status_code=303)


@router.get("/p/{code}/quality", response_class=HTMLResponse, name="quality")
@stored_page
def quality_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: EvaluatorOrStaff,
    code: str,
    chosen: Annotated[str | None, Query(alias="partnership")] = None,
    partner: str | None = None,
) -> HTMLResponse:
    if chosen and chosen != code:  # the filter form changed partnership: show that one
        code, partner = chosen, None
    found = visible_partnership(session, user, code, shared=True)  # read only: the stored graph itself
    context = _context(session, settings, found, partner, viewer_of(user))
    response = render(request, "quality.html", context, block="results")
    if is_htmx(request):
        query = f"?partner={partner}" if partner else ""
        response.headers["HX-Push-Url"] = str(request.url_for("quality", code=found.code)) + query
    return response


def _context(
    session: Session, settings: Any, partnership: Partnership, partner: str | None, viewer: Viewer
) -> dict[str, Any]:
    """Evaluators read approved reports only, and no number of a sensitive indicator in a warning.

    The checks hold no language (the page applies the reader's): one stored answer serves both."""
    today = periods.today()
    partner_ids = partner_ids_of(session, partnership.id, partner)
    due_days, k, min_history = settings.report_due_days, settings.outlier_mad_k, settings.outlier_min_history
    key = (None if partner_ids is None else tuple(partner_ids), today, due_days, k, min_history)
    return {
        "partnership": partnership,
        "partnerships": partnerships_by_start(session),
    } | stored(  # the partnership's checks as this viewer may read them, kept per data version
        session,
        partnership.id,
        "quality",
        viewer,
        key,
        lambda: _checks(session, partnership, partner, partner_ids, viewer, today, due_days, k, min_history),
    )


def _checks(
    session: Session,
    partnership: Partnership,
    partner: str | None,
    partner_ids: list[int] | None,
    viewer: Viewer,
    today: dt.date,
    due_days: int,
    k: float,
    min_history: int,
) -> dict[str, Any]:
    grid = reporting_grid(session, partnership, today=today, due_days=due_days, partner_ids=partner_ids)
    return {
        "partners": expected_reporters(session, partnership.id),
        "selected_partner": partner if partner_ids else "",
        "today": today,
        "due_days": due_days,
        "grid": grid,
        "reminders": due_reports(session, partnership, today=today, due_days=due_days, partner_ids=partner_ids),
        "training_flags": training_consistency(
            session,
            partnership_id=partnership.id,
            scope=Scope(include_provisional=viewer.staff, partner_ids=partner_ids),
            mismatches_only=True,
        ),
        "series_flags": series_flags(
            session,
            partnership_id=partnership.id,
            partner_ids=partner_ids,
            k=k,
            min_history=min_history,
            include_provisional=viewer.staff,
            hide_sensitive=viewer.suppress,
        ),
        "warnings": import_warnings(
            session,
            partnership_id=partnership.id,
            partner_ids=partner_ids,
            approved_only=not viewer.staff,
            hide_sensitive=viewer.suppress,
        ),
        "sensitive_withheld": viewer.suppress,
        "integrity": integrity_issues(session, partnership.id),
        "open_queries": open_total(session, partnership.id, partner_ids),
    }


@router.post("/p/{code}/quality/warnings/{warning_id}/explain", name="explain_warning")
def explain(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    partnership: PartnershipDep,
    warning_id: int,
    explanation: Annotated[str, Form()] = "",
    partner: Annotated[str, Form()] = "",
) -> Response:
    error = None
    try:
        explain_warning(
            session=session,
            warning_id=warning_id,
            partnership_id=partnership.id,
            explanation=explanation,
            user_id=user.id,
            actor=actor_of(request, user),
        )
        session.commit()
    except WarningNotFound as exc:
        raise HTTPException(status_code=404) from exc
    except ValueError:
        session.rollback()
        error = warning_id
    if not is_htmx(request):
        if error is not None:
            raise HTTPException(status_code=422, detail="An explanation is required.")
        target = request.url_for("quality", code=partnership.code)
        return RedirectResponse(f"{target}?partner={partner}" if partner else str(target), status_code=303)
    partner_ids = partner_ids_of(session, partnership.id, partner or None)
    context = {
        "partnership": partnership,
        "selected_partner": partner if partner_ids else "",
        "warnings": import_warnings(session, partnership_id=partnership.id, partner_ids=partner_ids),
        "explain_error": error,
    }
    return render(request, "quality.html", context, block="warnings", status_code=422 if error else 200)
