"""Password hashing: argon2, at its lowest cost only when a test suite asks for it.

Every use of the hasher is here, so a test can replace it to prove a page view never hashes.
"""

from __future__ import annotations

import os
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

FAST_HASH_ENV = "MEL_TEST_FAST_PASSWORD_HASH"
"""Set to 1 by test suites only: argon2 at its lowest cost, so that a hundred logins do not take minutes.
Hashes made either way verify either way (the cost is stored in each hash)."""
HASHER = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get(FAST_HASH_ENV) == "1"
    else PasswordHasher()
)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so both answers take the same time.

    Made at the first login, not at import: every command and worker that imports this module
    would otherwise pay for an argon2 hash it never uses."""
    return hash_password("not-a-real-password")


def hash_password(password: str) -> str:
    """The argon2 hash stored for ``password`` (its cost is stored in it)."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
