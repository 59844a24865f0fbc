"""Route policies: every route declares who may call it, and the server checks it on every request.

A route states its policy with one dependency, ``Depends(Allow("officer", "admin"))`` (or the
aliases in ``mel.web.deps``); ``Allow(PUBLIC)`` marks the few routes anyone may call (login, health).
The route table test walks every registered route and fails when one has no ``Allow``.
Scoping to a partner's own data is the service's job, through ``CurrentUser.visible_partner_ids``.
"""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request

from mel.auth.identity import PUBLIC, ROLES, CurrentUser


class NotLoggedIn(Exception):
    """Raised for a page that needs a login; the app turns it into a redirect to the login page."""


class RoleRefused(Exception):
    """Raised when the user's role may not call the route; the app answers 403 with a page that says so."""


class Allow:
    """A route's policy: the roles that may call it (``PUBLIC`` for anyone)."""

    def __init__(self, *roles: str) -> None:
        unknown = set(roles) - {*ROLES, PUBLIC}
        if not roles or unknown:
            raise ValueError(f"a policy names roles from {ROLES} or PUBLIC, got {roles}")
        self.roles = frozenset(roles)

    @property
    def public(self) -> bool:
        return PUBLIC in self.roles

    def allows(self, user: CurrentUser | None) -> bool:
        """Whether ``user`` (None: nobody logged in) passes this policy."""
        return self.public or (user is not None and user.role in self.roles)

    def __call__(self, request: Request) -> CurrentUser | None:
        user: CurrentUser | None = getattr(request.state, "user", None)
        if self.public:
            return user
        if user is None:
            raise NotLoggedIn()
        if user.role not in self.roles:
            raise RoleRefused()
        return user

    def __repr__(self) -> str:
        return f"Allow({', '.join(sorted(self.roles))})"


def _policy_in(dependant: Dependant) -> Allow | None:
    if isinstance(dependant.call, Allow):
        return dependant.call
    return next((p for sub in dependant.dependencies if (p := _policy_in(sub)) is not None), None)


def route_policies(app: Any) -> dict[str, Allow]:
    """Each named route's policy (read once per app): pages show a link when, and only when, its route's
    policy lets the viewer follow it, so the navigation cannot drift from the server's checks."""
    found: dict[str, Allow] | None = getattr(app.state, "route_policies", None)
    if found is None:
        found = {}
        for route in app.routes:
            if isinstance(route, APIRoute) and (policy := _policy_in(route.dependant)) is not None:
                found[route.name] = policy
        app.state.route_policies = found
    return found
