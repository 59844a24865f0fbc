"""Dependencies shared by every route, defined once as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mel.auth.identity import PUBLIC, READERS, STAFF, CurrentUser
from mel.core.settings import Settings
from mel.web.policy import Allow


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
