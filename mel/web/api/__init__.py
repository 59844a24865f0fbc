"""The token API under ``/api/v1``: JSON in long form, through the same disclosure gate as the pages.

``install(app)`` wires the routers, the error handler and the documentation pages. Bearer tokens
authorize ``/api/v1`` only, and cookies never do (the session middleware does not read them there),
so the API has no CSRF surface and a stolen API token opens no page.
"""

from __future__ import annotations

from fastapi import FastAPI

from mel.web.api.auth import ApiError, api_error
from mel.web.api.docs import router as docs_router
from mel.web.api.read import router as read_router
from mel.web.api.submissions import router as submissions_router

API_PREFIX = "/api/v1"


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error)
    app.include_router(read_router, prefix=API_PREFIX)
    app.include_router(submissions_router, prefix=API_PREFIX)
    app.include_router(docs_router)
