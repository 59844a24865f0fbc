"""Errors as people read them: a styled, translated page for browsers, one sentence for htmx.

FastAPI's defaults answer ``{"detail": "Not Found"}`` or a validation dump; on a server-rendered
site that is what a partner on a slow connection would see after a mistyped address. Only routes
under ``/api/`` (machine clients) keep FastAPI's JSON answers.
"""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import FastAPI, Request, Response, status
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mel.core.i18n import N_, t
from mel.web.render import render
from mel.web.sessions import SECURITY_HEADERS

log = logging.getLogger("mel.errors")

API_PREFIX = "/api/"


ROUTE_DETAILS = (N_("An explanation is required."),)


def _titles(lang: str) -> dict[int, tuple[str, str]]:
    """Title and explanation per status, in the viewer's language."""
    return {
        404: (
            t(lang, "Page not found"),
            t(lang, "There is no page at this address, or it is not one your account can open."),
        ),
        405: (
            t(lang, "Not possible here"),
            t(lang, "This address does not accept that kind of request. Go back and use the page's own buttons."),
        ),
        422: (
            t(lang, "Address or form not understood"),
            t(lang, "Part of the address or of the form is not valid (for example, letters where a number belongs)."),
        ),
        500: (
            t(lang, "Something went wrong"),
            t(lang, "The server could not answer this request. Nothing you entered was lost; try again in a moment."),
        ),
    }


def _lang(request: Request) -> str:
    lang = getattr(request.state, "lang", "en")
    return lang if isinstance(lang, str) else "en"


def error_response(request: Request, status_code: int, detail: str | None = None) -> Response:
    """The page (or, for htmx, the sentence) for ``status_code``; ``detail`` adds a translated line."""
    lang = _lang(request)
    known = _titles(lang)
    title, message = known.get(status_code, known[500] if status_code >= 500 else known[422])
    if detail:
        message = f"{message} {detail}"
    if request.headers.get("HX-Request") == "true":
        return PlainTextResponse(message, status_code=status_code)
    context = {"title": title, "message": message, "status": status_code}
    if status_code >= 500:
        context["when"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return render(request, "error.html", context, status_code=status_code)


def _detail(lang: str, exc: StarletteHTTPException) -> str | None:
    """A route's own explanation (an English sentence marked for translation), not the status phrase."""
    detail = exc.detail
    if isinstance(detail, str) and detail and detail != _phrase(exc.status_code):
        return t(lang, detail)
    return None


def _phrase(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith(API_PREFIX):
        return await http_exception_handler(request, exc)
    response = error_response(request, exc.status_code, _detail(_lang(request), exc))
    for name, value in (exc.headers or {}).items():  # e.g. Allow on a 405
        response.headers[name] = value
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith(API_PREFIX):
        return await request_validation_exception_handler(request, exc)
    lang = _lang(request)
    fields = sorted({str(err["loc"][-1]) for err in exc.errors() if err.get("loc")})
    detail = t(lang, "Not valid: {fields}.", fields=", ".join(fields)) if fields else None
    return error_response(request, 422, detail)


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected exception: logged with its traceback, a page without it for the viewer."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if request.url.path.startswith(API_PREFIX):
        response: Response = PlainTextResponse("Internal Server Error", status_code=500)
    else:
        try:
            response = error_response(request, status.HTTP_500_INTERNAL_SERVER_ERROR)
        except Exception:  # the page itself failed (templates, database): a sentence is still owed
            log.exception("the error page failed")
            response = PlainTextResponse(t(_lang(request), "Something went wrong"), status_code=500)
    for name, value in SECURITY_HEADERS.items():  # outermost handler: the header middleware is bypassed
        response.headers.setdefault(name, value)
    return response


def install(app: FastAPI) -> None:
    """Replace FastAPI's JSON error answers on every HTML route."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)
