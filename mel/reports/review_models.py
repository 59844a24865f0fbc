"""What reviewers and partners exchange about a report: questions on single values, and evidence files.

A query is keyed by partner, period, indicator and combination (not by version) so that it follows
the value across versions until a new version changes it or a reviewer closes it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mel.core.db import Base, utcnow
from mel.reports.models import PERIOD_CHECK

LEVELS = ("prime", "officer")
"""Review levels: a sub-recipient's report goes to its prime partner first, then to the officer."""
QUERY_STATUSES = ("open", "answered", "resolved")


class ValueQuery(Base):
    """A reviewer's question about one reported value (indicator and combination of a partner's quarter)."""

    __tablename__ = "value_query"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered', 'resolved')", name="status"),
        CheckConstraint("level IN ('prime', 'officer')", name="level"),
        CheckConstraint(PERIOD_CHECK, name="period"),
        Index("ix_value_query_report", "partner_id", "period", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    period: Mapped[str] = mapped_column(String(6))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    combination_id: Mapped[int] = mapped_column(ForeignKey("combination.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    """The version the question was asked on."""
    value: Mapped[float | None] = mapped_column(Float)
    """The value as it stood when asked."""
    sheet: Mapped[str | None] = mapped_column(String(64))
    cell: Mapped[str | None] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    """The version whose changed value resolved the query, when one did."""


class ValueQueryMessage(Base):
    """One message of a query's thread: a partner's answer, a reviewer's follow-up, a version's change."""

    __tablename__ = "value_query_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("value_query.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    """Set when the message records a new version's value."""


class EvidenceFile(Base):
    """A means of verification attached to a partner's report (``indicator_id`` set: to one value).

    The bytes live in the upload folder under ``evidence/`` and their SHA-256, apart from workbooks,
    so that evidence is never mistaken for an already imported report.
    """

    __tablename__ = "evidence_file"
    __table_args__ = (
        CheckConstraint(PERIOD_CHECK, name="period"),
        CheckConstraint("combination_id IS NULL OR indicator_id IS NOT NULL", name="value"),
        Index("ix_evidence_file_report", "partner_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    period: Mapped[str] = mapped_column(String(6))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))
    combination_id: Mapped[int | None] = mapped_column(ForeignKey("combination.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(120))
    original_name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
