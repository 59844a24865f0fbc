"""The trainings page of a partnership: parse the filters, call ``mel.results.training_*``, render.

One route, three renderings: the whole page, the results block when the htmx filter form asks,
and only the events list when a pagination link asks (``HX-Target: training-events``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from mel.catalog.models import PILLARS
from mel.core.periods import quarter_of, quarters
from mel.quality.training_consistency import training_consistency
from mel.results.counting import Scope
from mel.results.disclosure import partnership_visible, viewer_of, visible_partners
from mel.results.followup import followup_rates, followups_of_events, rates_by_training_year
from mel.results.participants import new_and_repeat
from mel.results.store import partnership_graph, stored
from mel.results.training_event_list import training_events
from mel.results.training_filters import make_training_filter
from mel.results.training_groups import ATTRIBUTE_DIMENSIONS, DIMENSIONS, SPLIT_DIMENSIONS, dimension_label
from mel.results.training_overview import busiest_training_partnership, training_overview
from mel.results.training_tables import tables_and_gain
from mel.web.deps import AnyUser, SessionDep, SharedPartnership
from mel.web.page_store import stored_page
from mel.web.render import render
from mel.web.routes.indicators import partner_or_404
from mel.web.sessions import csrf_router

router = csrf_router()

EVENTS_TARGET = "training-events"
NEW_REPEAT_BY = ("institution", "region")
ONE_WAY = ("sex", "age", "institution", "region", "pillar", "modality")


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/trainings", name="trainings_home")
def trainings_home(request: Request, session: SessionDep, user: AnyUser) -> RedirectResponse:
    """The nav link: the partnership the user was just reading (the page the link was clicked on),
    else a partner user's own, else the partnership with the most training events: never an empty one."""
    code = current_partnership(request, session, user)
    if code is None:
        code = busiest_training_partnership(session, user.partner_id if user.is_partner else None)
    if code is None:
        return RedirectResponse(request.url_for("portfolio"), status_code=303)
    return RedirectResponse(request.url_for("trainings", code=code), status_code=303)


def current_partnership(request: Request, session: SessionDep, user: AnyUser) -> str | None:
    """The partnership of the page the user came from (``/p/CODE/...`` in the Referer), if they may see it."""
    referer = urlsplit(request.headers.get("referer") or "")
    if referer.netloc and referer.netloc != request.url.netloc:
        return None
    parts = referer.path.split("/")
    if len(parts) < 3 or parts[1] != "p" or not parts[2]:
        return None
    partnership = partnership_graph(session, parts[2])  # its code only: no copy into the session
    return partnership.code if partnership is not None and partnership_visible(session, user, partnership) else None


@router.get("/p/{code}/trainings", response_class=HTMLResponse, name="trainings")
@stored_page
def trainings_page(
    request: Request,
    session: SessionDep,
    user: AnyUser,
    partnership: SharedPartnership,
    partner: str | None = None,
    pillar: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    provisional: str | None = None,
    rows: str = "institution",
    cols: str = "sex",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    lang: str = request.state.lang
    viewer = viewer_of(user, provisional=provisional)
    own_partners = viewer.partner_ids
    chosen = partner_or_404(partnership, user, _blank(partner))  # a partner user filters on its own organization only
    filt = make_training_filter(
        session,
        partnership_id=partnership.id,
        partner=chosen.code if chosen else None,
        pillar=_blank(pillar),
        first_period=_blank(first),
        last_period=_blank(last),
        include_provisional=viewer.provisional,
    )
    # submissions themselves (the events list, the per-report comparison) only of the user's partner
    own = filt if own_partners is None else replace(filt, scope=_restrict(filt.scope, own_partners))
    rows_dim = rows if rows in DIMENSIONS else "institution"
    cols_dim = cols if cols in DIMENSIONS else "sex"
    if rows_dim == cols_dim or (rows_dim in SPLIT_DIMENSIONS and cols_dim in SPLIT_DIMENSIONS):
        cols_dim = "sex" if rows_dim in ATTRIBUTE_DIMENSIONS else "institution"
    params = {
        "partner": _blank(partner) or "",
        "pillar": filt.pillar or "",
        "from": filt.scope.first_period or "",
        "to": filt.scope.last_period or "",
        "provisional": "1" if filt.scope.include_provisional else "",
        "rows": rows_dim,
        "cols": cols_dim,
    }
    context: dict[str, Any] = {
        "partnership": partnership,
        "params": params,
        "query": urlencode({k: v for k, v in params.items() if v}),
        "events": stored(
            session,
            partnership.id,
            "trainings.events",
            viewer,
            (tuple(sorted(params.items())), page),
            lambda: training_events(session, own, page=page),
        ),
        "events_target": EVENTS_TARGET,
    }
    context["event_followups"] = followups_of_events(session, own, [e.id for e in context["events"].events])
    if request.headers.get("HX-Target") == EVENTS_TARGET:
        return render(request, "trainings.html", context, block="events")

    def results() -> dict[str, Any]:
        """The page's figures, in no language: both languages share one stored answer."""
        last_quarter = quarter_of(partnership.ends_on)
        specs: list[tuple[str, str | None]] = [(rows_dim, cols_dim), *((d, None) for d in ONE_WAY)]
        # the cross tables and knowledge gain by institution from one grouped pass
        tables, by_institution = tables_and_gain(session, filt, specs, gain_by="institution")
        overview = training_overview(session, filt)
        return dict(
            partners=visible_partners(
                viewer,
                sorted(partnership.partners, key=lambda p: p.code),
            ),
            pillars=PILLARS,
            quarters=list(quarters(quarter_of(partnership.starts_on), last_quarter)),
            partner_user=own_partners is not None,
            totals=overview.totals,
            cross=tables[0],
            one_way=list(zip(ONE_WAY, tables[1:], strict=True)),
            trend=overview.trend,
            gain_all=overview.gain_all,
            gain_by=[("institution", by_institution), ("modality", overview.gain_by_modality)],
            new_repeat=[(d, new_and_repeat(session, filt, d)) for d in NEW_REPEAT_BY],
            new_repeat_all=new_and_repeat(session, filt),
            followup=followup_rates(session, filt),
            followup_years=rates_by_training_year(session, filt),
        )

    # figures that went through the viewer's scope and partners: stored per viewer (mel.results.store)
    key = tuple(sorted(params.items()))
    found = stored(session, partnership.id, "trainings.results", viewer, key, results)
    context.update(found)
    # the language is applied here, to the stored figures: dimension names (indicator names: in the template)
    context.update(
        dimensions=[(d, dimension_label(d, lang)) for d in DIMENSIONS],
        cross_labels=(dimension_label(rows_dim, lang), dimension_label(cols_dim, lang)),
        one_way=[(d, dimension_label(d, lang), table) for d, table in found["one_way"]],
        gain_by=[(d, dimension_label(d, lang), rows) for d, rows in found["gain_by"]],
        new_repeat=[(d, dimension_label(d, lang), rows) for d, rows in found["new_repeat"]],
        consistency=stored(
            session,
            partnership.id,
            "trainings.consistency",
            viewer,
            key,
            lambda: training_consistency(session, partnership_id=partnership.id, scope=own.scope, pillar=filt.pillar),
        ),
    )
    return render(request, "trainings.html", context, block="results")


def _restrict(scope: Scope, partner_ids: frozenset[int]) -> Scope:
    """The scope narrowed to the partners a partner user may open (possibly none)."""
    wanted = partner_ids if scope.partner_ids is None else partner_ids & set(scope.partner_ids)
    return replace(scope, partner_ids=sorted(wanted))
