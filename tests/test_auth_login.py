"""Login sessions: the real form, the session cookie, the user on every request, logout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.models import LoginSession, User
from mel.core.settings import Settings
from tests.html_soup import soup


def test_anonymous_page_redirects_to_login(client: TestClient) -> None:
    response = client.get("/?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fx%3D1"
    htmx = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"] == "/login?next=/"
    # an htmx form posted after the session ended returns, after login, to the page it was on
    client.get("/login")
    token = soup(client.get("/login").text).select_one("input[name=csrf_token]")["value"]
    posted = client.post(
        "/account/language",
        data={"lang": "es"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/p/peru-cpc?x=1", "X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 401 and posted.headers["HX-Redirect"] == "/login?next=/p/peru-cpc%3Fx%3D1"


def test_login_as_logs_in_through_the_form(
    client: TestClient, session: Session, settings: Settings, login_as: Callable[..., TestClient]
) -> None:
    client = login_as(client, "partner", partner="ilo")
    page = client.get("/")
    assert page.status_code == 200
    assert (
        soup(page.text).select_one("header .account a.account-link").get_text(strip=True) == "partner-ilo@example.org"
    )
    cookie = client.cookies.get("mel_session")
    assert cookie
    user = session.scalars(select(User).where(User.email == "partner-ilo@example.org")).one()
    stored = session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert len(stored) == 1 and stored[0].ended_at is None
    assert stored[0].expires_at - stored[0].created_at == dt.timedelta(hours=settings.session_hours)
    # the cookie carries a signed token, not the stored hash
    assert stored[0].token_hash not in cookie


def test_logout_ends_the_session(client: TestClient, session: Session, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "officer")
    page = soup(client.get("/").text)
    token = page.select_one("form.logout input[name=csrf_token]")["value"]
    old_cookie = client.cookies.get("mel_session")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    # replaying the old cookie does not bring the session back
    client.cookies.set("mel_session", old_cookie)
    assert client.get("/", follow_redirects=False).status_code == 303
    ended = session.scalars(select(LoginSession.ended_at)).all()
    assert len(ended) == 1 and ended[0] is not None
