"""Personal access tokens on the account page: create (the secret is shown once) and revoke.

These are pages: session cookie and CSRF token, as every form. The API itself never reads cookies.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mel.auth.identity import CurrentUser
from mel.auth.tokens import NewToken, TokenError, create_token, revoke_token, user_tokens
from mel.core.db import transaction, utcnow
from mel.core.i18n import t
from mel.web.deps import AnyUser, SettingsDep
from mel.web.render import render
from mel.web.sessions import actor_of, csrf_router

router = csrf_router()
DEFAULT_DAYS = 90


def token_context(request: Request, user: CurrentUser) -> dict[str, Any]:
    """What the account page's token section shows."""
    with request.app.state.sessionmaker() as session:
        tokens = user_tokens(session, user.id)
    return {
        "tokens": tokens,
        "now": utcnow(),
        "token_days": DEFAULT_DAYS,
        "max_token_days": request.app.state.settings.api_token_max_days,
        "may_submit": user.role != "evaluator",
    }


def _page(
    request: Request, user: CurrentUser, *, new: NewToken | None = None, error: str | None = None, code: int = 200
) -> HTMLResponse:
    context = {"account": user, "new_token": new, "token_error": error, **token_context(request, user)}
    return render(request, "account.html", context, status_code=code)


@router.post("/account/tokens", response_class=HTMLResponse, name="account_token_create")
def token_create(
    request: Request,
    user: AnyUser,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[str, Form()] = str(DEFAULT_DAYS),
) -> HTMLResponse:
    """Create a token and show its secret once (the page is ``no-store``, like every signed-in page)."""
    lang: str = request.state.lang
    try:
        with transaction(request.app.state.sessionmaker) as session:
            new = create_token(
                session=session,
                user_id=user.id,
                name=name,
                scopes=list(scopes or []),
                days=int(days) if days.strip().isdigit() else 0,
                max_days=settings.api_token_max_days,
                actor=actor_of(request, user),
            )
    except TokenError as exc:
        message = t(lang, str(exc.args[0]), max_days=settings.api_token_max_days)
        return _page(request, user, error=message, code=400)
    return _page(request, user, new=new)


@router.post("/account/tokens/{token_id}/revoke", name="account_token_revoke")
def token_revoke(request: Request, user: AnyUser, token_id: int) -> Response:
    with transaction(request.app.state.sessionmaker) as session:
        revoke_token(session=session, user_id=user.id, token_id=token_id, actor=actor_of(request, user))
    return RedirectResponse(request.url_for("account").path + "#tokens", status_code=status.HTTP_303_SEE_OTHER)
