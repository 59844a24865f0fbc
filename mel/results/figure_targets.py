"""The target in force for a figure's bucket, as revised at a given quarter (and the original one)."""

from __future__ import annotations

from collections.abc import Collection

from mel.catalog.models import Indicator
from mel.catalog.targets import originals, targets_at


def target_for(
    indicator: Indicator,
    key: str,
    periods: Collection[str] = (),
    *,
    at: str | None = None,
    partner_id: int | None = None,
    category_id: int | None = None,
) -> float | None:
    """The target in force for a bucket: ``key`` '' (life of partnership), 'FY2021' or '2021Q3', as
    revised by ``at`` (default: the bucket's last quarter; a revision applies from its quarter on).
    A fiscal year without its own target adds up its quarters' (sum indicators)."""
    when = at or (max(periods) if periods else None)
    found = targets_at(indicator, when, partner_id=partner_id, category_id=category_id)
    if key in found:
        return found[key]
    if key and indicator.aggregation == "sum":
        parts = [found[p] for p in periods if p in found and p != key]
        return sum(parts) if parts else None
    return None


def original_target(
    indicator: Indicator, key: str, *, partner_id: int | None = None, category_id: int | None = None
) -> float | None:
    """The original target of a bucket when it has been revised since (else None)."""
    return originals(indicator, partner_id=partner_id, category_id=category_id).get(key)
