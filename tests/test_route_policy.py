"""Every route declares who may call it, and the server enforces it for every role.

The routes are discovered from the app itself, so a route added anywhere is checked here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from mel.auth.identity import PUBLIC
from mel.core.audit import AuditEntry
from mel.core.settings import Settings
from mel.web.app import create_app
from mel.web.policy import Allow
from mel.web.sessions import API_PREFIX, SECURITY_HEADERS, csrf_protect
from tests.html_soup import soup
from tests.value_factory import add_submission

ROLES = ("anonymous", "admin", "officer", "evaluator", "partner")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# values for path parameters, as in the demo (peru-cpc); anything else gets "1"
PATH_VALUES = {
    "code": "peru-cpc",
    "partnership": "peru-cpc",
    "partner": "ilo",
    "indicator": "1.1.a",
    "period": "2021Q1",
    "quarter": "2021Q1",
    "path": "mel.css",
}


def api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) of every route as the app serves it (included routers resolved, through mounts).

    Static files are public and skipped. A route is yielded with its effective dependencies, so the
    app-wide ones (CSRF) are visible next to the route's own.
    """
    for ctx in iter_route_contexts(routes):
        original = ctx.original_route
        if isinstance(original, Mount):
            if isinstance(original.app, StaticFiles):
                continue
            yield from api_routes(list(original.routes), prefix + original.path)
        else:
            yield prefix + (ctx.path or "?"), ctx


def policies(dependant: Dependant) -> list[Allow]:
    """Every ``Allow`` among a route's dependencies, however deeply nested."""
    found = [dependant.call] if isinstance(dependant.call, Allow) else []
    for sub in dependant.dependencies:
        found.extend(policies(sub))
    return [p for p in found if isinstance(p, Allow)]


def calls(dependant: Dependant) -> set[object]:
    out = {dependant.call}
    for sub in dependant.dependencies:
        out |= calls(sub)
    return out


def route_table(app: FastAPI) -> list[tuple[str, str, Any, Allow]]:
    """(method, path, route, policy) for every method of every route."""
    table = []
    for path, route in api_routes(list(app.routes)):
        assert isinstance(route.original_route, APIRoute), f"{path}: not an API route, cannot declare a policy"
        found = policies(route.dependant)
        assert len(found) == 1, f"{path}: {len(found)} Allow policies"
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                table.append((method, path, route, found[0]))
    return table


def test_every_route_declares_exactly_one_policy(settings: Settings) -> None:
    app = create_app(settings)
    try:
        missing = []
        for path, route in api_routes(list(app.routes)):
            if not isinstance(route.original_route, APIRoute) or len(policies(route.dependant)) != 1:
                missing.append(path)
        assert missing == [], f"routes without exactly one Allow(...) policy: {missing}"
        assert len(route_table(app)) >= 5
    finally:
        app.state.engine.dispose()


def test_every_state_changing_route_checks_csrf(settings: Settings) -> None:
    app = create_app(settings)
    try:
        unprotected = [
            path
            for method, path, route, _ in route_table(app)
            if method in STATE_CHANGING and csrf_protect not in calls(route.dependant)
        ]
        assert unprotected == []
    finally:
        app.state.engine.dispose()


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def csrf_of(client: TestClient, role: str) -> str:
    page = client.get("/login" if role == "anonymous" else "/account")
    field = soup(page.text).select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def audit_snapshot(session: Session) -> dict[int, tuple[object, ...]]:
    session.expire_all()
    rows = session.execute(
        select(
            AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id, AuditEntry.summary
        )
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_its_policy_allows(
    client: TestClient, session: Session, login_as: Callable[..., TestClient], role: str
) -> None:
    def log_in() -> None:
        if role != "anonymous":
            login_as(client, role, partner="ilo" if role == "partner" else None)

    # a submission of the partner user's own organization, so submission pages really render
    submission = add_submission(session, partner="ilo", period="2021Q1", values=[], status="submitted")
    session.commit()
    values = {**PATH_VALUES, "submission_id": str(submission.id)}
    log_in()
    app: FastAPI = client.app  # type: ignore[assignment]
    before = audit_snapshot(session)
    checked = 0
    # logging out last, so the session holds for every other route
    table = sorted(route_table(app), key=lambda row: (row[1] == "/logout", row[1], row[0]))
    for method, path, _route, policy in table:
        url = fill(path, values)
        allowed = policy.public or role in policy.roles
        if path.startswith(API_PREFIX):
            # the token API: a session cookie never authorizes it, whatever the role (tokens per role
            # and scope: tests/test_api_access.py)
            response = client.request(method, url, follow_redirects=False)
            assert response.status_code == 401, f"{role} {method} {path} -> {response.status_code}"
            checked += 1
            continue
        if method == "GET":
            response = client.request(method, url, follow_redirects=False)
        else:
            count = len(audit_snapshot(session))
            response = client.request(method, url, data={"csrf_token": csrf_of(client, role)}, follow_redirects=False)
            assert len(audit_snapshot(session)) >= count, f"{method} {path} removed audit entries"
        where = f"{role} {method} {path} -> {response.status_code}"
        to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
        if allowed:
            assert response.status_code != 403, where
            assert not (to_login and path not in ("/logout", "/login", "/account/password")), where
        elif role == "anonymous":
            assert to_login, where
        else:
            assert response.status_code == 403, where
        if response.headers.get("content-type", "").startswith("text/html"):
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, f"{where}: {name}"
            if role != "anonymous" and response.status_code == 200:
                assert response.headers.get("cache-control") == "no-store", where
        checked += 1
        if (
            method != "GET"
            and role != "anonymous"
            and client.get("/account", follow_redirects=False).status_code != 200
        ):
            log_in()  # the request ended the session (logout, password change): log in again
    assert checked == len(table)
    after = audit_snapshot(session)
    assert {k: after.get(k) for k in before} == before, "an audit entry was changed or deleted"


def test_public_routes_are_only_the_login(settings: Settings) -> None:
    app = create_app(settings)
    try:
        public = sorted({path for _m, path, _r, policy in route_table(app) if PUBLIC in policy.roles})
        assert public == ["/login"]
    finally:
        app.state.engine.dispose()


NAV_ROUTES = {
    "/quality": "quality_home",
    "/reports": "reports_home",
    "/measurements": "measurements_home",
    "/admin/audit": "admin_audit",
    "/p/peru-cpc/comparison": "comparison",
    "/p/peru-cpc/context": "context_events",
}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_the_navigation_links_exactly_the_pages_the_role_may_open(
    client: TestClient, login_as: Callable[..., TestClient], role: str
) -> None:
    """The menus show a page's link when, and only when, its route's policy lets the viewer open it."""
    login_as(client, role, partner="ilo" if role == "partner" else None)
    app: FastAPI = client.app  # type: ignore[assignment]
    policy = {
        route.name: found[0] for _path, route in api_routes(list(app.routes)) if (found := policies(route.dependant))
    }
    page = soup(client.get("/p/peru-cpc").text)
    linked = {urlsplit(str(a["href"])).path for a in page.select("header a[href], nav a[href]")}
    for href, name in NAV_ROUTES.items():
        allowed = role in policy[name].roles
        assert (href in linked) == allowed, f"{role}: {href} linked={href in linked}, policy allows={allowed}"
        assert (client.get(href, follow_redirects=False).status_code != 403) == allowed, href
