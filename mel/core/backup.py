"""Online backup and restore of the embedded SQLite database (``mel backup``, ``mel restore``).

SQLite's online backup API copies a consistent snapshot while the server keeps running (readers
and writers wait only page by page). Uploaded originals live under ``MEL_UPLOAD_DIR``, named by
their SHA-256: copy that folder beside the backup. PostgreSQL deployments use ``pg_dump``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from mel.core import migrate


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says what to change."""


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL, or BackupError for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise BackupError("mel backup copies the embedded SQLite database; for PostgreSQL use pg_dump and pg_restore")
    return Path(parsed.database)


def backup(database_url: str, out: Path) -> int:
    """Copy the live database into ``out`` (which must not exist); returns its size in bytes."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"{source}: no database here (run mel init first)")
    if out.exists():
        raise BackupError(f"{out} already exists: choose a new file name")
    src = sqlite3.connect(source)
    dest = sqlite3.connect(out)
    try:
        with dest:
            src.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()
        src.close()
    check = sqlite3.connect(out)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{out}: the copy failed its integrity check")
    finally:
        check.close()
    return out.stat().st_size


def restore(backup_file: Path, database_url: str, *, force: bool = False) -> None:
    """Restore ``backup_file`` into the configured database, then upgrade it to the current schema."""
    target = sqlite_path(database_url)
    if not backup_file.exists():
        raise BackupError(f"{backup_file}: no such file")
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{backup_file}: not an intact SQLite database")
        if target.exists() and not force:
            existing = sqlite3.connect(target)
            try:
                tables = existing.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            finally:
                existing.close()
            if tables:
                raise BackupError(f"{target} already holds a database: restore into a new file, or use --force")
        dest = sqlite3.connect(target)
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup_file}: not a SQLite database ({exc})") from exc
    finally:
        src.close()
    migrate.upgrade(database_url)
