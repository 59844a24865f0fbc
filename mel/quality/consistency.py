"""Consistency checks on stored quarterly series: outliers, running totals by mistake, decreasing totals.

The import writes warnings for what it sees in one file; these checks look at a partner's whole
stored history (the reported totals of the versions that count, reports awaiting review included:
a data-quality page is where a doubtful figure should show before approval). One grouped query;
the rules of ``mel.reports.plausibility`` run on the small per-series result. Flags hold no
language: indicator names come in English and Spanish, and the page shows the reader's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner
from mel.core.i18n import in_language
from mel.reports.plausibility import decreased, looks_cumulative, outlier
from mel.results.counting import Scope, counted_values

FLAGS = ("outlier", "cumulative_by_mistake", "decreased")


@dataclass(frozen=True)
class SeriesFlag:
    """One doubtful quarterly total of one indicator and partner."""

    flag: str
    indicator: str
    name_en: str
    """The indicator's name in English and Spanish: shown with ``indicator_name(lang)``."""
    name_es: str
    partner: str
    partner_name: str
    period: str
    value: float
    submission_id: int
    expected_low: float | None = None
    expected_high: float | None = None
    previous: float | None = None

    def indicator_name(self, lang: str) -> str:
        return in_language(lang, self.name_en, self.name_es)


def series_flags(
    session: Session,
    *,
    partnership_id: int,
    partner_ids: list[int] | None = None,
    k: float,
    min_history: int,
    include_provisional: bool = True,
    hide_sensitive: bool = False,
) -> list[SeriesFlag]:
    """Every flag of every (indicator, partner) series of totals, oldest quarter first.

    * outlier: outside median ± k × MAD of the partner's previous quarters (count and percent units);
    * cumulative_by_mistake: a quarterly (summed, non-cumulative) count that reaches the running
      total of the previous quarters: the partner reported "to date" figures;
    * decreased: a cumulative indicator (a running total) that went down.
    """
    scope = Scope(include_provisional=include_provisional, partner_ids=partner_ids)
    values = counted_values(scope, partnership_id=partnership_id, totals_only=True).subquery()
    rows = session.execute(
        select(
            values.c.indicator_id,
            values.c.partner_id,
            values.c.period,
            func.sum(values.c.value),
            func.max(values.c.submission_id),
        )
        .group_by(values.c.indicator_id, values.c.partner_id, values.c.period)
        .order_by(values.c.indicator_id, values.c.partner_id, values.c.period)
    ).all()
    if not rows:
        return []
    indicators = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.partnership_id == partnership_id))}
    partners = {p.id: p for p in session.scalars(select(Partner).where(Partner.partnership_id == partnership_id))}
    series: dict[tuple[int, int], list[tuple[str, float, int]]] = defaultdict(list)
    for ind_id, partner_id, period, number, submission_id in rows:
        series[(ind_id, partner_id)].append((period, float(number), int(submission_id)))
    flags: list[SeriesFlag] = []
    for (ind_id, partner_id), points in series.items():
        ind, partner = indicators[ind_id], partners[partner_id]
        if ind.unit in ("yes_no", "stage") or (hide_sensitive and ind.sensitive):
            continue
        names = ind.label("en"), ind.label("es")
        history: list[float] = []
        for period, value, submission_id in points:
            point = SeriesFlag("", ind.code, *names, partner.code, partner.name, period, value, submission_id)
            far = outlier(history, value, k=k, min_history=min_history)
            if far is not None:
                # counts and percents are never negative: the range says so, as the import warning does
                flags.append(replace(point, flag="outlier", expected_low=max(far.low, 0.0), expected_high=far.high))
            summed = ind.unit == "count" and ind.aggregation == "sum" and not ind.cumulative
            if summed and looks_cumulative(history, value):
                flags.append(replace(point, flag="cumulative_by_mistake", previous=sum(history)))
            if ind.cumulative and decreased(history[-1] if history else None, value):
                flags.append(replace(point, flag="decreased", previous=history[-1]))
            history.append(value)
    return sorted(flags, key=lambda f: (f.period, f.partner, f.indicator, f.flag))
