"""What partners and evaluators hand in: submissions and their values, trainings, narrative, measurements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.auth import models as _users  # noqa: F401  # the user table the foreign keys below point to
from mel.catalog.models import PILLARS
from mel.core.db import Base, BigId, in_list, utcnow

STATUSES = ("submitted", "approved", "returned", "superseded")
SECTIONS = ("achievements", "challenges", "adaptations", "context")
ROUNDS = ("baseline", "midline", "endline")
PERIOD_CHECK = "length(period) = 6 AND substr(period, 5, 1) = 'Q' AND substr(period, 6, 1) IN ('1','2','3','4')"


class StoredFile(Base):
    """An original upload, kept on disk under its SHA-256 so identical bytes are stored once."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str] = mapped_column(String(300))
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Submission(Base):
    """One version of one partner's quarterly report for one period."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("partner_id", "period", "version"),
        CheckConstraint(in_list("status", STATUSES), name="status"),
        CheckConstraint(PERIOD_CHECK, name="period"),
        CheckConstraint("version >= 1", name="version"),
        Index(
            "uq_submission_current",
            "partner_id",
            "period",
            unique=True,
            sqlite_where=text("status <> 'superseded'"),
            postgresql_where=text("status <> 'superseded'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    period: Mapped[str] = mapped_column(String(6))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    file_sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), index=True)
    lang: Mapped[str] = mapped_column(String(2), default="en")
    prepared_by: Mapped[str | None] = mapped_column(String(200))
    report_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    received_on: Mapped[dt.date | None] = mapped_column(Date)  # set by an officer; None: the upload date
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)

    file: Mapped[StoredFile] = relationship()
    reviews: Mapped[list[SubmissionReview]] = relationship(back_populates="submission", order_by="SubmissionReview.id")


class SubmissionReview(Base):
    """The review history of a submission: each approval or return with its comment."""

    __tablename__ = "submission_review"
    __table_args__ = (
        CheckConstraint("action IN ('approved', 'returned')", name="action"),
        CheckConstraint("level IN ('prime', 'officer')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8), default="officer", server_default="officer")
    """``prime``: a prime partner's review of its sub-recipient's report; ``officer``: the final one."""
    comment: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="reviews")


class Value(Base):
    """One reported cell: long format, traceable to its submission, sheet and cell.

    ``partner_id`` and ``period`` repeat the submission's so that progress queries are
    answered from one covering index without touching the submission rows.
    """

    __tablename__ = "value"
    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id", "combination_id"),
        Index("ix_value_progress", "indicator_id", "combination_id", "period", "partner_id", "submission_id", "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    combination_id: Mapped[int] = mapped_column(ForeignKey("combination.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    period: Mapped[str] = mapped_column(String(6))
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)  # pooled percents (REPORT-FORMAT.md v1.1)
    denominator: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    sheet: Mapped[str] = mapped_column(String(64))
    cell: Mapped[str] = mapped_column(String(16))


class TrainingEvent(Base):
    """A training event of a submission; its participants are counted per institution in attendance rows."""

    __tablename__ = "training_event"
    __table_args__ = (CheckConstraint(in_list("pillar", PILLARS), name="pillar"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    pillar: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    modality_id: Mapped[int] = mapped_column(ForeignKey("category.id"))

    attendance: Mapped[list[TrainingAttendance]] = relationship(
        back_populates="event", order_by="TrainingAttendance.row"
    )


class TrainingAttendance(Base):
    """One workbook row of a training: the participants of one institution."""

    __tablename__ = "training_attendance"
    __table_args__ = (
        CheckConstraint("female >= 0 AND male >= 0 AND other >= 0", name="counts"),
        CheckConstraint("under_18 IS NULL OR under_18 <= female + male + other", name="under_18"),
        CheckConstraint("hours IS NULL OR hours > 0", name="hours"),
        CheckConstraint("pre_score IS NULL OR pre_score BETWEEN 0 AND 100", name="pre_score"),
        CheckConstraint("post_score IS NULL OR post_score BETWEEN 0 AND 100", name="post_score"),
        CheckConstraint('"repeat" IS NULL OR ("repeat" >= 0 AND "repeat" <= female + male + other)', name="repeat"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("training_event.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    female: Mapped[int] = mapped_column(Integer)
    male: Mapped[int] = mapped_column(Integer)
    other: Mapped[int] = mapped_column(Integer, default=0)
    under_18: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[float | None] = mapped_column(Float)
    pre_score: Mapped[float | None] = mapped_column(Float)
    post_score: Mapped[float | None] = mapped_column(Float)
    repeat: Mapped[int | None] = mapped_column(Integer)  # participants the project had trained before
    sheet: Mapped[str] = mapped_column(String(64))
    row: Mapped[int] = mapped_column(Integer)

    event: Mapped[TrainingEvent] = relationship(back_populates="attendance")


class TrainingFollowUp(Base):
    """Counts, never names, of a training's participants met again some months later.

    One row per training event (title and start date) or per institution and training quarter, from
    a report's Follow-up sheet (``submission_id``) or entered by an officer (``entered_by_id``).
    """

    __tablename__ = "training_followup"
    __table_args__ = (
        CheckConstraint("months > 0", name="months"),
        CheckConstraint("reached >= 0 AND in_post >= 0 AND applying >= 0", name="counts"),
        CheckConstraint("in_post <= reached AND applying <= reached", name="within_reached"),
        CheckConstraint("participants IS NULL OR reached <= participants", name="participants"),
        CheckConstraint("title IS NOT NULL OR training_period IS NOT NULL", name="what"),
        CheckConstraint(
            "training_period IS NULL OR " + PERIOD_CHECK.replace("period", "training_period"), name="training_period"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    period: Mapped[str] = mapped_column(String(6))  # when the follow-up was made (the report's quarter)
    title: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    training_period: Mapped[str | None] = mapped_column(String(6))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    months: Mapped[int] = mapped_column(Integer)
    participants: Mapped[int | None] = mapped_column(Integer)
    reached: Mapped[int] = mapped_column(Integer)
    in_post: Mapped[int] = mapped_column(Integer)
    applying: Mapped[int] = mapped_column(Integer)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sheet: Mapped[str | None] = mapped_column(String(64))
    row: Mapped[int | None] = mapped_column(Integer)


class NarrativeEntry(Base):
    __tablename__ = "narrative_entry"
    __table_args__ = (CheckConstraint(in_list("section", SECTIONS), name="section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ImportWarning(Base):
    """A data-quality warning raised at import (an outlier, a cumulative value by mistake).

    Warnings never block an import; an officer can mark one explained, with a comment.
    """

    __tablename__ = "import_warning"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    sheet: Mapped[str | None] = mapped_column(String(64))
    cell: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the message's parameters, to show it in any language
    explained_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    explained_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    explanation: Mapped[str | None] = mapped_column(Text)


class MeasurementBatch(Base):
    """One imported measurement workbook of an evaluator."""

    __tablename__ = "measurement_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    file_sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Measurement(Base):
    """An evaluator's baseline, midline or endline value; a re-import of the same key replaces it."""

    __tablename__ = "measurement"
    __table_args__ = (
        UniqueConstraint("indicator_id", "round", "date", "combination_id"),
        CheckConstraint(in_list("round", ROUNDS), name="round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("measurement_batch.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    combination_id: Mapped[int] = mapped_column(ForeignKey("combination.id"))
    round: Mapped[str] = mapped_column(String(16))
    date: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)
    comparable: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    sample_size: Mapped[int | None] = mapped_column(Integer)  # surveys
    margin_of_error: Mapped[float | None] = mapped_column(Float)  # percentage points at 95 %
    sheet: Mapped[str] = mapped_column(String(64))
    cell: Mapped[str] = mapped_column(String(16))
