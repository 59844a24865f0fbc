"""Users: every write about accounts goes through one function here.

Passwords are hashed with argon2 (``mel.auth.passwords``); logins and their sessions are
``mel.auth.login_sessions``, their throttling ``mel.auth.throttle``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mel.auth.models import ROLES, LoginAttempt, LoginSession, User
from mel.auth.passwords import hash_password, verify_password
from mel.auth.throttle import throttle_minutes
from mel.catalog.models import Partner
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.core.settings import Settings

MIN_PASSWORD = 10


class AccountError(ValueError):
    """A refused account change (unknown role or partner, duplicate email, weak password)."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")


def _partner_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    pid = session.scalar(select(Partner.id).where(Partner.code == code))
    if pid is None:
        raise AccountError(f"unknown partner {code!r}")
    return pid


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: str,
    partner_code: str | None = None,
    actor: Actor,
    lang: str = "en",
    name: str | None = None,
) -> User:
    """Create an account; partner users must name their organization and only they may."""
    email = normalize_email(email)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if (role == "partner") != (partner_code is not None):
        raise AccountError("partner users need --partner, and only partner users have one")
    if lang not in ("en", "es"):
        raise AccountError(f"unknown language {lang!r} (en or es)")
    if "@" not in email:
        raise AccountError(f"not an email address: {email!r}")
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user {email} already exists")
    user = User(
        email=email,
        name=name,
        role=role,
        partner_id=_partner_id(session, partner_code),
        password_hash=hash_password(password),
        lang=lang,
        active=True,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user_add",
        entity="user",
        entity_id=user.id,
        summary=f"{email} ({role}{', ' + partner_code if partner_code else ''})",
        after={"email": email, "role": role, "partner": partner_code, "lang": lang},
    )
    return user


def disable_user(*, session: Session, email: str, actor: Actor) -> int:
    """Disable an account and end its open sessions; returns the number of sessions ended."""
    user = session.scalars(select(User).where(User.email == normalize_email(email))).one_or_none()
    if user is None:
        raise AccountError(f"no user {email}")
    user.active = False
    ended = len(
        session.scalars(
            update(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
            .returning(LoginSession.id)
        ).all()
    )
    record(
        session,
        actor=actor,
        action="user_disable",
        entity="user",
        entity_id=user.id,
        summary=f"{user.email} disabled, {ended} session(s) ended",
        before={"active": True},
        after={"active": False},
    )
    return ended


@dataclass(frozen=True)
class PasswordChange:
    """The outcome of a password change: ``changed``, or why not (and for how long, when throttled)."""

    outcome: Literal["changed", "too_short", "wrong_current", "throttled"]
    throttled_minutes: int = 0


def change_password(
    *, session: Session, user_id: int, current: str, new: str, actor: Actor, settings: Settings
) -> PasswordChange:
    """Change one's own password (the current one is asked again); other sessions end.

    A stolen session must not become a password-guessing oracle: the check of the current password
    is throttled like a login of this account from this address, and a wrong one counts as a failed
    login and is written to the audit log. Returns (does not raise) so the caller commits that record.
    """
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    ip = actor.ip or "unknown"
    wait = throttle_minutes(session, email=user.email, ip=ip, settings=settings, now=utcnow())
    if wait:
        return PasswordChange("throttled", wait)
    if len(new) < MIN_PASSWORD:
        return PasswordChange("too_short")
    if not verify_password(user.password_hash, current):
        session.add(LoginAttempt(email=user.email, ip=ip, success=False, at=utcnow()))
        record(
            session,
            actor=actor,
            action="password_change_failed",
            entity="user",
            entity_id=user.id,
            summary="wrong current password",
        )
        return PasswordChange("wrong_current")
    user.password_hash = hash_password(new)
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    record(session, actor=actor, action="password_change", entity="user", entity_id=user.id, summary=user.email)
    return PasswordChange("changed")


def set_language(*, session: Session, user_id: int, lang: str, actor: Actor) -> None:
    """Store a user's interface language."""
    if lang not in ("en", "es"):
        raise AccountError(f"unknown language {lang!r}")
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    before = user.lang
    user.lang = lang
    record(
        session,
        actor=actor,
        action="user_language",
        entity="user",
        entity_id=user.id,
        before={"lang": before},
        after={"lang": lang},
    )


DEMO_PASSWORD = "demo-password"
DEMO_USERS: tuple[tuple[str, str, str | None, str], ...] = (
    ("admin@demo.mel", "admin", None, "en"),
    ("officer@demo.mel", "officer", None, "en"),
    ("evaluator@demo.mel", "evaluator", None, "en"),
    ("aba-roli@demo.mel", "partner", "aba-roli", "en"),
    ("ilo@demo.mel", "partner", "ilo", "es"),
    ("chs@demo.mel", "partner", "chs", "es"),
)


def create_demo_users(session: Session) -> list[tuple[str, str, str]]:
    """The demo's accounts (fixed, documented demo passwords): one per role, a Spanish prime, a sub-recipient."""
    from mel.core.audit import CLI

    created = []
    for email, role, partner, lang in DEMO_USERS:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(
                session=session,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                partner_code=partner,
                actor=CLI,
                lang=lang,
            )
        created.append((email, role, DEMO_PASSWORD))
    return created
