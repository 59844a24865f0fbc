"""Evidence (means of verification): files attached to a partner's report or to one of its values.

Files are kept by SHA-256 under ``evidence/`` in the upload folder, typed from their bytes (never
from the name or the browser's word), limited in size, and refused when a spreadsheet's headers
name persons' personal data: the same rule as workbooks, since mel holds aggregates only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from mel.auth.models import User
from mel.catalog.models import Indicator
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.reports.files import keep_file, safe_filename, sha256_of
from mel.reports.models import Submission, Value
from mel.reports.review import ReviewError
from mel.reports.review_models import EvidenceFile
from mel.reports.tables import HEADER_ROWS
from mel.reports.vocab import is_personal_header
from mel.workbooks.book import WorkbookError
from mel.workbooks.reader import read_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    XLSX: ".xlsx",
    DOCX: ".docx",
    "text/csv": ".csv",
}
SPREADSHEETS = (XLSX, "text/csv")
EVIDENCE_CELLS = 1_000_000
"""Cells of one sheet read to look for personal-data headers (an evidence file is no data table)."""
_ASKS = re.compile(
    r"means of verification|files a copy|filed as|medio de verificaci[oó]n|archiva una copia|se archiva",
    re.I,
)


def asks_for_evidence(*texts: str | None) -> bool:
    """Whether a reference sheet's data source or collection method asks for a filed copy
    ("the MEL officer files a copy", "kept as means of verification")."""
    return any(text and _ASKS.search(text) for text in texts)


def sniff(data: bytes) -> str | None:
    """The media type the bytes are, or None for anything not accepted as evidence."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "xl/workbook.xml" in names:
            return XLSX
        if "word/document.xml" in names and not any(n.lower().endswith(".bin") for n in names):
            return DOCX  # documents with macros (vbaProject.bin) are refused
        return None
    return "text/csv" if _csv_text(data) is not None else None


def _csv_text(data: bytes) -> str | None:
    """The text of a delimited text file (UTF-8 or Latin-1, no NUL bytes), else None."""
    head = data[:65536]
    if b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        first = text.splitlines()[:1]
        if first and any(sep in first[0] for sep in ",;\t"):
            return text
    return None


def personal_headers(data: bytes, media_type: str, *, max_bytes: int) -> list[str]:
    """The personal-data headers in a spreadsheet's first rows (workbooks' rule), none for other types."""
    rows: list[list[object]] = []
    if media_type == XLSX:
        try:
            book = read_workbook(
                data,
                max_bytes=max_bytes,
                max_uncompressed_bytes=max_bytes * 10,
                max_part_bytes=max_bytes * 10,
                max_cells=EVIDENCE_CELLS,
            )
        except WorkbookError as exc:
            raise ReviewError("unreadable", f"the spreadsheet cannot be checked: {exc.code}") from exc
        for sheet in book.sheets:
            rows.extend(sheet.rows[:HEADER_ROWS])
    elif media_type == "text/csv":
        text = _csv_text(data) or ""
        lines = text.splitlines()[:HEADER_ROWS]
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t") if lines else csv.excel
        rows.extend([list(r) for r in csv.reader(lines, dialect)])
    found = [str(v).strip() for row in rows for v in row if isinstance(v, str) and is_personal_header(v)]
    return list(dict.fromkeys(found))


def evidence_path(upload_dir: Path, sha256: str) -> Path:
    """Where an evidence file lives: apart from workbooks, so that it is never taken for one."""
    return Path(upload_dir) / "evidence" / sha256[:2] / sha256


def attach(
    *,
    session: Session,
    upload_dir: Path,
    max_bytes: int,
    submission_id: int,
    value_id: int | None,
    data: bytes,
    filename: str,
    description: str | None,
    actor: Actor,
) -> EvidenceFile:
    """Keep an evidence file for a submission's report (or one of its values); audited.

    Refused (``ReviewError``): too large, a type not accepted, or a spreadsheet with personal data
    (then nothing is written to disk).
    """
    if len(data) > max_bytes:
        raise ReviewError("file_too_large", f"{len(data)} bytes, more than {max_bytes}")
    media_type = sniff(data)
    if media_type is None:
        raise ReviewError("type_not_accepted", "evidence is a PDF, an image, a spreadsheet or a document")
    found = personal_headers(data, media_type, max_bytes=max_bytes)
    if found:
        raise ReviewError("personal_data", ", ".join(found))
    sub = session.execute(
        select(Submission.partner_id, Submission.period).where(Submission.id == submission_id)
    ).first()
    if sub is None:
        raise ReviewError("not_found", f"no submission {submission_id}")
    indicator_id = combination_id = None
    if value_id is not None:
        value = session.execute(
            select(Value.indicator_id, Value.combination_id).where(
                Value.id == value_id, Value.submission_id == submission_id
            )
        ).first()
        if value is None:
            raise ReviewError("not_found", f"no value {value_id} in submission {submission_id}")
        indicator_id, combination_id = value
    digest = sha256_of(data)
    keep_file(session, upload_dir=upload_dir, sha256=digest, data=data, final=evidence_path(upload_dir, digest))
    name = safe_filename(filename, default="evidence" + EXTENSIONS[media_type])
    row = EvidenceFile(
        partner_id=sub[0],
        period=sub[1],
        submission_id=submission_id,
        indicator_id=indicator_id,
        combination_id=combination_id,
        sha256=digest,
        size=len(data),
        media_type=media_type,
        original_name=name,
        description=(description or "").strip() or None,
        uploaded_by_id=actor.user_id,
        uploaded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="evidence.attach",
        entity="evidence_file",
        entity_id=row.id,
        summary=f"{sub[1]} {name} ({media_type})",
        after={"submission": submission_id, "sha256": digest, "indicator_id": indicator_id},
    )
    return row


@dataclass(frozen=True)
class EvidenceView:
    id: int
    partner_id: int
    partner: str
    period: str
    submission_id: int
    indicator: str | None
    combination_id: int | None
    name: str
    media_type: str
    size: int
    description: str | None
    uploaded_by: str | None
    uploaded_at: dt.datetime


def list_evidence(
    session: Session,
    *,
    partner_ids: list[int] | None = None,
    period: str | None = None,
    indicator_id: int | None = None,
) -> list[EvidenceView]:
    """Evidence of these partners (None: all), of one quarter and/or one indicator, oldest first.

    Evidence attached to a report (no indicator) is listed with an indicator's sources too: it may
    back any of the report's numbers.
    """
    from mel.catalog.models import Partner

    who = aliased(User)
    query = (
        select(
            EvidenceFile.id,
            EvidenceFile.partner_id,
            Partner.code,
            EvidenceFile.period,
            EvidenceFile.submission_id,
            Indicator.code,
            EvidenceFile.combination_id,
            EvidenceFile.original_name,
            EvidenceFile.media_type,
            EvidenceFile.size,
            EvidenceFile.description,
            func.coalesce(who.name, who.email),
            EvidenceFile.uploaded_at,
        )
        .join(Partner, Partner.id == EvidenceFile.partner_id)
        .outerjoin(Indicator, Indicator.id == EvidenceFile.indicator_id)
        .outerjoin(who, who.id == EvidenceFile.uploaded_by_id)
        .order_by(EvidenceFile.period, EvidenceFile.id)
    )
    if partner_ids is not None:
        query = query.where(EvidenceFile.partner_id.in_(partner_ids or [-1]))
    if period is not None:
        query = query.where(EvidenceFile.period == period)
    if indicator_id is not None:
        query = query.where((EvidenceFile.indicator_id == indicator_id) | EvidenceFile.indicator_id.is_(None))
    found: list[Any] = list(session.execute(query))
    return [EvidenceView(*row) for row in found]


def evidence_for(session: Session, indicator_id: int, reports: set[tuple[int, str]]) -> list[EvidenceView]:
    """The evidence behind the listed sources: of those (partner, quarter) reports, for this
    indicator's values or for the whole report."""
    if not reports:
        return []
    found = list_evidence(session, partner_ids=sorted({p for p, _q in reports}), indicator_id=indicator_id)
    return [e for e in found if (e.partner_id, e.period) in reports]


def missing_evidence(session: Session, submission_id: int) -> list[tuple[str, str]]:
    """(code, name) of the indicators this version reports whose reference sheet asks for evidence
    and that have no evidence file for the partner's quarter."""
    sub = session.execute(select(Submission.partner_id, Submission.period).where(Submission.id == submission_id)).one()
    have = select(EvidenceFile.indicator_id).where(
        EvidenceFile.partner_id == sub[0], EvidenceFile.period == sub[1], EvidenceFile.indicator_id.is_not(None)
    )
    rows = session.execute(
        select(Indicator.code, Indicator.name, Indicator.data_source, Indicator.collection_method)
        .where(
            Indicator.id.in_(select(Value.indicator_id).where(Value.submission_id == submission_id)),
            Indicator.id.not_in(have),
        )
        .order_by(Indicator.position, Indicator.code)
    )
    return [(code, name) for code, name, source, method in rows if asks_for_evidence(source, method)]


def evidence_file(session: Session, evidence_id: int) -> EvidenceFile | None:
    return session.get(EvidenceFile, evidence_id)
