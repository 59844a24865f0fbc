"""One route, two renderings: the whole page, or only a named block when htmx asks for it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template``; when htmx asks and ``block`` is given, only that block."""
    templates = request.app.state.templates
    ctx: dict[str, Any] = {
        "lang": request.state.lang,
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
    }
    ctx.update(context or {})
    block_name = block if block and is_htmx(request) else None
    response: HTMLResponse = templates.TemplateResponse(
        request, template, ctx, block_name=block_name, status_code=status_code
    )
    response.headers["Vary"] = "HX-Request, Accept-Language, Cookie"
    return response
