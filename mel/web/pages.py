"""The portfolio: every partnership with its partners, results framework, progress and late reports."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mel.deps import AnyUser, SessionDep, SettingsDep
from mel.results.portfolio import portfolio_summary
from mel.web.render import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, name="portfolio")
def portfolio_page(request: Request, session: SessionDep, settings: SettingsDep, user: AnyUser) -> HTMLResponse:
    summaries = portfolio_summary(session, today=dt.date.today(), due_days=settings.report_due_days)
    if user.is_partner:  # partners see their own organization's reporting record only
        for summary in summaries:
            summary.late = [r for r in summary.late if user.sees_partner(r.partner.id)]
    return render(
        request,
        "portfolio.html",
        {"partnerships": [s.view for s in summaries], "summaries": summaries, "partner_user": user.is_partner},
    )
