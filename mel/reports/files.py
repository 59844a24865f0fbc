"""Original uploads on disk, named by SHA-256, in step with the transaction that records them.

A file is written to a temporary name and renamed into place (a reader never sees half a file).
It is removed again when the database transaction that recorded it does not commit, so that the
upload folder and the ``stored_file`` rows never disagree after a failed import.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_PENDING = "mel.pending_files"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"*:<>?|;]+')
MAX_NAME_CHARS = 120


def safe_filename(name: str, default: str = "upload.xlsx") -> str:
    """The last path component of an uploaded name, without control or shell-special characters.

    Browsers send what the user's system calls the file; a crafted request can send
    ``../../x.xlsx`` or a name with line breaks. Stored and later shown or served, it must be inert.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" ._")
    if len(base) > MAX_NAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        base = stem[: MAX_NAME_CHARS - 8] + dot + ext[:7] if dot else base[:MAX_NAME_CHARS]
    return base or default


def content_disposition(name: str, *, ext: str = ".xlsx") -> str:
    """``attachment`` with an ASCII ``filename`` and the exact UTF-8 ``filename*`` (RFC 6266, RFC 5987)."""
    clean = safe_filename(name)
    if not clean.lower().endswith(ext):
        clean += ext
    fallback = clean.encode("ascii", "replace").decode("ascii").replace("?", "_").replace("%", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"


def stored_path(upload_dir: Path, sha256: str) -> Path:
    """Where the original file with this digest lives."""
    return Path(upload_dir) / sha256[:2] / f"{sha256}.xlsx"


@dataclass
class _Pending:
    path: Path
    root: SessionTransaction
    committed: bool = False


def keep_file(session: Session, *, upload_dir: Path, sha256: str, data: bytes, final: Path | None = None) -> Path:
    """Write ``data`` under its digest (or at ``final``), atomically; removed again if the session's
    transaction fails."""
    final = final or stored_path(upload_dir, sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    existed = final.exists()
    if not existed:
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    root = session.get_transaction()
    if root is not None and not existed:
        session.info.setdefault(_PENDING, []).append(_Pending(final, root))
    return final


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Fired for savepoints too: only the root transaction's commit makes a file permanent.
    for pending in session.info.get(_PENDING, []):
        if not pending.root.is_active:
            pending.committed = True


@event.listens_for(Session, "after_transaction_end")
def _after_end(session: Session, transaction: SessionTransaction) -> None:
    pending_files: list[_Pending] = session.info.get(_PENDING, [])
    if not pending_files:
        return
    keep = []
    for pending in pending_files:
        if pending.root is not transaction:
            keep.append(pending)
        elif not pending.committed:  # rolled back, or closed without commit
            with contextlib.suppress(FileNotFoundError):
                pending.path.unlink()
    session.info[_PENDING] = keep


def sweep_upload_dir(session: Session, upload_dir: Path, *, older_than_seconds: float = 3600) -> list[Path]:
    """Remove what an interrupted import left on disk: temporary files and originals no row records.

    A process killed between writing a file and committing its row (a crash, a SIGKILL) cannot
    clean up after itself; this runs at ``mel init`` and ``mel serve``. Only files older than
    ``older_than_seconds`` go, so an import still running in another process keeps its file.
    """
    from sqlalchemy import select

    from mel.reports.models import StoredFile

    root = Path(upload_dir)
    if not root.exists():
        return []
    known = set(session.scalars(select(StoredFile.sha256)))
    cutoff = time.time() - older_than_seconds
    removed = []
    for path in root.glob("*/*"):
        if not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        temporary = path.name.startswith(".upload-")
        if temporary or (path.suffix == ".xlsx" and path.stem not in known):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    return removed
