"""The data version of each partnership: what stored figures are keyed by (``mel.results.store``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mel.db import Base


class FigureVersion(Base):
    """One row per partnership: ``version`` counts the committed changes to its figures and
    ``stamp`` (random, new at each change) names the current state, so that a figure computed
    before a change, or on another copy of the database, is never taken for a current one."""

    __tablename__ = "figure_version"

    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    stamp: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
