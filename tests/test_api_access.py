"""Who reaches the token API, and how: tokens' lifecycle, scopes, roles, throttling, and the walls
between tokens and cookies. The route x scope x role matrix walks the app's real route table."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.auth.service import disable_user
from mel.auth.tokens import ApiToken
from mel.core.audit import CLI, AuditEntry
from mel.core.settings import Settings
from mel.web.api.auth import TokenAllow
from mel.web.app import create_app
from mel.web.sessions import API_PREFIX
from tests.api_factory import bearer
from tests.html_soup import soup
from tests.test_route_policy import PATH_VALUES, fill, route_table
from tests.value_factory import add_submission

Login = Callable[..., TestClient]
SHIP = "/api/v1/partnerships/peru-cpc"


def _csrf(page: str) -> str:
    field = soup(page).select_one("form.new-token-form input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def test_token_lifecycle_create_use_revoke(client: TestClient, login_as: Login, session: Session) -> None:
    viewer = login_as(client, "officer")
    page = viewer.get("/account").text
    created = viewer.post(
        "/account/tokens",
        data={"name": "DHIS2 sync", "scopes": ["read", "submit"], "days": "30", "csrf_token": _csrf(page)},
    )
    assert created.status_code == 200
    shown = soup(created.text).select_one("code.secret")
    assert shown is not None
    secret = shown.get_text()
    assert secret.startswith("mel_") and len(secret) > 40
    # shown once: the account page never prints it again, and the database holds only its hash
    again = viewer.get("/account").text
    assert secret not in again
    row = session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in repr(row.__dict__)
    assert row.scopes == "read submit" and row.last_used_at is None
    assert (row.expires_at - row.created_at).days == 30
    # cookies never authorize the API: the logged-in client is refused without the header
    assert viewer.get(f"{API_PREFIX}partnerships").status_code == 401
    viewer.cookies.clear()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API_PREFIX}partnerships", headers=headers).status_code == 200
    session.expire_all()
    used = session.get(ApiToken, row.id)
    assert used is not None and used.last_used_at is not None
    uses = session.scalars(select(AuditEntry).where(AuditEntry.action == "api.request")).all()
    assert [(u.entity_id, u.summary, u.actor) for u in uses] == [
        (str(row.id), "GET /api/v1/partnerships", "officer@example.org")
    ]
    # a bearer token opens no page
    page_answer = client.get("/p/peru-cpc", headers=headers, follow_redirects=False)
    assert page_answer.status_code == 303 and page_answer.headers["location"].startswith("/login")
    # revoked on the account page: refused at once
    login_as(client, "officer")
    page = client.get("/account").text
    form = soup(page).select_one(f"tr[data-token-id='{row.id}'] form.revoke")
    assert form is not None
    revoked = client.post(str(form["action"]), data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert revoked.status_code == 303
    client.cookies.clear()
    refused = client.get(f"{API_PREFIX}partnerships", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    assert "Bearer" in refused.headers["www-authenticate"]
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"api_token.create", "api_token.revoke"} <= actions


def test_expired_tokens_and_disabled_users_stop_at_once(client: TestClient, session: Session) -> None:
    headers = bearer(client, "evaluator")
    assert client.get(f"{API_PREFIX}partnerships", headers=headers).status_code == 200
    session.execute(update(ApiToken).values(expires_at=dt.datetime(2020, 1, 1)))
    session.commit()
    assert client.get(f"{API_PREFIX}partnerships", headers=headers).status_code == 401
    other = bearer(client, "partner", partner="ilo")
    assert client.get(f"{API_PREFIX}partnerships", headers=other).status_code == 200
    disable_user(session=session, email="api-partner-ilo@example.org", actor=CLI)
    session.commit()
    assert client.get(f"{API_PREFIX}partnerships", headers=other).status_code == 401
    assert client.get(f"{API_PREFIX}partnerships").status_code == 401
    assert client.get(f"{API_PREFIX}partnerships", headers={"Authorization": "Bearer mel_forged"}).status_code == 401


def test_token_creation_refusals(client: TestClient, login_as: Login, session: Session) -> None:
    viewer = login_as(client, "evaluator")
    page = viewer.get("/account").text
    assert soup(page).select_one("input[name=scopes][value=submit]") is None
    for data in (
        {"name": "x", "scopes": ["submit"], "days": "30"},  # evaluators submit nothing
        {"name": "", "scopes": ["read"], "days": "30"},
        {"name": "x", "scopes": ["read"], "days": "9999"},
        {"name": "x", "scopes": ["admin"], "days": "30"},
    ):
        answer = viewer.post("/account/tokens", data={**data, "csrf_token": _csrf(page)})
        assert answer.status_code == 400, data
        assert soup(answer.text).select_one("section.tokens .errors") is not None
    assert session.scalars(select(ApiToken)).all() == []
    spanish = viewer.post(
        "/account/tokens?lang=es", data={"name": "", "scopes": ["read"], "days": "30", "csrf_token": _csrf(page)}
    )
    error = soup(spanish.text).select_one("section.tokens .errors")
    assert error is not None and "nombre" in error.get_text().lower()


def test_throttle_per_token(db_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=db_url, upload_dir=tmp_path / "up", secret_key="test-secret", api_requests_per_minute=3
    )
    app = create_app(settings)
    with TestClient(app) as client:
        headers = bearer(client, "officer")
        codes = [client.get(f"{API_PREFIX}partnerships", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        last = client.get(f"{API_PREFIX}partnerships", headers=headers)
        assert last.json()["error"]["code"] == "throttled" and 1 <= int(last.headers["retry-after"]) <= 60
        # another token of the same user has its own allowance
        assert client.get(f"{API_PREFIX}partnerships", headers=bearer(client, "officer")).status_code == 200
    app.state.engine.dispose()


ROLES = ("admin", "officer", "evaluator", "partner")
SCOPES = (("read",), ("submit",), ("read", "submit"))


@pytest.mark.parametrize("role", ROLES)
def test_route_scope_role_matrix(client: TestClient, session: Session, role: str) -> None:
    """Every API route, for every role and scope: allowed exactly when the role and the scope are."""
    submission = add_submission(session, partner="ilo", period="2021Q1", values=[("1.1.a", {}, 3)])
    session.commit()
    values = {**PATH_VALUES, "submission_id": str(submission.id), "job_id": "nope"}
    app: FastAPI = client.app  # type: ignore[assignment]
    table = [row for row in route_table(app) if row[1].startswith(API_PREFIX)]
    assert {p for _m, p, _r, _pol in table} >= {
        f"{API_PREFIX}partnerships",
        f"{API_PREFIX}partnerships/{{code}}/figures",
        f"{API_PREFIX}partnerships/{{code}}/values",
        f"{API_PREFIX}submissions",
        f"{API_PREFIX}reports",
        f"{API_PREFIX}reports/json",
    }
    for scopes in SCOPES:
        if role == "evaluator" and "submit" in scopes:
            continue  # evaluators cannot hold submit tokens (test_token_creation_refusals)
        headers = bearer(client, role, scopes=scopes)
        for method, path, _route, policy in table:
            assert isinstance(policy, TokenAllow), path
            url = fill(path, values)
            response = client.request(method, url, headers=headers)
            where = f"{role} {scopes} {method} {path} -> {response.status_code} {response.text[:200]}"
            allowed = role in policy.roles and policy.scope in scopes
            if allowed:
                assert response.status_code not in (401, 403, 405), where
                assert response.headers["content-type"].startswith("application/json"), where
            else:
                assert response.status_code == 403, where
                code = response.json()["error"]["code"]
                assert code == ("insufficient_scope" if policy.scope not in scopes else "role_refused"), where
            assert "set-cookie" not in response.headers, where


def test_documentation_is_for_logged_in_users_and_local(client: TestClient, login_as: Login) -> None:
    assert client.get("/api/docs", follow_redirects=False).status_code == 303
    assert client.get("/api/openapi.json", follow_redirects=False).status_code == 303
    login_as(client, "partner")
    page = soup(client.get("/api/docs").text)
    scripts = [str(s["src"]) for s in page.select("script[src]")]
    bundle = [s for s in scripts if s.endswith("/vendor/swagger-ui-bundle.js")]  # under a versioned URL
    assert bundle and all(s.startswith("/static/") for s in scripts)
    assert not page.select("script:not([src])"), "inline scripts break the Content-Security-Policy"
    assert client.get(bundle[0]).status_code == 200
    schema = client.get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert f"{API_PREFIX}partnerships/{{code}}/figures" in paths and f"{API_PREFIX}reports/json" in paths
    assert all(p.startswith(API_PREFIX) for p in paths), "pages are not part of the API schema"
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    body = schema["paths"][f"{API_PREFIX}reports/json"]["post"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"cover", "values", "trainings", "narrative"} <= set(schema["components"]["schemas"][ref]["properties"])
    refs = set(re.findall(r'"\$ref": ?"#/components/schemas/([^"]+)"', str(schema).replace("'", '"')))
    assert refs <= set(schema["components"]["schemas"]), "dangling schema references"
