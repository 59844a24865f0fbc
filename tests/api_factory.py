"""Accounts with personal access tokens for the API tests, made through the real services."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.testclient import TestClient
from sqlalchemy import select

from mel.auth.models import User
from mel.auth.service import create_user
from mel.auth.tokens import create_token
from mel.core.audit import CLI
from mel.core.db import transaction

PASSWORD = "test-password-123"


def bearer(
    client: TestClient,
    role: str,
    *,
    partner: str | None = None,
    scopes: Sequence[str] = ("read",),
    days: int = 30,
    email: str | None = None,
) -> dict[str, str]:
    """The Authorization header of a new token of a ``role`` user (partner users: of ``partner``, default ilo)."""
    if role == "partner" and partner is None:
        partner = "ilo"
    email = email or f"api-{role}{'-' + partner if partner else ''}@example.org"
    with transaction(client.app.state.sessionmaker) as session:  # type: ignore[attr-defined]
        user_id = session.scalar(select(User.id).where(User.email == email))
        if user_id is None:
            user_id = create_user(
                session=session, email=email, password=PASSWORD, role=role, partner_code=partner, actor=CLI
            ).id
        secret = create_token(
            session=session, user_id=user_id, name="test", scopes=list(scopes), days=days, max_days=365, actor=CLI
        ).secret
    return {"Authorization": f"Bearer {secret}"}
