"""Bearer-token policies of API routes, and the API's one error shape.

``TokenAllow`` is an ``Allow`` (the route-policy test finds it like any other) that reads the
``Authorization: Bearer`` header instead of the session: roles as usual, plus the token scope the
route needs. Every refusal is JSON: ``{"error": {"code", "message"}}`` with the HTTP status.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mel.auth.identity import READERS, STAFF, CurrentUser
from mel.auth.tokens import use_token
from mel.core.db import transaction
from mel.core.i18n import pick_language, t
from mel.core.settings import Settings
from mel.web.policy import Allow
from mel.web.sessions import client_ip

BEARER = HTTPBearer(auto_error=False, description="A personal access token from the account page.")


class ApiError(Exception):
    """An API refusal: HTTP status, stable code and a message in the caller's language."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


async def api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body = {"error": {"code": exc.code, "message": exc.message}}
    headers = {"Cache-Control": "no-store", **exc.headers}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def lang_of(request: Request) -> str:
    lang = getattr(request.state, "lang", "en")
    return lang if isinstance(lang, str) else "en"


def not_found(request: Request) -> ApiError:
    """The one 404: unknown, and not visible to this token, read the same."""
    return ApiError(404, "not_found", t(lang_of(request), "Nothing here, or nothing this token may read."))


class TokenAllow(Allow):
    """A route's policy for bearer tokens: the roles that may call it and the token scope it needs."""

    def __init__(self, *roles: str, scope: str = "read") -> None:
        super().__init__(*roles)
        self.scope = scope

    def __call__(  # type: ignore[override]
        self, request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> CurrentUser:
        settings: Settings = request.app.state.settings
        lang = lang_of(request)
        challenge = {"WWW-Authenticate": 'Bearer realm="mel"'}
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise ApiError(
                401,
                "missing_token",
                t(lang, "Send a personal access token: Authorization: Bearer <token>."),
                headers=challenge,
            )
        with transaction(request.app.state.sessionmaker) as session:
            use = use_token(
                session=session,
                secret=credentials.credentials[:200],
                ip=client_ip(request),
                method=request.method,
                path=request.url.path,
                limit_per_minute=settings.api_requests_per_minute,
            )
        user = use.user
        if user is None:
            raise ApiError(
                401,
                "invalid_token",
                t(lang, "This token is unknown, expired or revoked, or its account is disabled."),
                headers={"WWW-Authenticate": 'Bearer realm="mel", error="invalid_token"'},
            )
        request.state.lang = lang = pick_language(
            explicit=request.query_params.get("lang"),
            user_lang=user.lang,
            accept=None,
            default=settings.default_lang,
        )
        if use.throttled_seconds:
            raise ApiError(
                429,
                "throttled",
                t(
                    lang,
                    "Too many requests with this token. Try again in {seconds} seconds.",
                    seconds=use.throttled_seconds,
                ),
                headers={"Retry-After": str(use.throttled_seconds)},
            )
        if self.scope not in use.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                t(lang, "This token lacks the {scope} scope: create one that has it.", scope=self.scope),
                headers={"WWW-Authenticate": f'Bearer realm="mel", error="insufficient_scope", scope="{self.scope}"'},
            )
        if user.role not in self.roles:
            raise ApiError(403, "role_refused", t(lang, "Your role does not give access to this resource."))
        request.state.api_user = user
        return user

    def __repr__(self) -> str:
        return f"TokenAllow({', '.join(sorted(self.roles))}; scope={self.scope})"


ApiReader = Annotated[CurrentUser, Depends(TokenAllow(*READERS))]
ApiEvaluatorOrStaff = Annotated[CurrentUser, Depends(TokenAllow("admin", "officer", "evaluator"))]
ApiPartnerOrStaff = Annotated[CurrentUser, Depends(TokenAllow("admin", "officer", "partner"))]
"""Submissions: evaluators read approved figures, not reports (as on the pages)."""
ApiSubmitter = Annotated[CurrentUser, Depends(TokenAllow("partner", *STAFF, scope="submit"))]
