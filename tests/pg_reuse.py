"""A PostgreSQL test database put back to its template's rows, instead of dropped and copied again.

A copy (``CREATE DATABASE ... TEMPLATE``) creates and syncs each of the database's few hundred files,
and every ``DROP DATABASE`` forces a checkpoint: 0.3 to 0.6 s a test on a 2-core machine, which the
quick tests waited for. So a template carries a snapshot of its own rows (schema ``mel_snapshot``, taken
when it is built, and copied with it), and a database that a test has used is put back in one
transaction: every row deleted, the snapshot's rows inserted again, the sequences set back (about 70 ms,
and no file is created). A database whose schema the test changed (a migration) is dropped instead.

Before it is put back, the database gets a new name: a thread that a test left running (an app's import
dispatcher polls its database) could otherwise write into the next test's rows; with a new name it finds
no database, as it did when each test had its own copy.
"""

from __future__ import annotations

from graphlib import TopologicalSorter

from sqlalchemy import text
from sqlalchemy.engine import Connection

SNAPSHOT = "mel_snapshot"
_SEQUENCES = "mel:sequences"
_SCHEMA = "mel:schema"

_TABLES = """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"""
_PARENTS = """SELECT child.relname, parent.relname FROM pg_constraint k
JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
JOIN pg_namespace n ON n.oid = child.relnamespace WHERE k.contype = 'f' AND n.nspname = 'public'"""
_FINGERPRINT = """SELECT md5(string_agg(c.relname || ':' || c.relkind::text || ':' || coalesce(a.attname || ':'
|| a.atttypid::text || ':' || a.attnotnull::text, ''), ',' ORDER BY c.relname, a.attnum))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'public'"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def take_snapshot(conn: Connection) -> None:
    """In a finished template: its rows, its sequences' positions and its schema's fingerprint."""
    conn.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
    conn.execute(text(f"CREATE SCHEMA {SNAPSHOT}"))
    for table in conn.scalars(text(_TABLES)):
        conn.execute(text(f"CREATE TABLE {SNAPSHOT}.{_quoted(table)} AS TABLE public.{_quoted(table)}"))
    conn.execute(
        text(
            f"CREATE TABLE {SNAPSHOT}.{_quoted(_SEQUENCES)} AS SELECT sequencename AS name, last_value "
            "FROM pg_sequences WHERE schemaname = 'public'"
        )
    )
    conn.execute(text(f"CREATE TABLE {SNAPSHOT}.{_quoted(_SCHEMA)} AS {_FINGERPRINT}"))


def _parents_first(conn: Connection) -> list[str]:
    """The tables, each after those its foreign keys point to (a cycle raises ``graphlib.CycleError``)."""
    parents: dict[str, set[str]] = {table: set() for table in conn.scalars(text(_TABLES))}
    for child, parent in conn.execute(text(_PARENTS)):
        if child != parent:  # a table that points to itself is emptied and filled by one statement
            parents[child].add(parent)
    return list(TopologicalSorter(parents).static_order())


def restore_script(conn: Connection) -> str:
    """The statements that put the database back, in one round trip (one simple query).
    Children's rows go first and come back last, so that no foreign key is ever broken."""
    tables = _parents_first(conn)
    kept = [t for t in tables if conn.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {SNAPSHOT}.{_quoted(t)})"))]
    sequences = conn.execute(text(f"SELECT name, last_value FROM {SNAPSHOT}.{_quoted(_SEQUENCES)}")).all()
    return ";\n".join(
        [
            *(f"DELETE FROM public.{_quoted(t)}" for t in reversed(tables)),
            *(f"INSERT INTO public.{_quoted(t)} SELECT * FROM {SNAPSHOT}.{_quoted(t)}" for t in kept),
            *(
                f"SELECT setval('public.{_quoted(name)}', {last or 1}, {'true' if last is not None else 'false'})"
                for name, last in sequences
            ),
        ]
    )


def schema_unchanged(conn: Connection) -> bool:
    """Whether the tables, columns, indexes and sequences are still the template's."""
    return bool(conn.scalar(text(f"SELECT ({_FINGERPRINT}) = (SELECT md5 FROM {SNAPSHOT}.{_quoted(_SCHEMA)})")))


def end_other_sessions(conn: Connection, database: str) -> None:
    """What a finished test left connected (a server process, a killed import) goes, as ``DROP ... WITH
    (FORCE)`` would have done: no lock of theirs can hold the reset back."""
    conn.execute(
        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
        {"db": database},
    )
