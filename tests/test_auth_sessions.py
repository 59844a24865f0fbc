"""Login and its defences: generic errors, sessions and cookies, throttling, CSRF, security headers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mel.auth.models import LoginAttempt, LoginSession, User
from mel.auth.service import disable_user
from mel.core.audit import CLI
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.web.sessions import CSP
from tests.auth_factory import PASSWORD, add_user, audit_actions, client_at, error_text, form_token, post_login
from tests.html_soup import soup

# --- login, sessions, cookies -------------------------------------------------------------


def test_wrong_password_and_unknown_email_get_the_same_generic_message(client: TestClient, session: Session) -> None:
    add_user(client, "a@example.org")
    wrong = post_login(client, "a@example.org", "not-the-password")
    unknown = post_login(client, "nobody@example.org", "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    assert error_text(wrong) == error_text(unknown) == "Wrong email or password."
    spanish = post_login(client, "a@example.org", "nope", **{"Accept-Language": "es"})
    client.cookies.delete("mel_lang")
    assert error_text(spanish) == "Correo electrónico o contraseña incorrectos."
    assert audit_actions(session).count("login_failed") == 3


def test_login_form_needs_its_pre_session_csrf_token(client: TestClient) -> None:
    add_user(client, "a@example.org")
    client.get("/login")
    response = client.post(
        "/login", data={"email": "a@example.org", "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert soup(response.text).select_one("p.refused").get_text(strip=True) == (
        "The form has expired or did not come from this site. Reload the page and try again."
    )
    htmx = client.post("/login", data={"email": "a@example.org"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.text.startswith("The form has expired")
    # a token bound to another browser's cookie does not work either
    other = client_at(client, "10.0.0.9")
    stolen = form_token(other)
    response = client.post(
        "/login",
        data={"email": "a@example.org", "password": PASSWORD, "csrf_token": stolen},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_cookie_flags_and_rotation(client: TestClient, session: Session) -> None:
    add_user(client, "a@example.org")
    first = post_login(client, "a@example.org", PASSWORD)
    assert first.status_code == 303
    cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith("mel_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    old = client.cookies.get("mel_session")
    # logging in again rotates the session: the old one ends, the cookie changes
    second = client.post(
        "/login",
        data={"email": "a@example.org", "password": PASSWORD, "csrf_token": form_token(client, "/account")},
        follow_redirects=False,
    )
    assert second.status_code == 303
    assert client.cookies.get("mel_session") != old
    session.expire_all()
    rows = session.execute(select(LoginSession.ended_at)).all()
    assert len(rows) == 2 and sum(1 for (ended,) in rows if ended is None) == 1
    https = client_at(client, "10.0.0.2", base_url="https://testserver")
    secure = post_login(https, "a@example.org", PASSWORD)
    cookie = next(c for c in secure.headers.get_list("set-cookie") if c.startswith("mel_session="))
    assert "Secure" in cookie


def test_expired_and_disabled_sessions_are_anonymous(client: TestClient, session: Session) -> None:
    add_user(client, "a@example.org")
    assert post_login(client, "a@example.org", PASSWORD).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    session.execute(update(LoginSession).values(expires_at=dt.datetime(2000, 1, 1)))
    session.commit()
    assert client.get("/", follow_redirects=False).status_code == 303
    assert post_login(client, "a@example.org", PASSWORD).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    session.expire_all()
    unended = session.scalar(select(func.count()).where(LoginSession.ended_at.is_(None)))
    assert unended == 2  # the expired session and the live one
    with transaction(client.app.state.sessionmaker) as s:  # type: ignore[attr-defined]
        assert disable_user(session=s, email="a@example.org", actor=CLI) == unended
    assert client.get("/", follow_redirects=False).status_code == 303
    # and a disabled account cannot log in again, with the same generic message
    refused = post_login(client, "a@example.org", PASSWORD)
    assert refused.status_code == 400 and error_text(refused) == "Wrong email or password."


def test_tampered_cookie_is_anonymous(client: TestClient) -> None:
    add_user(client, "a@example.org")
    post_login(client, "a@example.org", PASSWORD)
    value = client.cookies.get("mel_session")
    assert value
    client.cookies.set("mel_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_next_parameter_stays_on_this_site(client: TestClient) -> None:
    add_user(client, "a@example.org")
    response = client.post(
        "/login",
        data={
            "email": "a@example.org",
            "password": PASSWORD,
            "csrf_token": form_token(client),
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"
    response = client.get("/login?next=/trainings", follow_redirects=False)  # already logged in: straight there
    assert response.status_code == 303 and response.headers["location"] == "/trainings"


# --- throttling ---------------------------------------------------------------------------


def test_throttle_per_account_from_many_addresses(client: TestClient, settings: Settings, session: Session) -> None:
    add_user(client, "a@example.org")
    assert post_login(client_at(client, "10.1.9.9"), "a@example.org", PASSWORD).status_code == 303  # a known address
    many = settings.login_account_max_addresses
    for n in range(many - 1):
        assert post_login(client_at(client, f"10.1.0.{n}"), "a@example.org", "wrong").status_code == 400
    # failures from fewer addresses than the account-wide limit do not lock the account
    assert post_login(client_at(client, "10.1.1.1"), "a@example.org", PASSWORD).status_code == 303
    for n in range(many):
        assert post_login(client_at(client, f"10.1.2.{n}"), "a@example.org", "wrong").status_code == 400
    # from many addresses: even the right password, from a fresh address, is refused for now
    refused = post_login(client_at(client, "10.1.3.1"), "a@example.org", PASSWORD)
    assert refused.status_code == 429
    minutes = settings.login_account_window_minutes
    assert error_text(refused) == f"Too many attempts. Try again in {minutes} minutes."
    # another account from that address is not affected
    add_user(client, "b@example.org")
    assert post_login(client_at(client, "10.1.3.1"), "b@example.org", PASSWORD).status_code == 303
    # once the failures leave the longer window, the account logs in again from anywhere
    for attempt in session.scalars(select(LoginAttempt)):  # in Python: SQLite has no datetime arithmetic
        attempt.at -= dt.timedelta(minutes=minutes + 1)
    session.commit()
    assert post_login(client_at(client, "10.1.3.2"), "a@example.org", PASSWORD).status_code == 303
    # a stranger cannot lock the user out: an address this account logged in from still works
    for n in range(many):
        assert post_login(client_at(client, f"10.1.4.{n}"), "a@example.org", "wrong").status_code == 400
    assert post_login(client_at(client, "10.1.4.200"), "a@example.org", PASSWORD).status_code == 429
    assert post_login(client_at(client, "10.1.9.9"), "a@example.org", PASSWORD).status_code == 303


def test_throttle_per_address_across_accounts(client: TestClient, settings: Settings) -> None:
    add_user(client, "a@example.org")
    attacker = client_at(client, "10.2.0.1")
    for n in range(settings.login_max_failures):
        assert post_login(attacker, f"guess{n}@example.org", "wrong").status_code == 400
    blocked = post_login(attacker, "a@example.org", PASSWORD)
    assert blocked.status_code == 429
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ minutes\.", error_text(blocked))
    assert post_login(client_at(client, "10.2.0.2"), "a@example.org", PASSWORD).status_code == 303


# --- CSRF and headers ---------------------------------------------------------------------


def test_post_without_or_with_a_wrong_csrf_token_is_refused(
    client: TestClient, login_as: Callable[..., TestClient], session: Session
) -> None:
    client = login_as(client, "officer")
    for data, headers in (({}, {}), ({"csrf_token": "0" * 64}, {}), ({}, {"X-CSRF-Token": "nope"})):
        response = client.post("/account/language", data={"lang": "es", **data}, headers=headers)
        assert response.status_code == 403
    session.expire_all()
    assert session.scalar(select(User.lang).where(User.email == "officer@example.org")) == "en"
    # the header that htmx sends (from <body hx-headers>) is accepted
    body = soup(client.get("/").text).select_one("body")
    assert body is not None
    header = re.search(r'"X-CSRF-Token": "(\w+)"', str(body["hx-headers"]))
    assert header is not None
    response = client.post(
        "/account/language", data={"lang": "es"}, headers={"X-CSRF-Token": header.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.scalar(select(User.lang).where(User.email == "officer@example.org")) == "es"


def test_security_headers_and_no_inline_code(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    pages = [client.get("/login")]
    client = login_as(client, "admin")
    pages += [client.get(url) for url in ("/", "/account", "/admin/audit")]
    for response in pages:
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert response.headers["x-frame-options"] == "DENY"
        page = soup(response.text)
        assert all(script.get("src") or script.get("type") == "application/json" for script in page.select("script"))
        assert page.select("[style]") == [] and page.select("style") == []
        assert not [tag for tag in page.find_all(True) if any(a.startswith("on") for a in tag.attrs)]
    assert "cache-control" not in pages[0].headers or "no-store" not in pages[0].headers["cache-control"]
    assert all(r.headers["cache-control"] == "no-store" for r in pages[1:])
    static = client.get("/static/mel.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in static.headers and "no-store" not in static.headers.get("cache-control", "")
    meta = soup(pages[1].text).select_one("meta[name=htmx-config]")
    assert meta is not None and '"includeIndicatorStyles": false' in str(meta["content"])
