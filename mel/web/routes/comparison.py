"""The evaluators' baseline-versus-endline page and the sources behind each of its numbers.

Staff see raw values; evaluators see small cells of sensitive indicators suppressed, as exports
do. Partners have no use for the page (their own figures are on the progress pages).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from mel.catalog.models import LEVELS, PILLARS
from mel.results.comparison import comparison
from mel.results.comparison_chart import WIDTH, dumbbells
from mel.results.comparison_sources import combination_of, comparison_sources_of
from mel.results.disclosure import SMALL, is_small, viewer_of
from mel.results.disclosure.comparison import disclose_comparison
from mel.results.disclosure.values import hidden_values
from mel.web.deps import EvaluatorOrStaff, SessionDep, SharedPartnership
from mel.web.page_store import stored_page
from mel.web.render import render
from mel.web.routes.progress import common
from mel.web.sessions import csrf_router

router = csrf_router()


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/p/{code}/comparison", response_class=HTMLResponse, name="comparison")
@stored_page
def comparison_page(
    request: Request,
    session: SessionDep,
    user: EvaluatorOrStaff,
    partnership: SharedPartnership,
    pillar: str | None = None,
    level: str | None = None,
    dimension: str | None = None,
    provisional: str | None = None,
) -> HTMLResponse:
    chosen_pillar = pillar if pillar in (*PILLARS, "-") else None
    chosen_level = level if level in LEVELS else None
    dimensions = sorted(partnership.dimensions, key=lambda d: d.position)
    chosen_dim = next((d.code for d in dimensions if d.code == _blank(dimension)), None)
    viewer = viewer_of(user, provisional=provisional)
    include = viewer.provisional
    found = comparison(
        session, partnership, scope=viewer.scope(), dimension=chosen_dim, pillar=chosen_pillar, level=chosen_level
    )
    rows = disclose_comparison(found, viewer)
    params = {
        "pillar": chosen_pillar or "",
        "level": chosen_level or "",
        "dimension": chosen_dim or "",
        "provisional": "1" if include else "",
    }
    download = {k: v for k, v in params.items() if v}
    bells, height = dumbbells(rows)
    context: dict[str, Any] = common(partnership, user, request.state.lang) | {
        "rows": rows,
        "params": params,
        "query": urlencode(download),
        "pillars": PILLARS,
        "levels": LEVELS,
        "dimensions": dimensions,
        "suppressing": viewer.suppress,
        "bells": bells,
        "chart_width": WIDTH,
        "chart_height": height,
    }
    return render(request, "comparison.html", context, block="results")


@router.get("/p/{code}/comparison/sources/{indicator}", response_class=HTMLResponse, name="comparison_sources")
def comparison_sources(
    request: Request,
    session: SessionDep,
    user: EvaluatorOrStaff,
    partnership: SharedPartnership,
    indicator: str,
    dimension: str | None = None,
    category: str | None = None,
    provisional: str | None = None,
) -> HTMLResponse:
    """Every measurement of the indicator (and category) with its workbook cell and batch, and the
    reported values that make a reported endline, with their report version, sheet and cell."""
    ind = next((i for r in partnership.results for i in r.indicators if i.code == indicator), None)
    if ind is None:
        raise HTTPException(status_code=404)
    combo = combination_of(session, partnership, _blank(dimension), _blank(category))
    viewer = viewer_of(user, provisional=provisional)
    include = viewer.provisional
    measurements, values = comparison_sources_of(session, ind.id, combo, viewer.scope())
    hide = hidden_values(session, partnership, viewer, viewer.scope(), indicator_ids=[ind.id])
    small = SMALL if viewer.hides(ind.sensitive) else None
    context = common(partnership, user, request.state.lang) | {
        "ind": ind,
        "dimension": _blank(dimension),
        "category": _blank(category),
        "measurements": [(r, small if is_small(r.value) else None) for r in measurements],
        "values": [(v, hide.get((ind.id, v.partner_id, v.period, combo or 0))) for v in values],
        "provisional": include,
    }
    return render(request, "comparison_sources.html", context, block="sources")
