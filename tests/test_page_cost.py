"""What a page view costs the server: no password hashing (argon2 is for logins only), compressed answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

import mel.auth.passwords as passwords

PAGES = [
    "/",
    "/p/peru-cpc",
    "/p/peru-cpc/theory-of-change",
    "/p/peru-cpc/indicators/1.1.a",
    "/p/peru-cpc/iptt?granularity=quarter",
    "/p/peru-cpc/iptt.xlsx",
    "/p/peru-cpc/trainings",
    "/reports",
]


class NoHashing:
    """Stands for the argon2 hasher: any use fails the test."""

    def hash(self, *_args: object) -> str:
        raise AssertionError("argon2 ran on a page view")

    def verify(self, *_args: object) -> bool:
        raise AssertionError("argon2 ran on a page view")


def test_page_views_never_hash_a_password(
    client: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = login_as(client, "officer")  # the login itself verifies with argon2, as it must
    monkeypatch.setattr(passwords, "HASHER", NoHashing())
    for path in PAGES:
        for _ in range(2):  # computed, then from the figure store
            response = officer.get(path, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200, path
            if not path.endswith(".xlsx"):
                assert response.headers.get("content-encoding") == "gzip", path
