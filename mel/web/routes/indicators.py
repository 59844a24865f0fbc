"""The indicator page: reference sheet, chart against targets, disaggregation explorer, sources.

One route, two renderings each: the explorer and the sources list are htmx fragments of pages that
also stand alone without JavaScript.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from mel.auth.identity import CurrentUser
from mel.catalog.models import Indicator, Partner, Partnership
from mel.core import periods
from mel.core.i18n import t
from mel.reports.evidence import evidence_for
from mel.results.counting import Scope
from mel.results.disclosure import is_small, viewer_of
from mel.results.disclosure.indicator import disclose_breakdown, disclose_series
from mel.results.disclosure.values import hidden_values
from mel.results.indicator_page import EventMark, SeriesPoint, breakdown, context_events, series, sources
from mel.results.progress import baseline_measurements, timeline
from mel.results.stages import stage_view
from mel.results.store import stored
from mel.web.deps import AnyUser, SessionDep, SettingsDep, SharedPartnership
from mel.web.page_store import stored_page
from mel.web.render import is_htmx, render
from mel.web.routes.progress import common
from mel.web.sessions import csrf_router

router = csrf_router()


def indicator_or_404(partnership: Partnership, code: str) -> Indicator:
    found = next((i for i in partnership.indicators if i.code == code), None)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def partner_or_404(partnership: Partnership, user: CurrentUser, code: str | None) -> Partner | None:
    """The partner a filter names; another organization's partner is not found for partner users."""
    if not code:
        return None
    found = next((p for p in partnership.partners if p.code == code), None)
    if found is None or not viewer_of(user).sees_rows_of(found.id):
        raise HTTPException(status_code=404)
    return found


def _chart(
    points: list[SeriesPoint], events: list[EventMark], indicator: Indicator, names: dict[int, str], lang: str
) -> dict[str, Any]:
    labels = [p.period for p in points]
    datasets: list[dict[str, Any]] = []
    combined = indicator.unit == "count" or all(len(p.to_date.partners) <= 1 for p in points)
    to_date = t(lang, "Cumulative actual") if indicator.aggregation == "sum" else t(lang, "Actual")
    if combined:
        datasets.append({"label": to_date, "data": [p.to_date.value for p in points], "kind": "actual"})
    else:
        for pid in sorted({pid for p in points for pid in p.to_date.partners}):
            datasets.append(
                {
                    "label": names.get(pid, str(pid)),
                    "data": [p.to_date.partners.get(pid) for p in points],
                    "kind": "actual",
                }
            )
    datasets.append({"label": t(lang, "Target"), "data": [p.target for p in points], "kind": "target"})
    if indicator.aggregation == "sum":
        datasets.append(
            {
                "label": t(lang, "Reported in the quarter"),
                "data": [p.reported.value for p in points],
                "kind": "reported",
            }
        )
    marks = [
        {"index": labels.index(e.period), "title": e.title(lang), "n": n}
        for n, e in enumerate(events, start=1)
        if e.period in labels
    ]
    return {"labels": labels, "datasets": datasets, "events": marks, "percent": indicator.unit == "percent"}


@router.get("/p/{code}/indicators/{indicator}", response_class=HTMLResponse, name="indicator_page")
@stored_page
def indicator_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AnyUser,
    partnership: SharedPartnership,
    indicator: str,
    provisional: str | None = None,
    dimension: str | None = None,
    partner: str | None = None,
) -> HTMLResponse:
    ind = indicator_or_404(partnership, indicator)
    lang = request.state.lang
    viewer = viewer_of(user, provisional=provisional)
    include = viewer.provisional
    chosen_partner = partner_or_404(partnership, user, partner) if partner else None
    names = {p.id: p.name for p in partnership.partners}
    dim = next((d for d in ind.dimensions if d.code == dimension), ind.dimensions[0] if ind.dimensions else None)
    explorer_scope = Scope(include_provisional=include, partner_ids=[chosen_partner.id] if chosen_partner else None)
    context = common(partnership, user, lang) | {
        "ind": ind,
        "provisional": include,
        "dimension": dim,
        "chosen_partner": chosen_partner,
        "names": names,
        "codes": {p.id: p.code for p in partnership.partners},
        "partner_choices": [p for p in partnership.partners if p in ind.partners or not ind.partners],
    }

    def explore() -> Any:
        found = breakdown(session, partnership, ind, explorer_scope, dim) if dim else None
        disclose_breakdown(found, ind, viewer)
        return found

    chosen_id = chosen_partner.id if chosen_partner else None
    explorer_key = (ind.id, dim.code if dim else None, chosen_id)  # no language: rows carry both labels
    context["explorer"] = stored(session, partnership.id, "indicator.explorer", viewer, explorer_key, explore)
    context["explorer_chart"] = _explorer_chart(context["explorer"], names, ind, lang)
    if is_htmx(request):  # the explorer form is the page's one htmx control
        return render(request, "indicator.html", context, block="explorer")
    day, due_days = periods.today(), settings.report_due_days

    def chart() -> dict[str, Any]:
        scope = Scope(include_provisional=include)
        baseline = baseline_measurements(session, partnership.id).get(ind.id, ind.baseline_value)
        time = timeline(partnership, today=day, due_days=due_days)
        events = context_events(session, partnership.id)
        points = series(session, partnership, ind, scope, time, baseline=baseline, events=events)
        disclose_series(points, ind, viewer)
        baseline_hidden = viewer.hides(ind.sensitive) and is_small(baseline)
        return {
            "baseline": None if baseline_hidden else baseline,
            "baseline_hidden": baseline_hidden,
            "points": points,
            "events": events,
        }

    # the figures hold no language (both languages share them); the chart's labels are applied here
    context |= stored(session, partnership.id, "indicator.chart", viewer, (ind.id, day, due_days), chart)
    context["chart"] = _chart(context["points"], context["events"], ind, names, lang)
    context |= {
        "stages": stage_view(session, partnership, ind, viewer) if ind.unit == "stage" else None,
    }
    return render(request, "indicator.html", context)


def _explorer_chart(explorer: Any, names: dict[int, str], indicator: Indicator, lang: str) -> dict[str, Any]:
    if explorer is None:
        return {}
    labels = [r.label(lang) for r in explorer.rows]
    if indicator.unit == "count" or len(explorer.partner_ids) <= 1:
        datasets = [{"label": indicator.code, "data": [r.total.value for r in explorer.rows]}]
    else:
        datasets = [
            {"label": names.get(pid, str(pid)), "data": [r.total.partners.get(pid) for r in explorer.rows]}
            for pid in explorer.partner_ids
        ]
    return {"type": "bar", "labels": labels, "datasets": datasets}


@router.get("/p/{code}/indicators/{indicator}/sources", response_class=HTMLResponse, name="indicator_sources")
def sources_page(
    request: Request,
    session: SessionDep,
    user: AnyUser,
    partnership: SharedPartnership,
    indicator: str,
    period: str | None = None,
    partner: str | None = None,
    combo: str = "",
    provisional: str | None = None,
) -> HTMLResponse:
    """The stored values behind one number; partner users see only their own organization's."""
    ind = indicator_or_404(partnership, indicator)
    chosen = partner_or_404(partnership, user, partner)  # one the viewer may see, or none
    viewer = viewer_of(user, provisional=provisional)
    visible = {chosen.id} if chosen is not None else viewer.partner_ids
    scope = viewer.scope(partner_ids=visible)
    rows = sources(session, ind, scope, period=period or None, combo=combo, latest_only=ind.aggregation == "latest")
    hide = hidden_values(session, partnership, viewer, scope, indicator_ids=[ind.id])
    for r in rows:
        r.hidden = hide.get((ind.id, r.partner_id, r.period, r.combination_id))
        if r.hidden:
            r.value = None
    context = common(partnership, user, request.state.lang) | {
        "ind": ind,
        "rows": rows,
        "period": period or "",
        "combo": combo,
        "chosen_partner": chosen,
        "limited": viewer.partner_ids is not None,
        "evidence": evidence_for(session, ind.id, {(r.partner_id, r.period) for r in rows}),
    }
    return render(request, "sources.html", context, block="sources")
