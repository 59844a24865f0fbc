"""The demo's two-level review, query and evidence: ILO reviews its sub-recipients' reports before the
officer, the officer has a question open on one value of ILO's last report, and ILO's 2021Q1
report carries a means of verification (a small PDF) for a value whose reference sheet asks for one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.models import Indicator, Partner
from mel.core.audit import Actor
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.reports.evidence import asks_for_evidence, attach
from mel.reports.models import Submission, Value
from mel.reports.queries_values import ask_query
from mel.reports.review import review_level, review_submission
from mel.reports.review_models import EvidenceFile, ValueQuery

PRIME = Actor("demo ILO reviewer")
OFFICER = Actor("demo officer")
QUERY = (
    "ilo",
    "2022Q2",
    "1.1.a",
    "Cusco's participants look low against last quarter: were the virtual courses counted?",
)
EVIDENCE = ("ilo", "2021Q1")


def review_twice(session: Session, submission_id: int, action: str, comment: str | None) -> None:
    """The demo's reviews: a sub-recipient's report is approved (or returned) by its prime first,
    then, once approved there, by the officer."""
    if review_level(session, submission_id) == "prime":
        review_submission(session=session, submission_id=submission_id, action=action, comment=comment, actor=PRIME)
        if action != "approved":
            return
    review_submission(session=session, submission_id=submission_id, action=action, comment=comment, actor=OFFICER)


def _current(session: Session, partner: str, period: str) -> int | None:
    return session.scalar(
        select(Submission.id)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(Partner.code == partner, Submission.period == period, Submission.status != "superseded")
    )


def _pdf(title: str) -> bytes:
    """A one-page PDF saying what the real document would be (the demo keeps no real document)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def add_followup(*, settings: Settings, session_factory: sessionmaker[Session]) -> None:
    """The open query and the evidence file, once (a second run finds them and adds nothing)."""
    with transaction(session_factory) as session:
        if session.scalar(select(ValueQuery.id).limit(1)) is None:
            partner, period, code, question = QUERY
            sid = _current(session, partner, period)
            value_id = session.scalar(
                select(Value.id)
                .join(Indicator, Indicator.id == Value.indicator_id)
                .where(Value.submission_id == sid, Indicator.code == code)
                .order_by(Value.id)
                .limit(1)
            )
            if value_id is not None:
                ask_query(session=session, value_id=value_id, question=question, actor=OFFICER)
        if session.scalar(select(EvidenceFile.id).limit(1)) is None:
            sid = _current(session, *EVIDENCE)
            rows = session.execute(
                select(Value.id, Indicator.code, Indicator.data_source, Indicator.collection_method)
                .join(Indicator, Indicator.id == Value.indicator_id)
                .where(Value.submission_id == sid)
                .order_by(Indicator.position, Value.id)
            ).all()
            found = next(((vid, code) for vid, code, src, how in rows if asks_for_evidence(src, how)), None)
            if sid is not None and found is not None:
                value_id, code = found
                attach(
                    session=session,
                    upload_dir=settings.upload_dir,
                    max_bytes=int(settings.max_upload_mb * 1024 * 1024),
                    submission_id=sid,
                    value_id=value_id,
                    data=_pdf(f"ILO {EVIDENCE[1]} - means of verification of {code} (demo document)"),
                    filename=f"ilo-{EVIDENCE[1]}-{code}-verification.pdf",
                    description="Means of verification filed by the MEL officer (demo document).",
                    actor=OFFICER,
                )
