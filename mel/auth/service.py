"""Users and login sessions: every write about accounts goes through one function here.

Passwords are hashed with argon2; a session's cookie carries a random token and only the token's
SHA-256 is stored, so a copy of the database does not let anyone log in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.auth.models import ROLES, LoginAttempt, LoginSession, User
from mel.catalog.models import Partner
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.core.settings import Settings

FAST_HASH_ENV = "MEL_TEST_FAST_PASSWORD_HASH"
"""Set to 1 by test suites only: argon2 at its lowest cost, so that a hundred logins do not take minutes.
Hashes made either way verify either way (the cost is stored in each hash)."""
HASHER = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get(FAST_HASH_ENV) == "1"
    else PasswordHasher()
)
MIN_PASSWORD = 10
KNOWN_ADDRESS_DAYS = 30
"""An address the account logged in from this recently is not locked out by the account-wide throttle."""


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so both answers take the same time.

    Made at the first login, not at import: every command and worker that imports this module
    would otherwise pay for an argon2 hash it never uses."""
    return HASHER.hash("not-a-real-password")


class AccountError(ValueError):
    """A refused account change (unknown role or partner, duplicate email, weak password)."""


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
        password_hash=HASHER.hash(password),
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
    wait = _throttle_minutes(session, email=user.email, ip=ip, settings=settings, now=utcnow())
    if wait:
        return PasswordChange("throttled", wait)
    if len(new) < MIN_PASSWORD:
        return PasswordChange("too_short")
    if not _verify(user.password_hash, current):
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
    user.password_hash = HASHER.hash(new)
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


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _wait(times: list[dt.datetime], limit: int, window: dt.timedelta, now: dt.datetime) -> int:
    """Minutes until the oldest of the last ``limit`` failures leaves the window (0: not throttled)."""
    if len(times) < limit:
        return 0
    free_at = min(times) + window
    return max(1, math.ceil((free_at - now).total_seconds() / 60))


def _last_success(session: Session, email: str) -> dt.datetime | None:
    return session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.email == email, LoginAttempt.success.is_(True))
    )


def _recent_failures(
    session: Session, *conditions: ColumnElement[bool], since: dt.datetime, limit: int
) -> list[dt.datetime]:
    return list(
        session.scalars(
            select(LoginAttempt.at)
            .where(*conditions, LoginAttempt.success.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        )
    )


def _throttle_minutes(session: Session, *, email: str, ip: str, settings: Settings, now: dt.datetime) -> int:
    """Minutes until a new attempt is allowed (0: allowed now).

    Three limits: failures from one address (any account), failures on one account from one
    address, and, so that a stranger cannot lock a user out from a single address, an account-wide
    limit that counts distinct failing addresses over a longer window. The account-wide limit does
    not apply to an address this account has logged in from in the last ``KNOWN_ADDRESS_DAYS``.
    """
    window = dt.timedelta(minutes=settings.login_window_minutes)
    account_window = dt.timedelta(minutes=settings.login_account_window_minutes)
    limit = settings.login_max_failures
    last_success = _last_success(session, email)

    def account_since(start: dt.datetime) -> dt.datetime:
        return max(start, last_success) if last_success is not None else start

    waits = [
        _wait(_recent_failures(session, LoginAttempt.ip == ip, since=now - window, limit=limit), limit, window, now),
        _wait(
            _recent_failures(
                session,
                LoginAttempt.email == email,
                LoginAttempt.ip == ip,
                since=account_since(now - window),
                limit=limit,
            ),
            limit,
            window,
            now,
        ),
    ]
    since = account_since(now - account_window)
    rows = session.execute(
        select(LoginAttempt.ip, func.max(LoginAttempt.at))
        .where(LoginAttempt.email == email, LoginAttempt.success.is_(False), LoginAttempt.at > since)
        .group_by(LoginAttempt.ip)
    ).all()
    known = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.email == email,
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(True),
            LoginAttempt.at > now - dt.timedelta(days=KNOWN_ADDRESS_DAYS),
        )
    )
    if len(rows) >= settings.login_account_max_addresses and not known:
        # free once enough addresses' latest failures leave the long window
        latest = sorted((at for _ip, at in rows), reverse=True)[: settings.login_account_max_addresses]
        waits.append(_wait(latest, settings.login_account_max_addresses, account_window, now))
    return max(waits)


def login(
    *, session: Session, email: str, password: str, ip: str, settings: Settings, previous_token: str | None = None
) -> LoginResult:
    """Check a login, throttle guessing, and open a new session (ending the previous one)."""
    email = normalize_email(email)[:254]
    now = utcnow()
    wait = _throttle_minutes(session, email=email, ip=ip, settings=settings, now=now)
    if wait:
        return LoginResult(throttled_minutes=wait)
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    valid = _verify(user.password_hash if user else _dummy_hash(), password)
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
