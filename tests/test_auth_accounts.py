"""Accounts after login: language, password change, the audit log, partner isolation, demo users."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.auth.login_sessions import visible_partner_ids
from mel.auth.models import User
from mel.auth.scope import visible_partner_filter
from mel.auth.service import DEMO_USERS, create_demo_users, create_user, disable_user
from mel.catalog.models import Partner
from mel.core.audit import CLI, AuditEntry
from mel.core.db import transaction
from mel.reports.models import Submission
from tests.auth_factory import PASSWORD, add_user, audit_actions, client_at, form_token, post_login
from tests.html_soup import soup
from tests.value_factory import add_submission

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
