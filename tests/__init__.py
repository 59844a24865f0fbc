import os

# Before any mel module is imported: argon2 at its lowest cost in tests (mel.auth.passwords.FAST_HASH_ENV);
# servers the browser journeys start inherit it.
os.environ.setdefault("MEL_TEST_FAST_PASSWORD_HASH", "1")
