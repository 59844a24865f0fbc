"""Issue 12, accounts: wrong current passwords are throttled and audited; X-Forwarded-For is believed
only from trusted proxies; `mel serve` warns about the development secret off loopback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.auth.models import LoginAttempt, User
from mel.cli import app as cli
from mel.cli import dev_secret_warning
from mel.core.audit import AuditEntry
from mel.core.settings import DEV_SECRET, Settings
from mel.web.sessions import forwarded_client
from tests.auth_factory import PASSWORD, add_user, client_at, form_token, post_login
from tests.html_soup import soup


def change(client: TestClient, current: str, new: str = "n" * 12) -> Any:
    token = form_token(client, "/account")
    return client.post(
        "/account/password",
        data={"csrf_token": token, "current": current, "new": new, "repeat": new},
        follow_redirects=False,
    )


def error(response: Any) -> str:
    node = soup(response.text).select_one(".errors")
    assert node is not None
    return node.get_text(strip=True)


def test_wrong_current_passwords_are_throttled_and_audited(
    client: TestClient, settings: Settings, session: Session
) -> None:
    add_user(client, "a@example.org")
    browser = client_at(client, "10.5.0.1")
    assert post_login(browser, "a@example.org", PASSWORD).status_code == 303
    for n in range(settings.login_max_failures):
        wrong = change(browser, f"guess-number-{n}")
        assert wrong.status_code == 400
        assert error(wrong) == "The current password is wrong."
    # even the right current password is not checked now: no guessing oracle behind a stolen session
    blocked = change(browser, PASSWORD)
    assert blocked.status_code == 429
    assert error(blocked) == f"Too many attempts. Try again in {settings.login_window_minutes} minutes."
    session.expire_all()
    user = session.scalars(select(User).where(User.email == "a@example.org")).one()
    failures = session.execute(
        select(AuditEntry.actor, AuditEntry.ip, AuditEntry.user_id)
        .where(AuditEntry.action == "password_change_failed", AuditEntry.entity_id == str(user.id))
        .order_by(AuditEntry.id)
    ).all()
    assert failures == [("a@example.org", "10.5.0.1", user.id)] * settings.login_max_failures
    # the password did not change: it still logs in (from an address with no failures)
    assert post_login(client_at(client, "10.5.0.2"), "a@example.org", PASSWORD).status_code == 303
    # once the failures leave the window, the change goes through
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.at -= dt.timedelta(minutes=settings.login_window_minutes + 1)
    session.commit()
    assert change(browser, PASSWORD).status_code == 303
    assert post_login(client_at(client, "10.5.0.3"), "a@example.org", "n" * 12).status_code == 303


def test_login_failures_on_one_account_from_one_address_stop_that_pair_only(
    client: TestClient, settings: Settings
) -> None:
    add_user(client, "a@example.org")
    stranger = client_at(client, "10.6.0.1")
    for _ in range(settings.login_max_failures):
        assert post_login(stranger, "a@example.org", "wrong").status_code == 400
    assert post_login(stranger, "a@example.org", PASSWORD).status_code == 429
    # the user, from their own address, is not locked out by the stranger
    assert post_login(client_at(client, "10.6.0.2"), "a@example.org", PASSWORD).status_code == 303


def recorded_ips(session: Session, email: str) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(LoginAttempt.ip).where(LoginAttempt.email == email).order_by(LoginAttempt.id)))


def test_forwarded_for_is_ignored_without_trusted_proxies(
    client: TestClient, settings: Settings, session: Session
) -> None:
    attacker = client_at(client, "10.7.0.1")
    for n in range(settings.login_max_failures):
        header = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert post_login(attacker, f"guess{n}@example.org", "wrong", **header).status_code == 400
    # a new forged address each time does not escape the per-address throttle
    assert post_login(attacker, "x@example.org", "wrong", **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429
    assert recorded_ips(session, "guess0@example.org") == ["10.7.0.1"]


def test_forwarded_for_is_read_from_trusted_proxies_only(client: TestClient, session: Session) -> None:
    client.app.state.settings.trusted_proxies = "10.8.0.0/16, ::1"  # type: ignore[attr-defined]
    proxy = client_at(client, "10.8.0.1")
    # the client wrote the left part; our proxies appended the rest: the rightmost untrusted one is the client
    post_login(proxy, "p1@example.org", "wrong", **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.8.0.9"})
    assert recorded_ips(session, "p1@example.org") == ["203.0.113.7"]
    post_login(client_at(client, "10.9.0.1"), "p2@example.org", "wrong", **{"X-Forwarded-For": "203.0.113.8"})
    assert recorded_ips(session, "p2@example.org") == ["10.9.0.1"]  # not a trusted proxy: header ignored
    post_login(proxy, "p3@example.org", "wrong", **{"X-Forwarded-For": "not-an-address"})
    assert recorded_ips(session, "p3@example.org") == ["10.8.0.1"]
    audit = session.scalars(
        select(AuditEntry.ip).where(AuditEntry.action == "login_failed", AuditEntry.actor == "p1@example.org")
    ).all()
    assert audit == ["203.0.113.7"]


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.1", "1.1.1.1, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.1", "203.0.113.5, 10.0.0.2", "203.0.113.5"),
        ("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # every hop trusted: the farthest one
        ("10.0.0.1", "203.0.113.5, garbage", "10.0.0.1"),  # a malformed hop stops at the proxy that sent it
        ("192.0.2.1", "203.0.113.5", "192.0.2.1"),  # untrusted peer
        ("10.0.0.1", " 2001:db8::1 ", "2001:db8::1"),
        ("testclient", "203.0.113.5", "testclient"),
    ],
)
def test_forwarded_client(peer: str, header: str | None, expected: str) -> None:
    networks = Settings(trusted_proxies="10.0.0.0/8").trusted_proxy_networks()
    assert forwarded_client(peer, header, networks) == expected


def test_trusted_proxies_setting_is_checked() -> None:
    assert Settings().trusted_proxy_networks() == []
    with pytest.raises(ValidationError):
        Settings(trusted_proxies="10.0.0.300")


# --- mel serve and the development secret ---------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "mel.example.org"])
def test_dev_secret_off_loopback_warns(host: str) -> None:
    warning = dev_secret_warning(Settings(secret_key=DEV_SECRET), host)
    assert warning is not None and "WARNING" in warning and "MEL_SECRET_KEY" in warning and host in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_dev_secret_on_loopback_or_a_real_secret_is_quiet(host: str) -> None:
    assert dev_secret_warning(Settings(secret_key=DEV_SECRET), host) is None
    assert dev_secret_warning(Settings(secret_key="a-real-secret-value"), "0.0.0.0") is None


def test_serve_prints_the_warning_on_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))  # do not actually serve
    monkeypatch.delenv("MEL_SECRET_KEY", raising=False)
    monkeypatch.setenv("MEL_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    monkeypatch.setenv("MEL_UPLOAD_DIR", str(tmp_path / "uploads"))
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "WARNING: mel is serving on 0.0.0.0 with the DEVELOPMENT secret key." in result.stderr
    assert "WARNING" not in result.stdout
    assert calls and calls[0]["proxy_headers"] is False and calls[0]["host"] == "0.0.0.0"
    quiet = CliRunner().invoke(cli, ["serve", "--host", "127.0.0.1", "--port", "8123"])
    assert quiet.exit_code == 0 and "WARNING" not in quiet.stderr
