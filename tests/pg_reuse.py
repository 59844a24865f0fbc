"""A PostgreSQL test database put back to its template's rows, instead of dropped and copied again.

A copy (``CREATE DATABASE ... TEMPLATE``) creates and syncs each of the database's few hundred files,
and every ``DROP DATABASE`` forces a checkpoint: 0.3 to 0.6 s a test on a 2-core machine, which the
quick tests waited for. So a template carries a snapshot of its own rows (schema ``mel_snapshot``, taken
when it is built, and copied with it), and a database that a test has used is put back in one
transaction: the rows of the tables the test wrote to deleted, the snapshot's rows inserted again, the
sequences set back; no file is created. A database whose schema the test changed (a migration) is
dropped instead.

Which tables a test wrote to, a statement trigger on each table records in ``mel_snapshot."mel:touched"``
(an INSERT, UPDATE, DELETE or TRUNCATE that committed). Those tables are put back, and with them every
table whose foreign keys lead to one of them (whatever a foreign key cascaded is among those); the
others still hold the snapshot's rows. Most tests write only to tables that the catalog leaves empty, so
the catalog's own rows (indicators, dimensions, combinations) are no longer written back after each test.

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
_TOUCHED = "mel:touched"

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
    """In a finished template: its rows, its sequences' positions, its schema's fingerprint, and on each
    table the trigger that records the writes to it."""
    conn.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
    conn.execute(text(f"CREATE SCHEMA {SNAPSHOT}"))
    conn.execute(text(f"CREATE UNLOGGED TABLE {SNAPSHOT}.{_quoted(_TOUCHED)} (name text PRIMARY KEY)"))
    conn.execute(
        text(
            f"CREATE FUNCTION {SNAPSHOT}.touched() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {SNAPSHOT}.{_quoted(_TOUCHED)} VALUES (TG_TABLE_NAME) ON CONFLICT DO NOTHING; "
            "RETURN NULL; END $$"
        )
    )
    for table in conn.scalars(text(_TABLES)).all():
        conn.execute(text(f"CREATE TABLE {SNAPSHOT}.{_quoted(table)} AS TABLE public.{_quoted(table)}"))
        conn.execute(
            text(
                f"CREATE TRIGGER mel_touched AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.{_quoted(table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {SNAPSHOT}.touched()"
            )
        )
    conn.execute(
        text(
            f"CREATE TABLE {SNAPSHOT}.{_quoted(_SEQUENCES)} AS SELECT sequencename AS name, last_value "
            "FROM pg_sequences WHERE schemaname = 'public'"
        )
    )
    conn.execute(text(f"CREATE TABLE {SNAPSHOT}.{_quoted(_SCHEMA)} AS {_FINGERPRINT}"))


class Restore:
    """How a database of one template is put back: read once per template, used at every reset."""

    def __init__(self, conn: Connection) -> None:
        parents: dict[str, set[str]] = {table: set() for table in conn.scalars(text(_TABLES))}
        self.children: dict[str, set[str]] = {table: set() for table in parents}
        for child, parent in conn.execute(text(_PARENTS)):
            if child != parent:  # a table that points to itself is emptied and filled by one statement
                parents[child].add(parent)
                self.children[parent].add(child)
        self.order = list(TopologicalSorter(parents).static_order())
        """The tables, each after those its foreign keys point to (a cycle raises ``graphlib.CycleError``)."""
        self.kept = {
            t for t in self.order if conn.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {SNAPSHOT}.{_quoted(t)})"))
        }
        self.sequences = ";\n".join(
            f"SELECT setval('public.{_quoted(name)}', {last or 1}, {'true' if last is not None else 'false'})"
            for name, last in conn.execute(text(f"SELECT name, last_value FROM {SNAPSHOT}.{_quoted(_SEQUENCES)}"))
        )

    def script(self, touched: set[str]) -> str:
        """The statements that put the database back after writes to ``touched``, in one round trip (one
        simple query). The tables whose foreign keys lead to a touched one are emptied first and filled
        last with it, so that no foreign key is ever broken."""
        tables: set[str] = set()
        todo = list(touched)
        while todo:
            table = todo.pop()
            if table in self.children and table not in tables:
                tables.add(table)
                todo.extend(self.children[table])
        order = [t for t in self.order if t in tables]
        return ";\n".join(
            [
                *(f"DELETE FROM public.{_quoted(t)}" for t in reversed(order)),
                *(
                    f"INSERT INTO public.{_quoted(t)} SELECT * FROM {SNAPSHOT}.{_quoted(t)}"
                    for t in order
                    if t in self.kept
                ),
                self.sequences,
                f"DELETE FROM {SNAPSHOT}.{_quoted(_TOUCHED)}",  # also what the statements above recorded
            ]
        )


def touched(conn: Connection) -> set[str]:
    """The tables written to since the database was last put back."""
    return set(conn.scalars(text(f"SELECT name FROM {SNAPSHOT}.{_quoted(_TOUCHED)}")))


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
