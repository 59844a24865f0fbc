"""One indicator in depth: its quarterly series against targets, the disaggregation explorer, the sources.

Every number on the indicator page can be traced: ``sources`` lists the stored values behind a
number (submission, version, sheet, cell), limited to the partners the viewer may see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Combination, ContextEvent, Dimension, Indicator, Partner, Partnership, localized
from mel.core.i18n import in_language
from mel.core.periods import fiscal_label, quarter_of
from mel.reports.models import Submission, Value
from mel.results.counting import Scope, submission_filter
from mel.results.figure_periods import latest_quarter
from mel.results.figure_targets import target_for
from mel.results.figures import Folded, fold
from mel.results.progress import Timeline, expected
from mel.results.series import TOTAL, Cell, grouped


@dataclass(frozen=True)
class SeriesPoint:
    """One quarter of the chart and its table."""

    period: str
    fiscal: str
    reported: Folded  # the quarter's own values
    to_date: Folded  # cumulative (sum) or latest so far
    target: float | None  # the catalog target of the quarter, else the pro-rated path to the LOP target
    events: list[EventMark]


@dataclass(frozen=True)
class EventMark:
    """A context event with its English and Spanish title and description; the page picks the language."""

    id: int
    title_en: str
    title_es: str | None
    starts_on: dt.date
    ends_on: dt.date | None
    period: str
    regions: list[str]
    pillars: list[str]
    description_en: str | None = None
    description_es: str | None = None

    def title(self, lang: str) -> str:
        return localized(self.title_en, self.title_es, lang).text or self.title_en

    def description(self, lang: str) -> str | None:
        return localized(self.description_en, self.description_es, lang).text

    def fallback(self, lang: str) -> bool:
        """The title (or description) is the English text standing in for a missing translation."""
        title = localized(self.title_en, self.title_es, lang)
        return title.fallback or localized(self.description_en, self.description_es, lang).fallback


def context_events(session: Session, partnership_id: int) -> list[EventMark]:
    """The partnership's events, in both languages where the catalog or officer gave them."""
    rows = session.scalars(
        select(ContextEvent).where(ContextEvent.partnership_id == partnership_id).order_by(ContextEvent.starts_on)
    ).all()
    return [
        EventMark(
            e.id,
            e.title,
            e.title_es,
            e.starts_on,
            e.ends_on,
            quarter_of(e.starts_on),
            list(e.regions),
            list(e.pillars),
            description_en=e.description,
            description_es=e.description_es,
        )
        for e in rows
    ]


def series(
    session: Session,
    partnership: Partnership,
    indicator: Indicator,
    scope: Scope,
    time: Timeline,
    *,
    baseline: float | None,
    events: list[EventMark],
) -> list[SeriesPoint]:
    """Per quarter of the partnership: reported, to date, and the target to compare with."""
    cells = [
        c
        for c in grouped(session, scope, partnership_id=partnership.id, indicator_ids=[indicator.id], dimension_ids=[])
        if c.category_id == TOTAL
    ]
    by_period: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        by_period[c.period].append(c)
    marks: dict[str, list[EventMark]] = defaultdict(list)
    for e in events:
        marks[e.period].append(e)
    out = []
    so_far: list[Cell] = []
    for n, period in enumerate(time.periods, start=1):
        so_far.extend(by_period.get(period, []))
        target = target_for(indicator, period, at=period)  # the quarter's own target, as in force then
        if target is None:
            target = expected(indicator, baseline, time, elapsed=n)
        out.append(
            SeriesPoint(
                period=period,
                fiscal=fiscal_label(period, partnership.fiscal_year_start),
                reported=fold(indicator, by_period.get(period, []), end=period),
                to_date=fold(indicator, so_far, end=period),
                target=target,
                events=marks.get(period, []),
            )
        )
    return out


@dataclass(frozen=True)
class BreakdownRow:
    category_id: int
    key: str  # combination key of the one-category combination
    label_en: str
    label_es: str | None
    total: Folded

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_en, self.label_es)


@dataclass(frozen=True)
class Breakdown:
    dimension: Dimension
    partner: Partner | None
    partner_ids: list[int]  # partners with values, in column order
    rows: list[BreakdownRow]
    total: Folded


def breakdown(
    session: Session,
    partnership: Partnership,
    indicator: Indicator,
    scope: Scope,
    dimension: Dimension,
) -> Breakdown:
    """The indicator by the categories of ``dimension`` over the partnership (sum or latest), per partner.

    A ``latest`` category comes from the same quarter as its partner's total.
    """
    cells = grouped(
        session,
        scope,
        partnership_id=partnership.id,
        indicator_ids=[indicator.id],
        dimension_ids=[dimension.id],
        combine_partners=True,
    )
    by_cat: dict[int, list[Cell]] = defaultdict(list)
    for c in cells:
        by_cat[c.category_id].append(c)
    end = latest_quarter(by_cat.get(TOTAL, []))
    total = fold(indicator, by_cat.get(TOTAL, []), end=end)
    align = total.periods if indicator.aggregation == "latest" else None
    rows = []
    for cat in dimension.categories:
        if cat.id in by_cat:
            folded = fold(indicator, by_cat[cat.id], end=end, align=align)
            if folded.partners:
                rows.append(BreakdownRow(cat.id, str(cat.id), cat.label_en, cat.label_es, folded))
    partners = sorted({p for r in rows for p in r.total.partners} | set(total.partners))
    only = None
    if scope.partner_ids is not None and len(scope.partner_ids) == 1:
        only = next((p for p in partnership.partners if p.id in scope.partner_ids), None)
    return Breakdown(dimension, only, partners, rows, total)


@dataclass
class Source:
    value_id: int
    value: float | None
    period: str
    partner: str
    submission_id: int
    version: int
    status: str
    sheet: str
    cell: str
    comment: str | None
    combination: str
    partner_id: int = 0
    combination_id: int = 0
    hidden: str | None = None  # set by the disclosure gate: small | secondary (the value is then None)


def sources(
    session: Session,
    indicator: Indicator,
    scope: Scope,
    *,
    period: str | None = None,
    combo: str = TOTAL_KEY,
    latest_only: bool = False,
) -> list[Source]:
    """The counted values behind one number: ``combo`` is a combination key ('' the total).

    ``latest_only`` keeps each partner's most recent quarter (the values a 'latest' number uses).
    """
    query = (
        select(
            Value.id,
            Value.value,
            Value.period,
            Partner.name,
            Submission.id,
            Submission.version,
            Submission.status,
            Value.sheet,
            Value.cell,
            Value.comment,
            Combination.key,
            Value.partner_id,
            Value.combination_id,
        )
        .join(Submission, Submission.id == Value.submission_id)
        .join(Partner, Partner.id == Value.partner_id)
        .join(Combination, Combination.id == Value.combination_id)
        .where(submission_filter(scope), Value.indicator_id == indicator.id, Combination.key == combo)
        .order_by(Value.period.desc(), Partner.name)
    )
    if period:
        query = query.where(Value.period == period)
    if latest_only and not period:
        last = (
            select(Value.partner_id, func.max(Value.period).label("period"))
            .join(Submission, Submission.id == Value.submission_id)
            .join(Combination, Combination.id == Value.combination_id)
            .where(submission_filter(scope), Value.indicator_id == indicator.id, Combination.key == combo)
            .group_by(Value.partner_id)
            .subquery()
        )
        query = query.join(last, (last.c.partner_id == Value.partner_id) & (last.c.period == Value.period))
    return [Source(*row) for row in session.execute(query)]
