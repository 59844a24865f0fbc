"""Progress pages of a partnership: the dashboard, the theory of change and the context events.

Thin routes: they parse the request, decide what the viewer may see (partner users: approved
figures only) and call the query modules of ``mel.results``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.catalog.models import PILLARS, Partnership
from mel.core import periods
from mel.core.i18n import t
from mel.quality.integrity import integrity_issues
from mel.results.context import ContextEventError, record_context_event
from mel.results.counting import Scope
from mel.results.disclosure import viewer_of
from mel.results.disclosure.progress import disclose_progress
from mel.results.indicator_page import context_events
from mel.results.progress import (
    BEHIND,
    ON_TRACK,
    Progress,
    dashboard,
    indicator_progress,
    on_track_share,
    partner_codes,
    worst,
)
from mel.results.store import stored
from mel.results.toc import layout
from mel.web.deps import AnyUser, PartnershipDep, SessionDep, SettingsDep, SharedPartnership, StaffUser
from mel.web.page_store import stored_page
from mel.web.render import render
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()


def region_labels(partnership: Partnership, lang: str) -> dict[str, str]:
    """Region codes (as events store them) to the names of the partnership's ``region`` categories."""
    return {c.code: c.label(lang) for d in partnership.dimensions if d.code == "region" for c in d.categories}


def partnership_name(partnership: Partnership, lang: str) -> str:
    return partnership.label(lang)


def common(partnership: Partnership, user: CurrentUser, lang: str) -> dict[str, Any]:
    return {
        "partnership": partnership,
        "partnership_name": partnership_name(partnership, lang),
        "partner_user": user.is_partner,
        "on_track_pct": int(ON_TRACK * 100),
        "behind_pct": int(BEHIND * 100),
    }


@router.get("/p/{code}", response_class=HTMLResponse, name="partnership_dashboard")
@stored_page
def dashboard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AnyUser,
    partnership: SharedPartnership,
    provisional: str | None = None,
) -> HTMLResponse:
    viewer = viewer_of(user, provisional=provisional)
    include = viewer.provisional
    day, due_days = periods.today(), settings.report_due_days

    def compute() -> dict[int, Progress]:
        lines = indicator_progress(session, partnership, viewer.scope(), today=day, due_days=due_days)
        disclose_progress(lines.values(), viewer)
        return lines

    progress = stored(session, partnership.id, "dashboard", viewer, (day, due_days), compute)  # per viewer: disclosed
    impacts, groups = dashboard(progress, partnership)
    on_track, judged = on_track_share(progress)
    context = common(partnership, user, request.state.lang) | {
        "impacts": impacts,
        "groups": groups,
        "provisional": include,
        "partners": partner_codes(partnership),
        "on_track": on_track,
        "judged": judged,
    }
    return render(request, "dashboard.html", context, block="results")


@router.get("/p/{code}/theory-of-change", response_class=HTMLResponse, name="theory_of_change")
@stored_page
def theory_of_change_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: AnyUser, partnership: SharedPartnership
) -> HTMLResponse:
    lang = request.state.lang
    day, due_days = periods.today(), settings.report_due_days

    def compute() -> dict[int, str]:
        progress = indicator_progress(session, partnership, Scope(), today=day, due_days=due_days)
        return {
            r.id: (
                worst([progress[i.id].status for i in r.indicators if i.id in progress])
                if r.indicators
                else "no_indicator"
            )
            for r in partnership.results
        }

    statuses = stored(session, partnership.id, "toc.statuses", None, (day, due_days), compute)  # statuses: no figure
    diagram = layout(list(partnership.results), statuses, lang=lang)
    context = common(partnership, user, lang) | {
        "diagram": diagram,
        "warnings": integrity_issues(session, partnership.id),
    }
    return render(request, "theory_of_change.html", context)


@router.get("/p/{code}/context", response_class=HTMLResponse, name="context_events")
def context_page(
    request: Request, session: SessionDep, user: StaffUser, partnership: SharedPartnership
) -> HTMLResponse:
    return _context_page(request, session, partnership, user)


def _context_page(
    request: Request,
    session: Session,
    partnership: Partnership,
    user: CurrentUser,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = common(partnership, user, request.state.lang) | {
        "events": context_events(session, partnership.id),
        "region_labels": region_labels(partnership, request.state.lang),
        "pillars": PILLARS,
        "error": error,
        "form": form or {},
    }
    return render(request, "context.html", context, status_code=status_code)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


@router.post("/p/{code}/context", response_model=None, name="context_event_add")
def context_add(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    code: str,
    partnership: PartnershipDep,
    title: Annotated[str, Form()] = "",
    starts_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
    regions: Annotated[str, Form()] = "",
    pillars: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    lang = request.state.lang
    form = {"title": title, "starts_on": starts_on, "ends_on": ends_on, "regions": regions, "description": description}
    start, end = _date(starts_on), _date(ends_on)
    if start is None or (ends_on.strip() and end is None):
        return _context_page(
            request, session, partnership, user, error=t(lang, "Enter dates as YYYY-MM-DD."), form=form, status_code=422
        )
    try:
        record_context_event(
            session=session,
            partnership=partnership,
            title=title,
            starts_on=start,
            ends_on=end,
            regions=regions.split(","),
            pillars=list(pillars or []),
            description=description,
            actor=actor_of(request, user),
        )
        session.commit()
    except ContextEventError as exc:
        session.rollback()
        return _context_page(request, session, partnership, user, error=t(lang, str(exc)), form=form, status_code=422)
    return RedirectResponse(request.url_for("context_events", code=code), status_code=303)
