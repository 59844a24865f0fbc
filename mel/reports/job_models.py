"""The import queue's table: one row per upload, from queued to done, shared by every server process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from mel.core.db import Base, utcnow

STAGES = ("reading", "checking", "storing")
"""The stages of a running job, in order: each is a third of the way on its page."""
RUNNING = STAGES
FINISHED = ("done", "failed")


class ImportJob(Base):
    """An upload waiting for, going through, or back from an import worker.

    The workbook's bytes travel in ``data`` (so that any app server, on any machine, can run it) and
    are dropped when the job ends; ``result`` is the JSON the result page is drawn from.
    """

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    actor_ip: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(300))
    partner_code: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(10))
    partnership_code: Mapped[str | None] = mapped_column(String(64))  # a measurement workbook's partnership
    lang: Mapped[str] = mapped_column(String(5))
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    """queued, reading, checking, storing (running), done or failed."""
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Keep the whole ``mel import --json`` object in ``result`` (API clients read it; the page needs counts)."""
    owner: Mapped[str | None] = mapped_column(String(120))
    """``host:pid`` of the server process running it, so that a dead one's jobs can be failed."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
