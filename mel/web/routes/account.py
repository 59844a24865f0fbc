"""Login, logout and the account page: parse the form, call ``mel.auth`` (sessions, accounts), render."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mel.auth.identity import CurrentUser
from mel.auth.login_sessions import end_session, login
from mel.auth.service import AccountError, change_password, set_language
from mel.catalog.queries import organization_of
from mel.core.db import transaction
from mel.core.i18n import t
from mel.web.deps import AnyUser, PublicUser, SettingsDep
from mel.web.render import render
from mel.web.routes.tokens import token_context
from mel.web.sessions import actor_of, clear_session_cookie, client_ip, csrf_router, session_token, set_session_cookie

router = csrf_router()
LANG_COOKIE = "mel_lang"


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an absolute or protocol-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(request: Request, user: PublicUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return render(request, "login.html", {"next": safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse, name="login_submit")
def login_submit(
    request: Request,
    _user: PublicUser,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    lang: str = request.state.lang
    with transaction(request.app.state.sessionmaker) as session:
        result = login(
            session=session,
            email=email,
            password=password,
            ip=client_ip(request),
            settings=settings,
            previous_token=session_token(request),
        )
        user_lang = result.user.lang if result.user else None
    context = {"next": safe_next(next), "email": email}
    if result.throttled_minutes:
        message = t(lang, "Too many attempts. Try again in {minutes} minutes.", minutes=result.throttled_minutes)
        return render(request, "login.html", {**context, "error": message}, status_code=429)
    if not result.ok or result.token is None:
        message = t(lang, "Wrong email or password.")
        return render(request, "login.html", {**context, "error": message}, status_code=400)
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(request, response, result.token)
    if user_lang:
        response.set_cookie(LANG_COOKIE, user_lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.post("/logout", name="logout")
def logout(request: Request, user: AnyUser) -> Response:
    token = session_token(request)
    if token:
        with transaction(request.app.state.sessionmaker) as session:
            end_session(session=session, token=token, actor=actor_of(request, user))
    response = RedirectResponse(request.url_for("login").path, status_code=status.HTTP_303_SEE_OTHER)
    clear_session_cookie(request, response)
    return response


def _account(request: Request, user: CurrentUser) -> dict[str, object]:
    """The account page's facts: the user, and for a partner user the organization it reports for."""
    organization = None
    if user.partner_id is not None:
        with request.app.state.sessionmaker() as session:
            organization = organization_of(session, user.partner_id)
    return {"account": user, "organization": organization}


@router.get("/account", response_class=HTMLResponse, name="account")
def account_page(request: Request, user: AnyUser) -> HTMLResponse:
    return render(request, "account.html", {**_account(request, user), **token_context(request, user)})


@router.post("/account/language", name="account_language")
def account_language(request: Request, user: AnyUser, lang: Annotated[str, Form()]) -> Response:
    try:
        with transaction(request.app.state.sessionmaker) as session:
            set_language(session=session, user_id=user.id, lang=lang, actor=actor_of(request, user))
    except AccountError:
        return render(
            request,
            "account.html",
            {**_account(request, user), "error": t(request.state.lang, "Unknown language.")},
            status_code=400,
        )
    response = RedirectResponse(request.url_for("account").path, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.post("/account/password", response_class=HTMLResponse, name="account_password")
def account_password(
    request: Request,
    user: AnyUser,
    settings: SettingsDep,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    repeat: Annotated[str, Form()] = "",
) -> Response:
    lang: str = request.state.lang
    status_code = 400
    if new != repeat:
        error = t(lang, "The two new passwords differ.")
    else:
        with transaction(request.app.state.sessionmaker) as session:
            result = change_password(
                session=session,
                user_id=user.id,
                current=current,
                new=new,
                actor=actor_of(request, user),
                settings=settings,
            )
        if result.outcome == "changed":
            # every session ended with the password change: log in again with the new one
            response = RedirectResponse(request.url_for("login").path, status_code=status.HTTP_303_SEE_OTHER)
            clear_session_cookie(request, response)
            return response
        if result.outcome == "throttled":
            error = t(lang, "Too many attempts. Try again in {minutes} minutes.", minutes=result.throttled_minutes)
            status_code = 429
        elif result.outcome == "wrong_current":
            error = t(lang, "The current password is wrong.")
        else:
            error = t(lang, "The new password needs at least 10 characters.")
    return render(request, "account.html", {**_account(request, user), "error": error}, status_code=status_code)
