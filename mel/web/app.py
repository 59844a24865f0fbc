"""``create_app(settings)``: wiring only. Routers, templates, static files and the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mel.core import collector
from mel.core.db import make_engine, make_sessionmaker
from mel.core.i18n import pick_language
from mel.core.paths import STATIC_DIR
from mel.core.settings import Settings
from mel.reports.job_dispatcher import dispatcher
from mel.web import api, errors
from mel.web import sessions as auth_web
from mel.web.compress import Gzip
from mel.web.limits import BodyLimit
from mel.web.page_store import make_page_store
from mel.web.routes import ROUTERS
from mel.web.static import StaticAssets, require_vendored
from mel.web.templating import make_templates

LANG_COOKIE = "mel_lang"


@asynccontextmanager
async def _settled(_app: FastAPI) -> AsyncIterator[None]:
    """A serving process keeps what it built at start-up for life (``collector.settle``)."""
    dispatcher(_app).recover()  # jobs a dead process left running fail; queued ones run
    collector.settle()
    yield


def create_app(settings: Settings, *, serving: bool = False, engine: Engine | None = None) -> FastAPI:
    """The app; ``serving`` for a long-lived server process (``mel serve``), not for tests. ``engine``: one
    the caller already holds for ``settings.database_url``, whose pool and compiled statements the app then
    shares (a test process keeps one per backend); by default the app makes its own."""
    settings.check_production()
    if serving:
        require_vendored(STATIC_DIR)  # no htmx, no Chart.js: refuse rather than serve dead controls
    app = FastAPI(title="mel", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_settled if serving else None)
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.database_url)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.templates = make_templates()
    app.state.page_store = make_page_store(settings.page_store_mb)

    app.add_middleware(Language, settings=settings)  # inside the session middleware: the user's language counts
    errors.install(app)  # pages, not JSON, for 404/405/422/500 on HTML routes
    auth_web.install(app)  # sessions, CSRF, headers: before the routers, outside the language middleware
    app.mount("/static", StaticAssets(STATIC_DIR), name="static")
    for router in (*ROUTERS, *api.ROUTERS):
        add_routes(app, router)
    api.install(app)  # /api/v1 (bearer tokens only) and its documentation
    app.add_middleware(Gzip)  # text responses over slow links; static files come gzipped already
    app.add_middleware(BodyLimit, settings=settings)  # last added, outermost: before anything reads a body
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's route objects themselves, as its decorators built them at import.

    ``include_router`` would wrap them, and FastAPI then rebuilds every route's parameter analysis and
    validators for each new app on its first request: about 60 ms per app, paid by every test (each
    makes its own app). Nothing that inclusion adds is used here: the routers carry their own
    prefixes, and the app has no router-level dependencies, tags or dependency overrides.
    """
    app.router.routes.extend(router.routes)


def app_from_environment() -> FastAPI:
    """The app configured from ``MEL_`` variables: the factory ``mel serve`` hands to uvicorn."""
    return create_app(Settings(), serving=True)


class Language:
    """The interface language of each request (``request.state.lang``); ``?lang=`` also sets a cookie.

    Pure ASGI (no task per request, unlike ``@app.middleware``): it runs on every page.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        explicit = request.query_params.get("lang")
        request.state.lang = pick_language(
            explicit=explicit or request.cookies.get(LANG_COOKIE),
            user_lang=getattr(getattr(request.state, "user", None), "lang", None),
            accept=request.headers.get("accept-language"),
            default=self.settings.default_lang,
        )
        if explicit not in ("en", "es"):
            await self.app(scope, receive, send)
            return
        cookie = Response()
        cookie.set_cookie(LANG_COOKIE, explicit, max_age=365 * 86400, samesite="lax", httponly=True)

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in cookie.raw_headers:
                    if name == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, with_cookie)
