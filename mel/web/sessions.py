"""The request side of authentication: session cookie, CSRF, login redirects, security headers.

``install(app)`` wires it all into an app; routes then only declare their policy (``Allow``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.responses import PlainTextResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mel.auth.identity import CurrentUser
from mel.auth.login_sessions import current_user, hash_token
from mel.core.audit import Actor
from mel.core.i18n import t
from mel.core.settings import Settings
from mel.web.policy import NotLoggedIn, RoleRefused
from mel.web.render import render

SESSION_COOKIE = "mel_session"
PRE_SESSION_COOKIE = "mel_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
STATIC_PREFIX = "/static/"
API_PATH = "/api/v1"  # the token API's routers carry it as their prefix
API_PREFIX = API_PATH + "/"
"""Bearer tokens only: no session cookie is read there, so no CSRF check is needed (``mel.web.api``)."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="mel-session")


def sign_token(settings: Settings, token: str) -> str:
    return str(_serializer(settings).dumps(token))


def session_token(request: Request) -> str | None:
    """The session token of the request's cookie, when its signature holds."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = _serializer(request.app.state.settings).loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def csrf_token_for(settings: Settings, binding: str) -> str:
    """A CSRF token bound to a session (or a pre-session cookie): an HMAC nobody else can compute."""
    return hmac.new(settings.secret_key.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


MAX_FORWARDED_HOPS = 20


def _trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def forwarded_client(
    peer: str, forwarded_for: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> str:
    """The client's address: the connecting peer, unless that peer is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right (the hop our proxy saw) and
    the first address that is not itself a trusted proxy is the client. Anything to its left was
    written by the client and is not believed; a malformed entry stops the walk at the proxy that
    passed it on.
    """
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    current = peer
    hops = [h.strip() for h in forwarded_for.split(",")][-MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return current
        current = address
        if not _trusted(address, networks):
            return address
    return current


def client_ip(request: Request) -> str:
    """The one place the client's address is taken (throttling, audit): see ``forwarded_client``."""
    peer = request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings
    return forwarded_client(peer, request.headers.get("X-Forwarded-For"), settings.trusted_proxy_networks())[:64]


def actor_of(request: Request, user: CurrentUser) -> Actor:
    """The audit actor for a change made through a request (with the role, for role-bound rules)."""
    return Actor(user.email, user.id, client_ip(request), role=user.role)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        sign_token(settings, token),
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token (form field or header) does not match."""
    if request.method in SAFE_METHODS or is_api(request):
        return
    expected: str = getattr(request.state, "csrf_token", "")
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()


def csrf_router(**options: Any) -> APIRouter:
    """A router whose every route checks the CSRF token first, before its own dependencies: every router
    of the app is made here (the route table test fails on a state-changing route without the check)."""
    return APIRouter(dependencies=[Depends(csrf_protect)], **options)


def is_api(request: Request) -> bool:
    """A request to the token API, which cookies never authorize."""
    return request.url.path.startswith(API_PREFIX)


class CsrfRefused(Exception):
    """A state-changing request without the right CSRF token."""


def _refused(request: Request, message: str) -> Response:
    """403 with a message a person understands: a page for browsers, the sentence alone for htmx."""
    if request.headers.get("HX-Request") == "true":
        return PlainTextResponse(message, status_code=status.HTTP_403_FORBIDDEN)
    return render(request, "refused.html", {"message": message}, status_code=status.HTTP_403_FORBIDDEN)


async def csrf_refused(request: Request, _exc: Exception) -> Response:
    lang = getattr(request.state, "lang", "en")
    return _refused(
        request, t(lang, "The form has expired or did not come from this site. Reload the page and try again.")
    )


async def role_refused(request: Request, _exc: Exception) -> Response:
    """A role the route's policy does not name."""
    lang = getattr(request.state, "lang", "en")
    return _refused(
        request, t(lang, "Your role does not give access to this page. Ask an administrator if you need it.")
    )


def _login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in SAFE_METHODS:  # back to the page the form was on, not to the POST
        current = urlsplit(request.headers.get("HX-Current-URL") or "/")
        target = (current.path or "/") + (f"?{current.query}" if current.query else "")
    return "/login?next=" + quote(target, safe="/")


async def not_logged_in(request: Request, _exc: Exception) -> Response:
    """Pages redirect to the login form; htmx requests get 401 and an HX-Redirect."""
    url = _login_url(request)
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def install(app: FastAPI) -> None:
    """Sessions, CSRF refusals and headers for ``app`` (the CSRF check itself is on each router)."""
    app.add_exception_handler(NotLoggedIn, not_logged_in)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(RoleRefused, role_refused)

    app.add_middleware(Authenticate)


class Authenticate:
    """The session of every request (``request.state.user``, ``request.state.csrf_token``) and the
    security headers of every response.

    A pure ASGI middleware: ``@app.middleware("http")`` would wrap each response in a streaming copy
    and a task, on every page. Static files and the token API carry no session: no lookup, no cookies.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["path"].startswith(STATIC_PREFIX) or is_api(request):
            request.state.user = None
            request.state.csrf_token = ""
            await self.app(scope, receive, _with_headers(send, []))
            return
        token = session_token(request)
        user = await run_in_threadpool(_load_user, request, token) if token else None
        request.state.user = user
        new_pre: str | None = None
        if user is not None and token is not None:
            binding = "session:" + hash_token(token)
        else:
            pre = request.cookies.get(PRE_SESSION_COOKIE)
            if not pre or len(pre) > 100:
                pre = new_pre = secrets.token_urlsafe(24)
            binding = "pre:" + pre
        request.state.csrf_token = csrf_token_for(request.app.state.settings, binding)
        cookies = Response()
        if new_pre:
            cookies.set_cookie(
                PRE_SESSION_COOKIE,
                new_pre,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
                path="/",
            )

        def finish(headers: MutableHeaders) -> None:
            if user is not None:
                headers["Cache-Control"] = "no-store"
            sets_session = any(c.startswith(SESSION_COOKIE + "=") for c in headers.getlist("set-cookie"))
            if token and user is None and not sets_session:
                clear_session_cookie(request, cookies)
            for name, value in cookies.raw_headers:
                if name == b"set-cookie":
                    headers.append("set-cookie", value.decode("latin-1"))

        await self.app(scope, receive, _with_headers(send, [finish]))


def _load_user(request: Request, token: str) -> CurrentUser | None:
    with request.app.state.sessionmaker() as session:
        return current_user(session, token)


def _with_headers(send: Send, extra: list[Callable[[MutableHeaders], None]]) -> Send:
    """``send`` that adds the security headers (unless the response set its own) and ``extra``."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                headers.setdefault(name, value)
            for step in extra:
                step(headers)
        await send(message)

    return sending
