"""Accounts for the auth tests: a user with a known password, the login form, a client at an address."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.service import create_user
from mel.core.audit import CLI, AuditEntry
from mel.core.db import transaction
from tests.html_soup import soup

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
