"""``create_app(settings)``: wiring only. Routers, templates, static files and the engine."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from mel import api
from mel.auth import audit_routes, token_routes
from mel.auth import routes as auth_routes
from mel.auth import web as auth_web
from mel.db import make_engine, make_sessionmaker
from mel.exports import web as exports_web
from mel.i18n import pick_language
from mel.paths import STATIC_DIR
from mel.quality import routes as quality_routes
from mel.reports import measurement_routes
from mel.reports import routes as report_routes
from mel.reports.jobs import dispatcher
from mel.results import training_routes
from mel.results import web as progress_web
from mel.settings import Settings
from mel.web import errors, pages
from mel.web.limits import BodyLimit
from mel.web.templating import make_templates

LANG_COOKIE = "mel_lang"


@asynccontextmanager
async def _settled(_app: FastAPI) -> AsyncIterator[None]:
    """A serving process keeps what it built at start-up for life: frozen out of the cyclic garbage
    collector, those objects are no longer rescanned by every full collection (measured: those
    collections put the p95 of the heaviest pages at three times their median)."""
    dispatcher(_app).recover()  # jobs a dead process left running fail; queued ones run
    gc.collect()
    gc.freeze()
    yield


def create_app(settings: Settings, *, serving: bool = False) -> FastAPI:
    """The app; ``serving`` for a long-lived server process (``mel serve``), not for tests."""
    settings.check_production()
    app = FastAPI(title="mel", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_settled if serving else None)
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.templates = make_templates()

    @app.middleware("http")
    async def language(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        explicit = request.query_params.get("lang")
        request.state.lang = pick_language(
            explicit=explicit or request.cookies.get(LANG_COOKIE),
            user_lang=getattr(getattr(request.state, "user", None), "lang", None),
            accept=request.headers.get("accept-language"),
            default=settings.default_lang,
        )
        response = await call_next(request)
        if explicit in ("en", "es"):
            response.set_cookie(LANG_COOKIE, explicit, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    errors.install(app)  # pages, not JSON, for 404/405/422/500 on HTML routes
    auth_web.install(app)  # sessions, CSRF, headers: before the routers, outside the language middleware
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(pages.router)
    app.include_router(training_routes.router)
    app.include_router(quality_routes.router)
    app.include_router(progress_web.router)
    app.include_router(report_routes.router)
    app.include_router(measurement_routes.router)
    app.include_router(exports_web.router)
    app.include_router(token_routes.router)
    api.install(app)  # /api/v1 (bearer tokens only) and its documentation
    app.add_middleware(BodyLimit, settings=settings)  # last added, outermost: before anything reads a body
    return app


def app_from_environment() -> FastAPI:
    """The app configured from ``MEL_`` variables: the factory ``mel serve`` hands to uvicorn."""
    return create_app(Settings(), serving=True)
