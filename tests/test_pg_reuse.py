"""A PostgreSQL database that a test used is put back to its template's rows (``tests/pg_reuse.py``): the
next test must find exactly what a fresh copy of the template holds, or get a fresh copy."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from mel.auth.service import create_user
from mel.core.audit import CLI
from mel.core.db import make_sessionmaker, transaction
from tests.db_templates import PgTemplates


def _oid(templates: PgTemplates, database: str) -> int:
    with templates.admin.connect() as conn:
        return int(conn.scalar(text("SELECT oid FROM pg_database WHERE datname = :name"), {"name": database}))


def _contents(templates: PgTemplates, database: str) -> dict[str, object]:
    """Every public table's rows (as text, sorted) and every sequence's position, read with plain SQL."""
    with templates.connected(database) as conn:
        tables = conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ).all()
        found: dict[str, object] = {
            table: conn.scalars(text(f'SELECT t::text FROM public."{table}" t ORDER BY 1')).all() for table in tables
        }
        found["sequences"] = conn.execute(
            text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
        ).all()
    return found


def _fresh_copy(templates: PgTemplates, flavour: str) -> dict[str, object]:
    """What a fresh copy of the template holds (the template itself is not connected to: another process
    may be copying it, which PostgreSQL refuses while anyone is connected)."""
    copy = templates._copy(templates.get(flavour))
    try:
        return _contents(templates, copy)
    finally:
        templates._drop(copy)


def test_a_used_database_holds_the_template_again(postgres_templates: PgTemplates) -> None:
    templates = postgres_templates
    expected = _fresh_copy(templates, "catalog")
    name, url = templates.clone("catalog")
    used = _oid(templates, name)
    try:
        engine = create_engine(url, poolclass=NullPool)
        with transaction(make_sessionmaker(engine)) as session:
            create_user(session=session, email="new@example.org", password="a-long-password", role="officer", actor=CLI)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM target_revision"))
            conn.execute(text("UPDATE indicator SET code = code || 'x'"))
            conn.execute(text("UPDATE partner SET parent_id = NULL"))
            conn.execute(text("TRUNCATE result_link"))
        engine.dispose()
        changed = _contents(templates, name)
        assert changed != expected
        assert changed["sequences"] != expected["sequences"]
    finally:
        templates.drop(name)
    again, _url = templates.clone("catalog")
    try:
        assert (again != name, _oid(templates, again)) == (True, used)  # renamed and put back, not copied
        assert _contents(templates, again) == expected
    finally:
        templates.drop(again)


def test_a_database_whose_schema_changed_is_replaced(postgres_templates: PgTemplates) -> None:
    templates = postgres_templates
    name, _url = templates.clone("catalog")
    changed = _oid(templates, name)
    try:
        with templates.connected(name) as conn:
            conn.execute(text("ALTER TABLE partner ADD COLUMN stray integer"))
    finally:
        templates.drop(name)
    fresh, _url = templates.clone("catalog")
    try:
        assert _oid(templates, fresh) != changed
        with templates.connected(fresh) as conn:
            columns = conn.scalars(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'partner'")
            ).all()
        assert "stray" not in columns
    finally:
        templates.drop(fresh)
