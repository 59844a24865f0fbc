"""Request-body limits, enforced before anything reads the body (form parsing, CSRF, uploads).

A pure ASGI middleware, outermost: a ``Content-Length`` above the limit is answered 413 at once; a
body without one (chunked) is counted as it streams and cut at the limit; an ``X-CSRF-Token``
header that matches neither the session's nor the pre-session cookie's token is refused (403)
before a byte of the body is read. Requests without a signed session cookie get a small limit
(a login form is tiny); signed-in users get the upload limit plus room for the form around it.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mel.auth.login_sessions import hash_token
from mel.core.i18n import pick_language, t
from mel.core.settings import Settings
from mel.web.sessions import API_PREFIX, CSRF_HEADER, PRE_SESSION_COOKIE, SAFE_METHODS, csrf_token_for, session_token

FORM_ROOM_BYTES = 2 * 1024 * 1024
"""Multipart framing and the other fields of the upload form, beyond the file itself."""
LANG_COOKIE = "mel_lang"


class _TooLarge(Exception):
    """The streamed body passed the limit."""


def body_limit(settings: Settings, *, signed_in: bool) -> int:
    """Largest body accepted: the upload limit for a session, ``MEL_MAX_ANONYMOUS_BODY_KB`` without."""
    if signed_in:
        return int(settings.max_upload_mb * 1024 * 1024) + FORM_ROOM_BYTES
    return settings.max_anonymous_body_kb * 1024


class BodyLimit:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = session_token(request)
        sent = request.headers.get(CSRF_HEADER)
        if sent is not None and not self._csrf_plausible(request, token, sent):
            await self._answer(scope, receive, send, 403)
            return
        # the token API's bodies are read by its routes only after the token is checked (mel.web.api)
        bearer = scope["path"].startswith(API_PREFIX) and request.headers.get("authorization", "").startswith("Bearer ")
        limit = body_limit(self.settings, signed_in=token is not None or bearer)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = True
            if too_large:
                await self._answer(scope, receive, send, 413)
                return
        received = 0
        exceeded = False
        answered = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            # The app may turn the cut into its own error (FastAPI answers 400 to a body it could
            # not parse): whatever it says after the cut is replaced by the 413.
            nonlocal answered
            if exceeded:
                if not answered:
                    answered = True
                    await self._answer(scope, receive, send, 413)
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not answered:
                answered = True
                await self._answer(scope, receive, send, 413)

    def _csrf_plausible(self, request: Request, token: str | None, sent: str) -> bool:
        """The header matches the token of the session or of the pre-session cookie (checked again later)."""
        candidates = []
        if token is not None:
            candidates.append(csrf_token_for(self.settings, "session:" + hash_token(token)))
        pre = request.cookies.get(PRE_SESSION_COOKIE)
        if pre and len(pre) <= 100:
            candidates.append(csrf_token_for(self.settings, "pre:" + pre))
        return any(hmac.compare_digest(sent, expected) for expected in candidates)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        request = Request(scope)
        lang = pick_language(
            explicit=request.cookies.get(LANG_COOKIE),
            user_lang=None,
            accept=request.headers.get("accept-language"),
            default=self.settings.default_lang,
        )
        if status == 403:
            message = t(lang, "The form has expired or did not come from this site. Reload the page and try again.")
        else:
            message = t(
                lang,
                "The request is larger than this server accepts (files up to {limit} MB): nothing was read.",
                limit=f"{self.settings.max_upload_mb:g}",
            )
        headers = {"Connection": "close"}
        await PlainTextResponse(message, status_code=status, headers=headers)(scope, receive, send)
