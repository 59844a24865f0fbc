"""What every catalog loader shares: the summary of a load's changes and the assignment that records them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mel.core import periods
from mel.core.db import Base


@dataclass
class LoadSummary:
    partnership: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def set_changed(obj: Any, summary: LoadSummary, label: str, **values: Any) -> None:
    """Assign only what differs, so a reload of the same file reports (and writes) nothing.

    What this load created is not also reported as updated (autoflush may already have given it an id).
    """
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for key in changed:
        setattr(obj, key, values[key])
    if changed and obj.id is not None and label not in summary.created:
        summary.updated.append(f"{label} ({', '.join(changed)})")


def catalog_tables() -> frozenset[str]:
    """The catalog's own tables: rows there (targets, links, levels) go with what they describe."""
    return frozenset(
        m.persist_selectable.description or ""
        for m in Base.registry.mappers
        if m.class_.__module__ == "mel.catalog.models"
    )


@dataclass(frozen=True)
class TargetReason:
    """Why targets change in this load when the file has no revision entry for it (``--reason``)."""

    reason: str | None = None
    effective: str | None = None  # the quarter the change applies from; default: the current one
    today: dt.date = field(default_factory=lambda: periods.today())  # read when made: the clock a test moves


def as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
