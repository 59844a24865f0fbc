"""Dependencies shared by every route, defined once as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from mel.auth.identity import PUBLIC, READERS, STAFF, CurrentUser
from mel.catalog.models import Partnership
from mel.core.settings import Settings
from mel.results.disclosure import partnership_visible
from mel.results.store import partnership_graph, stored_partnership
from mel.web.policy import Allow, NotLoggedIn


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_lang(request: Request) -> str:
    lang: str = request.state.lang
    return lang


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LangDep = Annotated[str, Depends(get_lang)]


# Route policies (see mel.web.policy): a route takes one of these as its ``user`` parameter.
AnyUser = Annotated[CurrentUser, Depends(Allow(*READERS))]
StaffUser = Annotated[CurrentUser, Depends(Allow(*STAFF))]
AdminUser = Annotated[CurrentUser, Depends(Allow("admin"))]
PartnerUser = Annotated[CurrentUser, Depends(Allow("partner"))]
EvaluatorOrStaff = Annotated[CurrentUser, Depends(Allow("admin", "officer", "evaluator"))]
PartnerOrStaff = Annotated[CurrentUser, Depends(Allow("admin", "officer", "partner"))]
"""Submissions and their files: evaluators read approved figures through the pages, not reports."""
PublicUser = Annotated[CurrentUser | None, Depends(Allow(PUBLIC))]


def partnership_of_path(request: Request, session: SessionDep, code: str) -> Partnership:
    """The partnership named by the path's ``{code}``, if the logged-in user may see it.

    A partner user's other partnerships answer 404, the same as an unknown code, so a guessed code
    tells nothing. The route's own ``Allow`` policy still decides the role; this needs a login only.
    The graph comes from the figure store (one load per data version, not per request), merged into
    the request's session.
    """
    return visible_partnership(session, _logged_in(request), code)


def shared_partnership_of_path(request: Request, session: SessionDep, code: str) -> Partnership:
    """As ``partnership_of_path`` (the same login and visibility check), but the stored graph itself:
    no merge into the request's session, the costliest step of a stored page."""
    return visible_partnership(session, _logged_in(request), code, shared=True)


def _logged_in(request: Request) -> CurrentUser:
    user: CurrentUser | None = getattr(request.state, "user", None)
    if user is None:
        raise NotLoggedIn()
    return user


def visible_partnership(session: Session, user: CurrentUser, code: str, *, shared: bool = False) -> Partnership:
    """The partnership ``code`` as ``user`` may see it, else 404 (unknown and hidden alike).

    ``shared``: the detached graph every request shares (``partnership_graph``: read it, never change
    it), else a copy of ``session``'s own (``stored_partnership``)."""
    partnership = (partnership_graph if shared else stored_partnership)(session, code)
    if partnership is None or not partnership_visible(session, user, partnership):
        raise HTTPException(status_code=404)
    return partnership


PartnershipDep = Annotated[Partnership, Depends(partnership_of_path)]
"""The partnership of a ``/p/{code}/...`` route, loaded and checked once for every such route, as
objects of the request's session: for routes that change data or load more than the framework."""

SharedPartnership = Annotated[Partnership, Depends(shared_partnership_of_path)]
"""The partnership of a read-only ``/p/{code}/...`` page, checked as ``PartnershipDep`` is, as the
framework graph shared by every request (``mel.results.store.partnership_graph``): read it, never
change it, and never add it to a session (``mel.results.frozen`` raises on either; ``PartnershipDep``
is the copy to change). Every relationship in the graph is loaded; anything beyond it is queried by id."""
