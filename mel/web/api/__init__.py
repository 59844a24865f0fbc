"""The token API under ``/api/v1``: JSON in long form, through the same disclosure gate as the pages.

``install(app)`` wires the routers, the error handler and the documentation pages. Bearer tokens
authorize ``/api/v1`` only, and cookies never do (the session middleware does not read them there),
so the API has no CSRF surface and a stolen API token opens no page.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from mel.web.api.auth import ApiError, api_error
from mel.web.api.docs import router as docs_router
from mel.web.api.read import router as read_router
from mel.web.api.submissions import router as submissions_router

ROUTERS: tuple[APIRouter, ...] = (read_router, submissions_router, docs_router)
"""Each carries its own prefix: the app adds their routes as they are (``mel.web.app.add_routes``)."""


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error)
