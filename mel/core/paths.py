"""Where the project's data directories live, in a checkout and in an installed wheel.

A wheel carries templates/, migrations/, indicators/ and alembic.ini under ``mel/_data``;
an editable checkout keeps them at the repository root. Both must work.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
_BUNDLED = PACKAGE_DIR / "_data"
_REPO = PACKAGE_DIR.parent


def _resource(name: str) -> Path:
    bundled = _BUNDLED / name
    return bundled if bundled.exists() else _REPO / name


TEMPLATES_DIR = _resource("templates")
MIGRATIONS_DIR = _resource("migrations")
INDICATORS_DIR = _resource("indicators")
ALEMBIC_INI = _resource("alembic.ini")
STATIC_DIR = PACKAGE_DIR / "static"
LOCALE_DIR = PACKAGE_DIR / "locale"
IMPORTS_DIR = _REPO / "imports"
DEMO_DIR = _REPO / "demo"
"""The demo package: in a checkout only, never in a wheel."""
