"""Data-quality warnings at import: a value far from the partner's history, a running total by mistake.

Warnings never block an import. The history is the same partner's earlier quarters, current
versions only (superseded ones were corrected), of the same indicator and combination, read in
one query; the rules themselves are the pure functions of ``mel.reports.plausibility``. Only totals are
checked: rows by category are small, noisy counts that would flag too often to be read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, Indicator
from mel.core.i18n import N_, format_number, t
from mel.core.settings import Settings
from mel.reports.models import Submission, Value
from mel.reports.parse_results import Issue, ParsedValue
from mel.reports.plausibility import looks_cumulative, outlier

WARNING_TEXTS = {
    "looks_cumulative": N_(
        "{indicator}: {value} is at least the sum of all previous quarters ({total}); "
        "report only this quarter's new figure, not a running total."
    ),
    "outlier": N_(
        "{indicator}: {value} is far from this partner's usual values (median {median}, "
        "expected between {low} and {high}); please check it."
    ),
}
"""Stored warnings keep a code and their parameters: the officer reads them in English, the
partner who uploaded in Spanish, whatever the language of the upload."""


def _fmt(number: float, lang: str) -> str:
    if abs(number) >= 100:
        return format_number(round(number), lang)
    rounded = round(number, 1)
    return format_number(rounded, lang, 0 if float(rounded).is_integer() else 1)


def warning_message(code: str, params: dict[str, Any] | None, lang: str, stored: str) -> str:
    """A warning in ``lang`` from its code and parameters; the stored text for older rows without them."""
    template = WARNING_TEXTS.get(code)
    if template is None or not params:
        return stored
    filled = {
        k: _fmt(v, lang) if isinstance(v, int | float) and not isinstance(v, bool) else v for k, v in params.items()
    }
    try:
        return t(lang, template, **filled)
    except (KeyError, IndexError):
        return stored


def _issue(code: str, v: ParsedValue, lang: str, **params: Any) -> Issue:
    params = {"indicator": v.indicator, **params}
    return Issue(code, v.sheet, v.cell, warning_message(code, params, lang, code), params=params)


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
        if unit in ("yes_no", "stage") or v.category_ids:
            continue
        past = history.get((v.indicator_id, TOTAL_KEY))
        if not past:
            continue
        if unit == "count" and aggregation == "sum" and looks_cumulative(past, v.value):
            issues.append(_issue("looks_cumulative", v, lang, value=v.value, total=sum(past)))
            continue
        found = outlier(past, v.value, k=settings.outlier_mad_k, min_history=settings.outlier_min_history)
        if found is not None:
            issues.append(
                _issue(
                    "outlier",
                    v,
                    lang,
                    value=v.value,
                    median=found.median,
                    low=max(found.low, 0.0),
                    high=found.high,
                )
            )
    return issues
