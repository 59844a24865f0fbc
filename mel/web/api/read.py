"""Read routes of the API: partnerships, results framework, indicators, figures, values, trainings, comparison.

Thin routes: they check the token (``TokenAllow``), decide the viewer (``viewer_of``: partner tokens
see their partnership only, and their own organization's rows; evaluators approved data with
suppression; staff everything, provisional when asked) and shape what already passed the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.catalog.models import LEVELS, PILLARS, Indicator, Partner, Partnership
from mel.catalog.queries import partnerships_by_start
from mel.core.periods import parse_quarter
from mel.exports.figures import FigureQuery, figure_records
from mel.exports.trainings import KEYS as TRAINING_KEYS
from mel.exports.trainings import _plain
from mel.exports.value_pages import value_page
from mel.results.comparison import as_json, comparison, dimension_of
from mel.results.disclosure import is_small, partnership_visible, viewer_of
from mel.results.disclosure.comparison import disclose_comparison
from mel.results.progress import load_partnership
from mel.results.training_filters import counted_trainings, make_training_filter
from mel.web.api.auth import ApiEvaluatorOrStaff, ApiReader, not_found
from mel.web.api.http import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, json_answer, keyset_page, listing, page_of
from mel.web.deps import SessionDep
from mel.web.sessions import API_PATH, csrf_router

router = csrf_router(prefix=API_PATH, tags=["read"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Objects per page.")]
Cursor = Annotated[str | None, Query(description="The next_cursor of the previous page.")]
Provisional = Annotated[bool, Query(description="Staff only: add reports awaiting review (ignored for others).")]
First = Annotated[str | None, Query(alias="from", description="First quarter, e.g. 2021Q1.")]
Last = Annotated[str | None, Query(alias="to", description="Last quarter, e.g. 2022Q2.")]


def partnership_for(request: Request, session: Session, code: str, user: CurrentUser) -> Partnership:
    """The partnership in the path, if this token may see it (another one answers 404, as an unknown code)."""
    partnership = load_partnership(session, code)
    if partnership is None or not partnership_visible(session, user, partnership):
        raise not_found(request)
    return partnership


def partner_for(request: Request, partnership: Partnership, user: CurrentUser, code: str | None) -> Partner | None:
    """A partner filter: a partner token may name only its own organization (or its sub-recipients)."""
    if not code:
        return None
    found = next((p for p in partnership.partners if p.code == code), None)
    if found is None or not user.sees_partner(found.id):
        raise not_found(request)
    return found


def _quarter(value: str | None) -> str | None:
    return parse_quarter(value) if value else None


@dataclass(frozen=True)
class Listing:
    """The query parameters the figure, value and training listings share."""

    partner: str | None
    first: str | None
    last: str | None
    provisional: bool
    cursor: str | None
    limit: int


def listing_params(
    partner: str | None = None,
    first: First = None,
    last: Last = None,
    provisional: Provisional = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Listing:
    return Listing(partner, _quarter(first), _quarter(last), provisional, cursor, limit)


ListingParams = Annotated[Listing, Depends(listing_params)]


def _partnership_json(partnership: Partnership, user: CurrentUser) -> dict[str, Any]:
    return {
        "code": partnership.code,
        "name": partnership.name,
        "name_es": partnership.name_es,
        "country": partnership.country,
        "starts_on": partnership.starts_on.isoformat(),
        "ends_on": partnership.ends_on.isoformat(),
        "fiscal_year_start": partnership.fiscal_year_start,
        "pillars": list(partnership.pillars or []),
        "partners": [
            {
                "code": p.code,
                "name": p.name,
                "parent": p.parent.code if p.parent else None,
                "own": user.is_partner and user.sees_partner(p.id),
            }
            for p in partnership.partners
        ],
    }


@router.get("/partnerships", name="api_partnerships")
def partnerships(request: Request, session: SessionDep, user: ApiReader) -> Response:
    """The partnerships this token may read."""
    partnerships = partnerships_by_start(session)
    data = [_partnership_json(s, user) for s in partnerships if partnership_visible(session, user, s)]
    return listing(request, data, None)


@router.get("/partnerships/{code}", name="api_partnership")
def partnership(request: Request, session: SessionDep, user: ApiReader, code: str) -> Response:
    return json_answer(request, _partnership_json(partnership_for(request, session, code, user), user))


@router.get("/partnerships/{code}/framework", name="api_framework")
def framework(request: Request, session: SessionDep, user: ApiReader, code: str) -> Response:
    """The theory of change: results (impact, outcomes, outputs), their links and indicator codes."""
    partnership = partnership_for(request, session, code, user)
    data = [
        {
            "code": r.code,
            "level": r.level,
            "pillar": r.pillar,
            "statement": r.statement,
            "statement_es": r.statement_es,
            "contributes_to": [c.code for c in r.contributes_to],
            "indicators": [i.code for i in r.indicators],
        }
        for r in partnership.results
    ]
    return listing(request, data, None)


def _indicator_json(ind: Indicator, hide_small: bool) -> dict[str, Any]:
    baseline = ind.baseline_value
    hidden = hide_small and ind.sensitive and is_small(baseline)
    return {
        "code": ind.code,
        "result": ind.result.code,
        "level": ind.result.level,
        "pillar": ind.result.pillar,
        "name": ind.name,
        "name_es": ind.name_es,
        "definition": ind.definition,
        "rationale": ind.rationale,
        "data_source": ind.data_source,
        "collection_method": ind.collection_method,
        "frequency": ind.frequency,
        "limitations": ind.limitations,
        "unit": ind.unit,
        "aggregation": ind.aggregation,
        "direction": ind.direction,
        "sensitive": bool(ind.sensitive),
        "cumulative": bool(ind.cumulative),
        "dimensions": [
            {
                "code": d.code,
                "label_en": d.label_en,
                "label_es": d.label_es,
                "categories": [c.code for c in d.categories],
            }
            for d in ind.dimensions
        ],
        "partners": [p.code for p in ind.partners],
        "baseline": {
            "value": None if hidden else baseline,
            "year": ind.baseline_year,
            "source": ind.baseline_source,
            "suppressed": bool(hidden),
        },
        # the whole indicator's targets as revised last (per-partner targets stay on the targets page)
        "targets": [{"period": t.period or "LOP", "value": t.value} for t in ind.targets if t.overall],
    }


@router.get("/partnerships/{code}/indicators", name="api_indicators")
def indicators(
    request: Request,
    session: SessionDep,
    user: ApiReader,
    code: str,
    pillar: str | None = None,
    level: str | None = None,
) -> Response:
    """Indicators with their reference sheet, dimensions, baseline and targets."""
    partnership = partnership_for(request, session, code, user)
    hide = viewer_of(user).suppress
    data = [
        _indicator_json(i, hide)
        for r in partnership.results
        for i in r.indicators
        if (pillar is None or r.pillar == pillar or (pillar == "-" and r.pillar is None))
        and (level is None or r.level == level)
    ]
    return listing(request, data, None)


@router.get("/partnerships/{code}/indicators/{indicator}", name="api_indicator")
def indicator(request: Request, session: SessionDep, user: ApiReader, code: str, indicator: str) -> Response:
    partnership = partnership_for(request, session, code, user)
    found = next((i for r in partnership.results for i in r.indicators if i.code == indicator), None)
    if found is None:
        raise not_found(request)
    return json_answer(request, _indicator_json(found, viewer_of(user).suppress))


@router.get("/partnerships/{code}/figures", name="api_figures")
def figures(
    request: Request,
    session: SessionDep,
    user: ApiReader,
    code: str,
    params: ListingParams,
    granularity: Annotated[str, Query(pattern="^(quarter|fy|lop)$")] = "quarter",
    indicator: str | None = None,
    scope: Annotated[str | None, Query(pattern="^(partnership|partner|category)$")] = None,
    pillar: str | None = None,
    level: str | None = None,
) -> Response:
    """Target, actual and % of target per indicator x scope x period, after the disclosure gate."""
    partnership = partnership_for(request, session, code, user)
    chosen = partner_for(request, partnership, user, params.partner)
    query = FigureQuery(
        granularity=granularity,
        first_period=params.first,
        last_period=params.last,
        pillar=pillar if pillar in (*PILLARS, "-") else None,
        level=level if level in LEVELS else None,
        indicator=indicator,
        partner=chosen.code if chosen else None,
        scope=scope,
    )
    records = figure_records(session, partnership, viewer_of(user, provisional=params.provisional), query)
    data, next_cursor = page_of(request, records, params.cursor, params.limit)
    return listing(request, data, next_cursor)


@router.get("/partnerships/{code}/values", name="api_values")
def values(
    request: Request,
    session: SessionDep,
    user: ApiReader,
    code: str,
    params: ListingParams,
    indicator: str | None = None,
) -> Response:
    """Stored values of the report versions that count: partner tokens get their own organization's."""
    partnership = partnership_for(request, session, code, user)
    chosen = partner_for(request, partnership, user, params.partner)
    ind = None
    if indicator:
        ind = next((i for i in partnership.indicators if i.code == indicator), None)
        if ind is None:
            raise not_found(request)
    viewer = viewer_of(user, provisional=params.provisional)
    after = decode_cursor(request, params.cursor)
    rows = value_page(
        session,
        partnership,
        viewer,
        partner_ids=[chosen.id] if chosen else None,
        indicator_id=ind.id if ind else None,
        first=params.first,
        last=params.last,
        after=after if isinstance(after, int) else None,
        limit=params.limit + 1,
    )
    data, next_cursor = keyset_page(rows, params.limit, key=lambda r: r["_id"])
    return listing(request, [{k: v for k, v in r.items() if k != "_id"} for r in data], next_cursor)


@router.get("/partnerships/{code}/trainings", name="api_trainings")
def trainings(
    request: Request,
    session: SessionDep,
    user: ApiReader,
    code: str,
    params: ListingParams,
    pillar: str | None = None,
) -> Response:
    """Training rows that count (the fields of ``mel import --json``): partner tokens get their own events."""
    partnership = partnership_for(request, session, code, user)
    chosen = partner_for(request, partnership, user, params.partner)
    viewer = viewer_of(user, provisional=params.provisional)
    filt = make_training_filter(
        session,
        partnership_id=partnership.id,
        partner=chosen.code if chosen else None,
        pillar=pillar,
        first_period=params.first,
        last_period=params.last,
        include_provisional=viewer.provisional,
    )
    if viewer.partner_ids is not None:
        wanted = (
            set(viewer.partner_ids)
            if filt.scope.partner_ids is None
            else set(filt.scope.partner_ids) & viewer.partner_ids
        )
        filt = replace(filt, scope=replace(filt.scope, partner_ids=sorted(wanted)))
    rows = [{k: _plain(row[k]) for k in TRAINING_KEYS} for row in session.execute(counted_trainings(filt)).mappings()]
    data, next_cursor = page_of(request, rows, params.cursor, params.limit)
    return listing(request, data, next_cursor)


@router.get("/partnerships/{code}/comparison", name="api_comparison")
def comparison_rows(
    request: Request,
    session: SessionDep,
    user: ApiEvaluatorOrStaff,
    code: str,
    dimension: str | None = None,
    pillar: str | None = None,
    level: str | None = None,
    provisional: Provisional = False,
) -> Response:
    """Baseline versus endline, as ``mel export comparison --format json`` (evaluators and staff)."""
    partnership = partnership_for(request, session, code, user)
    dim = dimension_of(session, partnership.id, dimension) if dimension else None
    viewer = viewer_of(user, provisional=provisional)
    rows = comparison(
        session,
        partnership,
        scope=viewer.scope(),
        dimension=dim.code if dim else None,
        pillar=pillar if pillar in (*PILLARS, "-") else None,
        level=level if level in LEVELS else None,
    )
    return listing(request, [as_json(r) for r in disclose_comparison(rows, viewer)], None)
