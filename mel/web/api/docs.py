"""The API's OpenAPI schema and interactive documentation, for logged-in users (pages, so cookies).

Swagger UI comes from the pinned ``swagger-ui-dist`` package served under ``/static/vendor`` (no
CDN) and starts from a static script, so the strict Content-Security-Policy holds on this page too.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from mel.reports.json_report import ReportIn
from mel.web.deps import AnyUser
from mel.web.render import render
from mel.web.sessions import API_PREFIX, csrf_router

router = csrf_router(include_in_schema=False)
DESCRIPTION = (
    "Read partnerships, results frameworks, indicators, figures, values, trainings, comparisons and "
    "submissions, and send quarterly reports, with a personal access token from your account page "
    "(`Authorization: Bearer mel_...`). Everything passes the same disclosure gate as the pages. "
    "Lists answer `{data, next_cursor}`; pass `cursor` for the next page. Answers carry an `ETag`: "
    "send it back in `If-None-Match` to get `304 Not Modified` when nothing changed."
)


def openapi_schema(app: Any) -> dict[str, Any]:
    """The schema of the ``/api/v1`` routes only (built once per app)."""
    cached: dict[str, Any] | None = getattr(app.state, "api_openapi", None)
    if cached is None:
        routes = [
            ctx
            for ctx in iter_route_contexts(app.routes)
            if isinstance(ctx.original_route, APIRoute) and (ctx.path or "").startswith(API_PREFIX)
        ]
        cached = get_openapi(title="mel API", version="1", description=DESCRIPTION, routes=routes)
        # the JSON report's body is read by the route itself (after the token): its schema goes in here
        report = ReportIn.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas = cached.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(report.pop("$defs", {}))
        schemas["ReportIn"] = report
        app.state.api_openapi = cached
    return cached


@router.get("/api/openapi.json", name="api_openapi")
def api_openapi(request: Request, user: AnyUser) -> JSONResponse:
    return JSONResponse(openapi_schema(request.app))


@router.get("/api/docs", response_class=HTMLResponse, name="api_docs")
def api_docs(request: Request, user: AnyUser) -> HTMLResponse:
    return render(request, "api_docs.html", {"schema_url": request.url_for("api_openapi").path})
