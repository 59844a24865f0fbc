"""Engine, sessions and the declarative base shared by every domain package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BigInteger, Integer, MetaData, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


BigId = BigInteger().with_variant(Integer, "sqlite")
"""Primary keys of the tables that grow with every report: 64-bit on PostgreSQL, rowid on SQLite."""


def utcnow() -> dt.datetime:
    """Now in UTC, naive: how every timestamp column stores time."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: ``column`` takes one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine with SQLite made safe for a web server: WAL, foreign keys, a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose committed changes to figures bump their partnership's data version."""
    from mel.core.versions import track  # not at the top: mel.core.versions maps its table on Base

    factory = sessionmaker(engine, expire_on_commit=False)
    track(factory)
    return factory


def referring_rows(session: Session, table: str, row_id: int, *, skip: frozenset[str] = frozenset()) -> int:
    """How many rows of the mapped tables (but ``skip``) refer to ``table``'s row ``row_id``.

    Lets a lower layer ask "is this used?" without knowing the tables of the layers above it (the
    catalog asks before removing an indicator, a category or a partner that reports refer to).
    """
    total = 0
    for other in Base.metadata.tables.values():
        if other.name in skip:
            continue
        for fk in other.foreign_keys:
            if fk.column.table.name == table and fk.column.name == "id":
                query = select(func.count()).select_from(other).where(fk.parent == row_id)
                total += session.scalar(query) or 0
    return total


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with factory() as session, session.begin():
        yield session
