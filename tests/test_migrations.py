"""Alembic is the only source of schema: upgrade, downgrade and check on every backend."""

from __future__ import annotations

from sqlalchemy import inspect

from mel.core import migrate
from mel.core.db import make_engine
from mel.models import Base


def test_upgrade_downgrade_check(empty_db_url: str) -> None:
    migrate.check(empty_db_url)  # raises when models and migrations disagree
    engine = make_engine(empty_db_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
    migrate.downgrade(empty_db_url, "base")
    engine = make_engine(empty_db_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(empty_db_url)
    migrate.check(empty_db_url)
