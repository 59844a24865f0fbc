"""Data-quality warnings at import: a value far from the partner's history, a running total by mistake.

Warnings never block an import. The history is the same partner's earlier quarters, current
versions only (superseded ones were corrected), of the same indicator and combination, read in
one query; the rules themselves are the pure functions of ``mel.quality.rules``. Only totals are
checked: rows by category are small, noisy counts that would flag too often to be read.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, Indicator
from mel.i18n import t
from mel.quality.rules import looks_cumulative, outlier
from mel.reports.models import Submission, Value
from mel.reports.parsed import Issue, ParsedValue
from mel.settings import Settings


def _fmt(number: float) -> str:
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.1f}".rstrip("0").rstrip(".")


def quality_warnings(
    session: Session,
    *,
    partner_id: int,
    period: str,
    values: list[ParsedValue],
    settings: Settings,
    lang: str,
) -> list[Issue]:
    """Outlier and cumulative-by-mistake warnings for ``values`` of one partner's report."""
    if not values:
        return []
    indicator_ids = {v.indicator_id for v in values}
    kinds = {
        iid: (unit, aggregation)
        for iid, unit, aggregation in session.execute(
            select(Indicator.id, Indicator.unit, Indicator.aggregation).where(Indicator.id.in_(indicator_ids))
        )
    }
    rows = session.execute(
        select(Value.indicator_id, Combination.key, Value.period, Value.value)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Combination, Combination.id == Value.combination_id)
        .where(
            Value.partner_id == partner_id,
            Value.period < period,
            Submission.status != "superseded",
            Combination.key == TOTAL_KEY,
        )
        .order_by(Value.period)
    )
    history: dict[tuple[int, str], list[float]] = defaultdict(list)
    for indicator_id, key, _period, number in rows:
        history[(indicator_id, key)].append(float(number))
    if not history:
        return []

    issues: list[Issue] = []
    for v in values:
        unit, aggregation = kinds.get(v.indicator_id, ("count", "sum"))
        if unit == "yes_no" or v.category_ids:
            continue
        past = history.get((v.indicator_id, TOTAL_KEY))
        if not past:
            continue
        if unit == "count" and aggregation == "sum" and looks_cumulative(past, v.value):
            issues.append(
                Issue(
                    "looks_cumulative",
                    v.sheet,
                    v.cell,
                    t(
                        lang,
                        "{indicator}: {value} is at least the sum of all previous quarters ({total}); "
                        "report only this quarter's new figure, not a running total.",
                        indicator=v.indicator,
                        value=_fmt(v.value),
                        total=_fmt(sum(past)),
                    ),
                )
            )
            continue
        found = outlier(past, v.value, k=settings.outlier_mad_k, min_history=settings.outlier_min_history)
        if found is not None:
            issues.append(
                Issue(
                    "outlier",
                    v.sheet,
                    v.cell,
                    t(
                        lang,
                        "{indicator}: {value} is far from this partner's usual values (median {median}, "
                        "expected between {low} and {high}); please check it.",
                        indicator=v.indicator,
                        value=_fmt(v.value),
                        median=_fmt(found.median),
                        low=_fmt(max(found.low, 0.0)),
                        high=_fmt(found.high),
                    ),
                )
            )
    return issues
