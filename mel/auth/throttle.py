"""Login throttling: how long a new attempt must wait after recent failures (0: it may go ahead)."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from mel.auth.models import LoginAttempt
from mel.core.settings import Settings

KNOWN_ADDRESS_DAYS = 30
"""An address the account logged in from this recently is not locked out by the account-wide throttle."""


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


def throttle_minutes(session: Session, *, email: str, ip: str, settings: Settings, now: dt.datetime) -> int:
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
