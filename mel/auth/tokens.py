"""Personal access tokens for the API: created and revoked on ``/account``, shown once, stored hashed.

A token is ``mel_`` followed by 32 random bytes (URL-safe base64); only its SHA-256 is stored, as for
login sessions, so a copy of the database does not let anyone call the API. A token carries scopes
(``read``, ``submit``), always expires, records its last use, and stops at once when it is revoked or
its user is disabled (every request looks the user up again). Every use is written to the audit log;
those audit rows are also what the per-token throttle counts, so the limit holds across processes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mel.auth.identity import CurrentUser
from mel.auth.login_sessions import hash_token, visible_partner_ids
from mel.auth.models import User
from mel.core.audit import Actor, AuditEntry, record
from mel.core.db import Base, utcnow
from mel.core.i18n import N_

SCOPES = ("read", "submit")
TOKEN_PREFIX = "mel_"
USE_ACTION = "api.request"
MAX_NAME = 100


class ApiToken(Base):
    """One personal access token (its hash) of one user."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("scopes IN ('read', 'submit', 'read submit')", name="scopes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the token, shown on the account page so that its owner can tell tokens apart."""
    scopes: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def active(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class TokenError(ValueError):
    """A refused token change; the message is an English sentence marked for translation."""


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is shown once and never again."""

    id: int
    secret: str
    expires_at: dt.datetime


def create_token(
    *, session: Session, user_id: int, name: str, scopes: list[str], days: int, max_days: int, actor: Actor
) -> NewToken:
    """Create a token for ``user_id``; ``submit`` needs a role that may upload reports."""
    name = " ".join(name.split())[:MAX_NAME]
    chosen = [s for s in SCOPES if s in scopes]
    if not name:
        raise TokenError(N_("Give the token a name (what will use it)."))
    if not chosen or set(scopes) - set(SCOPES):
        raise TokenError(N_("Choose the token's scopes: read, submit or both."))
    if not 1 <= days <= max_days:
        raise TokenError(N_("A token expires after 1 to {max_days} days."))
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise TokenError(N_("No such account."))
    if "submit" in chosen and user.role == "evaluator":
        raise TokenError(N_("Evaluators read through the API; they submit no reports."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        scopes=" ".join(chosen),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor=actor,
        action="api_token.create",
        entity="api_token",
        entity_id=token.id,
        summary=f"{name} ({token.scopes}, {days} days)",
        after={
            "name": name,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat(),
            "prefix": token.prefix,
        },
    )
    return NewToken(token.id, secret, token.expires_at)


def revoke_token(*, session: Session, user_id: int, token_id: int, actor: Actor) -> bool:
    """Revoke one of ``user_id``'s own tokens; False when there is no such live token of theirs."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    record(
        session,
        actor=actor,
        action="api_token.revoke",
        entity="api_token",
        entity_id=token.id,
        summary=token.name,
        before={"revoked": False},
        after={"revoked": True},
    )
    return True


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first (revoked and expired ones too: the account page shows their state)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


@dataclass(frozen=True)
class TokenUse:
    """The outcome of presenting a token: the user and the token's scopes, or why not."""

    user: CurrentUser | None = None
    token_id: int | None = None
    scopes: tuple[str, ...] = ()
    throttled_seconds: int = 0


def use_token(*, session: Session, secret: str, ip: str, method: str, path: str, limit_per_minute: int) -> TokenUse:
    """Check a presented token, throttle it, and record the use (audit entry, last use).

    Unknown, expired and revoked tokens and tokens of disabled users give an empty ``TokenUse``.
    The throttle counts this token's audited uses of the last minute.
    """
    now = utcnow()
    row = session.execute(
        select(ApiToken, User.email, User.role, User.lang, User.partner_id)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == hash_token(secret),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            User.active.is_(True),
        )
    ).one_or_none()
    if row is None:
        return TokenUse()
    token, email, role, lang, partner_id = row
    since = now - dt.timedelta(minutes=1)
    recent = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == USE_ACTION,
            AuditEntry.entity == "api_token",
            AuditEntry.entity_id == str(token.id),
            AuditEntry.at > since,
        )
    )
    user = CurrentUser(
        id=token.user_id,
        email=email,
        role=role,
        lang=lang,
        partner_id=partner_id,
        visible_partner_ids=visible_partner_ids(session, partner_id),
    )
    if (recent or 0) >= limit_per_minute:
        oldest = session.scalar(
            select(func.min(AuditEntry.at)).where(
                AuditEntry.action == USE_ACTION,
                AuditEntry.entity == "api_token",
                AuditEntry.entity_id == str(token.id),
                AuditEntry.at > since,
            )
        )
        wait = 60 - int((now - oldest).total_seconds()) if oldest else 60
        return TokenUse(user, token.id, tuple(token.scope_list), throttled_seconds=max(1, wait))
    token.last_used_at = now
    token.last_used_ip = ip
    record(
        session,
        actor=Actor(email, token.user_id, ip, role=role),
        action=USE_ACTION,
        entity="api_token",
        entity_id=token.id,
        summary=f"{method} {path}"[:500],
    )
    return TokenUse(user, token.id, tuple(token.scope_list))
