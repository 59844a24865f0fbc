"""The portfolio: every partnership with its partners, results framework, progress and late reports."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from mel.core import periods
from mel.results.disclosure import partnership_visible, viewer_of
from mel.results.portfolio import portfolio_summary
from mel.web.deps import AnyUser, SessionDep, SettingsDep
from mel.web.page_store import stored_page
from mel.web.render import render
from mel.web.sessions import csrf_router

router = csrf_router()


@router.get("/", response_class=HTMLResponse, name="portfolio")
@stored_page
def portfolio_page(request: Request, session: SessionDep, settings: SettingsDep, user: AnyUser) -> HTMLResponse:
    summaries = [
        s
        for s in portfolio_summary(session, today=periods.today(), due_days=settings.report_due_days)
        if partnership_visible(session, user, s.view.partnership)
    ]
    viewer = viewer_of(user)
    for summary in summaries:  # partners see their own organization's reporting record only
        summary.late = [r for r in summary.late if viewer.sees_rows_of(r.partner.id)]
    return render(
        request,
        "portfolio.html",
        {"partnerships": [s.view for s in summaries], "summaries": summaries, "partner_user": user.is_partner},
    )
