"""Login sessions: a session's cookie carries a random token and only the token's SHA-256 is stored,
so a copy of the database does not let anyone log in."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.auth.models import LoginAttempt, LoginSession, User
from mel.auth.passwords import dummy_hash, verify_password
from mel.auth.service import normalize_email
from mel.auth.throttle import throttle_minutes
from mel.catalog.models import Partner
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.core.settings import Settings


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: a new session token, or why not."""

    token: str | None = None
    user: User | None = None
    throttled_minutes: int = 0

    @property
    def ok(self) -> bool:
        return self.token is not None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    *, session: Session, email: str, password: str, ip: str, settings: Settings, previous_token: str | None = None
) -> LoginResult:
    """Check a login, throttle guessing, and open a new session (ending the previous one)."""
    email = normalize_email(email)[:254]
    now = utcnow()
    wait = throttle_minutes(session, email=email, ip=ip, settings=settings, now=now)
    if wait:
        return LoginResult(throttled_minutes=wait)
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    valid = verify_password(user.password_hash if user else dummy_hash(), password)
    ok = user is not None and user.active and valid
    session.add(LoginAttempt(email=email, ip=ip, success=ok, at=now))
    if not ok or user is None:
        record(
            session,
            actor=Actor(email or "?", None, ip),
            action="login_failed",
            entity="user",
            entity_id=user.id if user else None,
            summary="inactive account" if user is not None and valid else "wrong email or password",
        )
        return LoginResult()
    if previous_token:
        end_session(session=session, token=previous_token, audit=False)
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_hours),
        )
    )
    user.last_login_at = now
    record(session, actor=Actor(user.email, user.id, ip), action="login", entity="user", entity_id=user.id)
    return LoginResult(token=token, user=user)


def end_session(*, session: Session, token: str, actor: Actor | None = None, audit: bool = True) -> None:
    """Log out: the session row is kept (ended), so the token never works again."""
    row = session.scalars(select(LoginSession).where(LoginSession.token_hash == hash_token(token))).one_or_none()
    if row is None or row.ended_at is not None:
        return
    row.ended_at = utcnow()
    if audit and actor is not None:
        record(session, actor=actor, action="logout", entity="user", entity_id=row.user_id)


def visible_partner_ids(session: Session, partner_id: int | None) -> frozenset[int]:
    """A partner's own id and, for a prime, its sub-recipients'."""
    if partner_id is None:
        return frozenset()
    ids = session.scalars(select(Partner.id).where(or_(Partner.id == partner_id, Partner.parent_id == partner_id)))
    return frozenset(ids)


def current_user(session: Session, token: str) -> CurrentUser | None:
    """The user of a live session token, or None (unknown, expired, ended, or disabled)."""
    row = session.execute(
        select(User.id, User.email, User.role, User.lang, User.partner_id)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == hash_token(token),
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    ).one_or_none()
    if row is None:
        return None
    return CurrentUser(
        id=row.id,
        email=row.email,
        role=row.role,
        lang=row.lang,
        partner_id=row.partner_id,
        visible_partner_ids=visible_partner_ids(session, row.partner_id),
    )
