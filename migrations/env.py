"""Alembic environment: the schema's only source. The URL comes from mel's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from mel.core.db import make_engine
from mel.core.settings import Settings
from mel.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or Settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        engine = make_engine(_url())
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
        engine.dispose()
