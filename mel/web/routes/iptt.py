"""The IPTT page and its XLSX download: parse the filters, call ``mel.results.iptt``, render."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.catalog.models import LEVELS, PILLARS, Partnership
from mel.core.periods import quarter_of, quarters
from mel.exports.iptt_xlsx import iptt_xlsx
from mel.results.disclosure import viewer_of, visible_partners
from mel.results.disclosure.iptt import disclose_iptt
from mel.results.iptt import Iptt, iptt_table
from mel.results.store import stored
from mel.web.deps import AnyUser, SessionDep, SharedPartnership
from mel.web.filters import IpttFilters, IpttFiltersDep
from mel.web.iptt_cells import cells_html, shown_cells
from mel.web.page_store import stored_page
from mel.web.render import render
from mel.web.routes.indicators import partner_or_404
from mel.web.routes.progress import common
from mel.web.sessions import csrf_router

router = csrf_router()


def _table(
    session: Session,
    request: Request,
    partnership: Partnership,
    user: CurrentUser,
    f: IpttFilters,
    expand: Collection[str] | None = None,
    *,
    download: bool = False,
) -> Iptt:
    """The IPTT as ``user`` may see it; a download always suppresses small cells, as every export does."""
    chosen = partner_or_404(partnership, user, f.partner)
    viewer = viewer_of(user, provisional=f.provisional)
    if download:
        viewer = replace(viewer, suppress=True)
    scope = viewer.scope(partner_ids=[chosen.id] if chosen else None, first=f.first, last=f.last)
    # the disaggregation of a sensitive indicator takes part in its protection even when collapsed
    computed = (
        None
        if expand is None
        else {*expand, *(i.code for r in partnership.results for i in r.indicators if viewer.hides(i.sensitive))}
    )
    table = iptt_table(
        session,
        partnership,
        scope,
        granularity=f.granularity,
        pillar=f.pillar,
        level=f.level,
        expand=computed,
    )
    return disclose_iptt(table, viewer, expanded=expand)


def expand_links(f: IpttFilters, expanded: list[str], table: Iptt) -> dict[str, str]:
    """Per indicator not yet expanded, the query that also shows its disaggregation rows."""
    base = [(k, v) for k, v in parse_qsl(f.query())] + [("expand", code) for code in expanded]
    return {
        row.indicator: urlencode([*base, ("expand", row.indicator)])
        for row in table.rows
        if row.expandable and not row.expanded
    }


@router.get("/p/{code}/iptt", response_class=HTMLResponse, name="iptt")
@stored_page
def iptt_page(
    request: Request,
    session: SessionDep,
    user: AnyUser,
    partnership: SharedPartnership,
    f: IpttFiltersDep,
    expand: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    expanded = sorted(set(expand or []))
    lang = request.state.lang

    def shown(table: Iptt) -> list[Any]:
        """The table's cells as HTML in the reader's language (numbers, yes/no, stage names)."""
        return [
            (
                row,
                cells_html(shown_cells(table, row, lang), child=False, lang=lang),
                [(c, cells_html(shown_cells(table, c, lang), child=True, lang=lang)) for c in row.children],
            )
            for row in table.rows
        ]

    viewer = viewer_of(user, provisional=f.provisional)  # the disclosure gate's key: see mel.results.store
    # the table holds no language (both languages share it); its rendered cells are stored per language
    table = stored(
        session,
        partnership.id,
        "iptt.table",
        viewer,
        (f, tuple(expanded)),
        lambda: _table(session, request, partnership, user, f, expand=None if "all" in expanded else expanded),
    )
    display = stored(session, partnership.id, "iptt.page", viewer, (f, tuple(expanded), lang), lambda: shown(table))
    context = common(partnership, user, lang) | {
        "table": table,
        "display": display,
        "filters": f,
        "query": f.query(),
        "expand_links": expand_links(f, expanded, table),
        "expand_all": urlencode([*parse_qsl(f.query()), ("expand", "all")]),
        "pillars": [*PILLARS, "cross-cutting"],
        "levels": LEVELS,
        "partners": visible_partners(viewer_of(user), partnership.partners),
        "quarters": list(quarters(quarter_of(partnership.starts_on), quarter_of(partnership.ends_on))),
    }
    return render(request, "iptt.html", context, block="table")


@router.get("/p/{code}/iptt.xlsx", name="iptt_xlsx")
def iptt_download(
    request: Request,
    session: SessionDep,
    user: AnyUser,
    partnership: SharedPartnership,
    f: IpttFiltersDep,
) -> Response:
    lang = request.state.lang
    viewer = replace(viewer_of(user, provisional=f.provisional), suppress=True)  # as ``_table(download=True)``
    data = stored(
        session,
        partnership.id,
        "iptt.xlsx",
        viewer,
        (f, lang),
        lambda: iptt_xlsx(_table(session, request, partnership, user, f, download=True), lang=lang),
    )
    name = f"{partnership.code}-iptt-{f.granularity}.xlsx"
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
