"""Accounts and security: throttling, sessions, CSRF, headers, language, audit, partner isolation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.auth.login_sessions import visible_partner_ids
from mel.auth.models import LoginAttempt, LoginSession, User
from mel.auth.scope import visible_partner_filter
from mel.auth.service import DEMO_USERS, create_demo_users, create_user, disable_user
from mel.catalog.models import Partner
from mel.core.audit import CLI, AuditEntry
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.reports.models import Submission
from mel.web.sessions import CSP
from tests.html_soup import soup
from tests.value_factory import add_submission

PASSWORD = "correct-horse-battery"


def add_user(
    client: TestClient, email: str, role: str = "officer", partner: str | None = None, lang: str = "en"
) -> None:
    with transaction(client.app.state.sessionmaker) as s:  # type: ignore[attr-defined]
        create_user(session=s, email=email, password=PASSWORD, role=role, partner_code=partner, actor=CLI, lang=lang)


def form_token(client: TestClient, url: str = "/login") -> str:
    field = soup(client.get(url).text).select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def post_login(client: TestClient, email: str, password: str, **headers: str) -> httpx.Response:
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": form_token(client), "next": "/"},
        headers=headers,
        follow_redirects=False,
    )


def error_text(response: httpx.Response) -> str:
    node = soup(response.text).select_one("form.login .errors")
    assert node is not None
    return node.get_text(strip=True)


def client_at(client: TestClient, ip: str, base_url: str = "http://testserver") -> TestClient:
    """Another browser, on the same app, from address ``ip``."""
    return TestClient(client.app, client=(ip, 50000), base_url=base_url)


def audit_actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


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


# --- account page: language and password --------------------------------------------------


def test_user_language_is_used_after_login(client: TestClient) -> None:
    add_user(client, "es@example.org", role="partner", partner="ilo", lang="es")
    post_login(client, "es@example.org", PASSWORD)
    page = soup(client.get("/").text)
    assert page.html is not None and page.html["lang"] == "es"


def test_change_password_ends_sessions_and_the_new_one_works(client: TestClient, session: Session) -> None:
    add_user(client, "a@example.org")
    post_login(client, "a@example.org", PASSWORD)
    token = form_token(client, "/account")
    bad = client.post(
        "/account/password",
        data={"csrf_token": token, "current": "wrong-one-here", "new": "n" * 12, "repeat": "n" * 12},
    )
    assert bad.status_code == 400
    assert soup(bad.text).select_one(".errors").get_text(strip=True) == "The current password is wrong."
    ok = client.post(
        "/account/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "n" * 12, "repeat": "n" * 12},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    assert post_login(client, "a@example.org", PASSWORD).status_code == 400
    assert post_login(client, "a@example.org", "n" * 12).status_code == 303
    assert "password_change" in audit_actions(session)


# --- audit log ----------------------------------------------------------------------------


def test_audit_records_each_account_change(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    add_user(client, "a@example.org")  # user_add
    post_login(client, "a@example.org", "wrong")  # login_failed
    post_login(client, "a@example.org", PASSWORD)  # login
    client.post("/account/language", data={"lang": "es", "csrf_token": form_token(client, "/account")})  # user_language
    client.post("/logout", data={"csrf_token": form_token(client, "/account")})  # logout
    with transaction(client.app.state.sessionmaker) as s:  # type: ignore[attr-defined]
        disable_user(session=s, email="a@example.org", actor=CLI)  # user_disable
    session.expire_all()
    user_id = session.scalar(select(User.id).where(User.email == "a@example.org"))
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.actor, AuditEntry.user_id, AuditEntry.ip)
        .where(AuditEntry.entity == "user", AuditEntry.entity_id == str(user_id))
        .order_by(AuditEntry.id)
    ).all()
    assert [r.action for r in rows] == ["user_add", "login_failed", "login", "user_language", "logout", "user_disable"]
    assert rows[0].actor == "cli" and rows[0].user_id is None
    assert all(r.actor == "a@example.org" and r.ip == "testclient" for r in rows[1:5])
    assert [r.user_id for r in rows[1:5]] == [None, user_id, user_id, user_id]


def test_audit_page_filters_and_pages(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    with transaction(client.app.state.sessionmaker) as s:  # type: ignore[attr-defined]
        for n in range(60):
            create_user(session=s, email=f"u{n}@example.org", password=PASSWORD, role="evaluator", actor=CLI)
    client = login_as(client, "admin")
    session.expire_all()
    total = session.scalar(select(func.count()).select_from(AuditEntry))
    adds = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user_add"))
    assert adds == 61  # 60 + the admin
    page = soup(client.get("/admin/audit").text)
    assert page.select_one("form.audit-filters") is not None
    assert page.select_one(".audit-entries .count").get_text(strip=True) == str(total)
    assert len(page.select("tr.entry")) == 50
    second = soup(client.get("/admin/audit?page=2").text)
    assert len(second.select("tr.entry")) == total - 50
    # the htmx filter: only the entries block comes back
    fragment = client.get("/admin/audit?action=login", headers={"HX-Request": "true"})
    part = soup(fragment.text)
    assert part.select_one("html") is None and part.select_one("form.audit-filters") is None
    assert [tr["data-action"] for tr in part.select("tr.entry")] == ["login"]
    by_actor = soup(client.get("/admin/audit?actor=ADMIN@example").text)
    assert [tr["data-action"] for tr in by_actor.select("tr.entry")] == ["login"]
    u59 = session.scalar(select(User.id).where(User.email == "u59@example.org"))
    by_entity = soup(client.get(f"/admin/audit?entity=user&entity_id={u59}").text)
    assert [tr.select_one(".summary").get_text(strip=True) for tr in by_entity.select("tr.entry")] == [
        "u59@example.org (evaluator)"
    ]
    today = dt.datetime.now(dt.UTC).date()
    future = soup(client.get(f"/admin/audit?from={today + dt.timedelta(days=2)}").text)
    assert future.select("tr.entry") == []
    bounded = soup(client.get(f"/admin/audit?from={today - dt.timedelta(days=1)}&to={today}&entity=user").text)
    users = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "user"))
    assert bounded.select_one(".count").get_text(strip=True) == str(users)


# --- partner isolation --------------------------------------------------------------------


def test_visible_partner_filter(session: Session) -> None:
    ids = {code: pid for code, pid in session.execute(select(Partner.code, Partner.id))}
    for code in ("ilo", "chs", "aba-roli"):
        add_submission(session, partner=code, period="2021Q1", values=[])
    session.flush()

    def seen(user: CurrentUser) -> set[str]:
        rows = session.scalars(
            select(Partner.code)
            .join(Submission, Submission.partner_id == Partner.id)
            .where(visible_partner_filter(user, Submission.partner_id))
        )
        return set(rows)

    subs_of_ilo = set(session.scalars(select(Partner.id).where(Partner.parent_id == ids["ilo"])))
    prime = CurrentUser(1, "p@x", "partner", "en", ids["ilo"], frozenset({ids["ilo"], *subs_of_ilo}))
    sub = CurrentUser(2, "s@x", "partner", "en", ids["chs"], frozenset({ids["chs"]}))
    officer = CurrentUser(3, "o@x", "officer", "en")
    assert seen(prime) == {"ilo", "chs"}
    assert seen(sub) == {"chs"}
    assert seen(officer) == {"ilo", "chs", "aba-roli"}


def test_login_computes_visible_partners(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    ids = {code: pid for code, pid in session.execute(select(Partner.code, Partner.id))}
    subs = {code for code, pid in ids.items() if session.get(Partner, pid).parent_id == ids["ilo"]}  # type: ignore[union-attr]
    assert subs == {"chs", "idl"}
    assert visible_partner_ids(session, ids["ilo"]) == {ids["ilo"], ids["chs"], ids["idl"]}
    assert visible_partner_ids(session, ids["chs"]) == {ids["chs"]}


def _submission_routes(client: TestClient) -> list[str]:
    from tests.test_route_policy import route_table

    return sorted(
        {
            path
            for method, path, _r, _p in route_table(client.app)  # type: ignore[arg-type]
            if method == "GET" and re.search(r"/submissions?/\{\w+\}(/file)?$", path) and not path.startswith("/api/")
        }  # the token API's submissions: tests/test_api_disclosure.py
    )


def test_guessed_submission_of_another_partner_is_404(
    client: TestClient, session: Session, login_as: Callable[..., TestClient]
) -> None:
    routes = _submission_routes(client)
    assert routes, "the submission page and its file are routes of the app"
    other = add_submission(session, partner="aba-roli", period="2021Q1", values=[])
    own = add_submission(session, partner="chs", period="2021Q1", values=[])
    session.commit()
    client = login_as(client, "partner", partner="ilo")
    for path in routes:
        url = re.sub(r"\{\w+\}", str(other.id), path)
        assert client.get(url).status_code == 404, url
        if not path.endswith("/file"):  # (the factory stores no file bytes to download)
            assert client.get(re.sub(r"\{\w+\}", str(own.id), path)).status_code == 200, path


# --- demo users ---------------------------------------------------------------------------


def test_demo_users_can_log_in(client: TestClient, session: Session) -> None:
    with transaction(client.app.state.sessionmaker) as s:  # type: ignore[attr-defined]
        users = create_demo_users(s)
    with transaction(client.app.state.sessionmaker) as s:  # type: ignore[attr-defined]
        again = create_demo_users(s)  # idempotent: the demo can run twice
    assert users == again
    assert {role for _e, role, _p in users} == {"admin", "officer", "evaluator", "partner"}
    assert len(users) == len(DEMO_USERS)
    for n, (email, _role, password) in enumerate(users):
        browser = client_at(client, f"10.3.0.{n}")
        assert post_login(browser, email, password).status_code == 303, email
        assert browser.get("/", follow_redirects=False).status_code == 200
    langs = {email: lang for email, lang in session.execute(select(User.email, User.lang))}
    joined = select(User.email, Partner.code).join(Partner, Partner.id == User.partner_id)
    partners = {email: code for email, code in session.execute(joined)}
    assert langs["ilo@demo.mel"] == "es" and partners["ilo@demo.mel"] == "ilo"
    assert partners["chs@demo.mel"] == "chs"
