"""The Indicator Performance Tracking Table (IPTT), USAID's layout, as plain rows.

One row per indicator, grouped by result level (impact, outcomes, outputs): the baseline, then per
period bucket the target, the actual and the actual as a percent of the target, then the same for
the life of the partnership. Under each indicator come its partner rows and one-dimension
disaggregation rows. Buckets are quarters, fiscal years (the partnership's fiscal start month) or
none (life of partnership only). The page, the XLSX download and ``mel export iptt`` all read
``iptt_table``; numbers come from one grouped query (``series.grouped``) folded per bucket.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY
from mel.catalog.models import Category, Combination, Indicator, Partnership
from mel.core.i18n import in_language
from mel.core.periods import fiscal, quarter_of, quarters
from mel.reports.models import Submission, Value
from mel.results.counting import Scope, submission_filter
from mel.results.figure_periods import latest_quarter
from mel.results.figure_targets import original_target, target_for
from mel.results.figures import Folded, Rule, deviation, empty, fold, pct_of, rule_of
from mel.results.progress import baseline_measurements, latest_measurements
from mel.results.series import TOTAL, Cell, grouped

GRANULARITIES = ("quarter", "fy", "lop")
LEVEL_ORDER = ("impact", "outcome", "output")


@dataclass(frozen=True)
class Bucket:
    label: str  # 2021Q3 | FY2021
    periods: tuple[str, ...]
    target_key: str  # the Target.period that holds this bucket's target


@dataclass
class IpttCell:
    target: float | None
    actual: float | None
    provisional: bool = False
    partners: int = 0  # partners whose values the cell holds (a percent of several has no actual)
    hidden: str | None = None  # set by the disclosure gate: small | secondary (the actual is then None)
    direction: str = "increase"
    as_of: str | None = None  # a latest value carried from an earlier quarter
    numerator: float | None = None  # a pooled rate's counts
    denominator: float | None = None
    explanation: str | None = None  # the partners' comments on the bucket's totals
    quarters: tuple[str, ...] = ()  # of a deviating cell: where its explanation is looked up
    original_target: float | None = None  # the target before its revisions, where it was revised

    @property
    def pct_of_target(self) -> float | None:
        """The figures engine's % of target (null without a target, or for a falling indicator)."""
        return pct_of(self.direction, self.actual, self.target)

    @property
    def deviation(self) -> str | None:
        """over | under outside 100 ± 10 % of target: the IPTT asks for an explanation."""
        return deviation(self.pct_of_target)


@dataclass
class IpttRow:
    kind: str  # indicator | partner | category
    level: str
    pillar: str | None
    result: str
    indicator: str
    name_en: str  # the indicator's name in English and Spanish: see ``name(lang)``
    name_es: str | None
    unit: str
    aggregation: str
    baseline: float | None
    label_en: str  # the partner or category, '' for the indicator row: see ``label(lang)``
    label_es: str | None
    dimension: str  # dimension code of a category row, '' otherwise
    cells: list[IpttCell]
    lop: IpttCell
    per_partner: bool = False  # a percent or yes/no reported by several partners: see the partner rows
    source: str = "reports"  # reports | measurement
    sensitive: bool = False  # counts of victims: the disclosure gate hides 1 to 4 from all but staff
    partner_id: int | None = None  # of a partner row
    category: str = ""  # category code of a category row
    baseline_hidden: str | None = None  # set by the disclosure gate
    children: list[IpttRow] = field(default_factory=list)
    expandable: bool = False  # the indicator has disaggregation rows to show
    expanded: bool = True  # its disaggregation rows were computed (see ``iptt_table(expand=...)``)
    levels: list[dict[str, Any]] | None = None  # a stage indicator's levels: cells show their names

    def name(self, lang: str) -> str:
        return in_language(lang, self.name_en, self.name_es)

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_en, self.label_es)

    def record(self, buckets: list[Bucket], lang: str, originals: bool = False) -> dict[str, Any]:
        """A flat dictionary for exports, names in ``lang``: one key per bucket and measure
        (``originals``: and the original target beside each revised one)."""
        skip: tuple[str, ...] = ("cells", "lop", "children", "expandable", "expanded", "partner_id")
        skip += ("baseline_hidden", "category", "levels", "name_es", "label_es")
        shown = {"name_en": ("name", self.name(lang)), "label_en": ("label", self.label(lang))}
        out = dict(shown.get(k, (k, v)) for k, v in asdict(self).items() if k not in skip)
        for bucket, cell in zip(buckets, self.cells, strict=True):
            out[f"{bucket.label} target"] = cell.target
            if originals:
                out[f"{bucket.label} original target"] = cell.original_target
            out[f"{bucket.label} actual"] = cell.actual
            out[f"{bucket.label} %"] = cell.pct_of_target
        out["LOP target"], out["LOP actual"], out["LOP %"] = self.lop.target, self.lop.actual, self.lop.pct_of_target
        if originals:
            out["LOP original target"] = self.lop.original_target
        return out


@dataclass
class Iptt:
    partnership: Partnership
    granularity: str
    buckets: list[Bucket]
    rows: list[IpttRow]  # indicator rows, each with its children

    def flat(self) -> list[IpttRow]:
        """Indicator rows followed by their partner and category rows, in table order."""
        return [r for row in self.rows for r in (row, *row.children)]

    def records(self, lang: str, originals: bool = False) -> list[dict[str, Any]]:
        return [r.record(self.buckets, lang, originals) for r in self.flat()]


def buckets(
    partnership: Partnership, granularity: str, *, first: str | None = None, last: str | None = None
) -> list[Bucket]:
    """The period columns: quarters or fiscal years of the partnership within ``first``..``last``."""
    periods = [
        p
        for p in quarters(quarter_of(partnership.starts_on), quarter_of(partnership.ends_on))
        if (first is None or p >= first) and (last is None or p <= last)
    ]
    if granularity == "quarter":
        return [Bucket(p, (p,), p) for p in periods]
    if granularity == "fy":
        years: dict[int, list[str]] = defaultdict(list)
        for p in periods:
            years[fiscal(p, partnership.fiscal_year_start)[0]].append(p)
        return [Bucket(f"FY{y}", tuple(ps), f"FY{y}") for y, ps in sorted(years.items())]
    return []


def _target(indicator: Indicator, bucket: Bucket, partner: int | None, category: int | None) -> float | None:
    """The target in force for a bucket (as revised by its last quarter), of the row's scope."""
    return target_for(indicator, bucket.target_key, bucket.periods, partner_id=partner, category_id=category)


def _cells(
    indicator: Indicator,
    cells: list[Cell],
    cols: list[Bucket],
    where: dict[str, int],
    *,
    targets: bool,
    partner: int | None = None,
    category: int | None = None,
    end: str,
    align: tuple[list[Folded], Folded] | None = None,
) -> tuple[list[IpttCell], IpttCell, list[Folded], Folded]:
    """One row's cells, folded by the figures engine: ``where`` maps a quarter to its bucket.

    ``align`` (the total's folds) makes a ``latest`` category take each partner's quarter of the
    total.
    """
    rule = rule_of(indicator)
    per_bucket: list[list[Cell]] = [[] for _ in cols]
    mine = cells if partner is None else [c for c in cells if c.partner_id == partner]
    for c in mine:
        i = where.get(c.period)
        if i is not None:
            per_bucket[i].append(c)
    out, folds = [], []
    for n, (bucket, chosen) in enumerate(zip(cols, per_bucket, strict=True)):
        along = align[0][n].periods if align else None
        f = fold(rule, chosen, end=bucket.periods[-1], align=along) if chosen else empty()
        folds.append(f)
        out.append(_cell(rule, f, _target(indicator, bucket, partner, category) if targets else None, bucket.periods))
        out[-1].original_target = (
            original_target(indicator, bucket.target_key, partner_id=partner, category_id=category) if targets else None
        )
    whole = fold(rule, mine, end=end or None, align=align[1].periods if align else None)
    lop_target = target_for(indicator, "", at=end or None, partner_id=partner, category_id=category)
    lop = _cell(rule, whole, lop_target if targets else None, tuple(whole.periods.values()))
    lop.original_target = original_target(indicator, "", partner_id=partner, category_id=category) if targets else None
    return out, lop, folds, whole


def _cell(
    rule: Rule,
    f: Folded,
    target: float | None,
    periods: tuple[str, ...],
) -> IpttCell:
    direction = "none" if rule.unit == "stage" else rule.direction  # a stage has no % of target
    cell = IpttCell(
        target, f.value, f.provisional, len(f.partners), None, direction, f.as_of, f.numerator, f.denominator
    )
    if target is not None and cell.deviation:  # explained once the table is built (``_explain``)
        cell.quarters = periods
    return cell


def iptt_table(
    session: Session,
    partnership: Partnership,
    scope: Scope,
    *,
    granularity: str = "fy",
    pillar: str | None = None,
    level: str | None = None,
    partner_names: dict[int, str] | None = None,
    expand: Collection[str] | None = None,
) -> Iptt:
    """The IPTT of ``partnership`` under ``scope`` (provisional, partners, period range), filtered by pillar and level.

    ``pillar`` 'cross-cutting' selects the results without a pillar. ``expand`` names the indicators
    whose disaggregation rows are computed (None: all, as exports want); partner rows always are.
    At a million values the disaggregation rows are nine tenths of the work and of the page.
    """
    cols = buckets(partnership, granularity, first=scope.first_period, last=scope.last_period)
    indicators = [
        ind
        for r in sorted(partnership.results, key=lambda r: (LEVEL_ORDER.index(r.level), r.position))
        for ind in r.indicators
        if (level is None or r.level == level)
        and (pillar is None or r.pillar == pillar or (pillar == "cross-cutting" and r.pillar is None))
    ]
    where = {p: i for i, b in enumerate(cols) for p in b.periods}
    names = partner_names or {p.id: p.name for p in partnership.partners}
    breakdown = None if expand is None else [i.id for i in indicators if i.code in set(expand)]
    all_cells = grouped(
        session,
        scope,
        partnership_id=partnership.id,
        indicator_ids=[i.id for i in indicators],
        combine_partners=True,
        breakdown_ids=breakdown,
    )
    by_key: dict[tuple[int, int], list[Cell]] = defaultdict(list)
    for c in all_cells:
        by_key[(c.indicator_id, c.category_id)].append(c)
    measured = latest_measurements(session, partnership.id)
    baselines = baseline_measurements(session, partnership.id)
    categories = _categories(indicators)
    rows = []
    for ind in indicators:
        result = ind.result
        latest = ind.aggregation == "latest"
        base = baselines.get(ind.id, ind.baseline_value)
        common: dict[str, Any] = {
            "level": result.level,
            "pillar": result.pillar,
            "result": result.code,
            "indicator": ind.code,
            "name_en": ind.label("en"),
            "name_es": ind.label("es"),
            "unit": ind.unit,
            "aggregation": ind.aggregation,
            "baseline": base,
            "sensitive": bool(ind.sensitive),
            "levels": ind.levels,
        }
        totals = by_key.get((ind.id, TOTAL), [])
        end = latest_quarter(totals) or ""  # the life-of-partnership figure stands at the latest report
        cells, lop, folds, whole = _cells(ind, totals, cols, where, targets=True, end=end)
        row = IpttRow(kind="indicator", label_en="", label_es=None, dimension="", cells=cells, lop=lop, **common)
        row.expandable = bool(ind.dimensions)
        row.expanded = expand is None or ind.code in expand
        reporting = {c.partner_id for c in totals if c.period in where or not cols}
        row.per_partner = whole.value is None and len(reporting) > 1
        if not totals and not ind.partners and ind.id in measured:
            row.lop.actual = measured[ind.id][0]
            row.source = "measurement"
        for pid in sorted(reporting, key=lambda p: names.get(p, "")):  # a stale LOP still has its periods
            p_cells, p_lop, _, _ = _cells(ind, totals, cols, where, targets=True, partner=pid, end=end)
            row.children.append(
                IpttRow(
                    kind="partner",
                    label_en=names.get(pid, str(pid)),
                    label_es=None,
                    dimension="",
                    cells=p_cells,
                    lop=p_lop,
                    partner_id=pid,
                    **common,
                )
            )
        for dim in ind.dimensions:
            for cat in categories.get(dim.id, []):
                cat_cells = by_key.get((ind.id, cat.id), [])
                if not cat_cells:
                    continue
                c_cells, c_lop, _, c_whole = _cells(
                    ind,
                    cat_cells,
                    cols,
                    where,
                    targets=True,
                    category=cat.id,
                    end=end,
                    align=(folds, whole) if latest else None,
                )
                child = IpttRow(
                    kind="category",
                    label_en=f"{dim.label('en')}: {cat.label('en')}",
                    label_es=f"{dim.label('es')}: {cat.label('es')}",
                    dimension=dim.code,
                    category=cat.code,
                    cells=c_cells,
                    lop=c_lop,
                    **common,
                )
                child.per_partner = c_whole.value is None and len(c_whole.partners) > 1
                row.children.append(child)
        rows.append(row)
    _explain(session, scope, rows, {i.code: i.id for i in indicators}, names)
    return Iptt(partnership, granularity if granularity in GRANULARITIES else "fy", cols, rows)


def _categories(indicators: Collection[Indicator]) -> dict[int, list[Category]]:
    return {dim.id: list(dim.categories) for ind in indicators for dim in ind.dimensions}


def _explain(session: Session, scope: Scope, rows: list[IpttRow], ids: dict[str, int], names: dict[int, str]) -> None:
    """Attach the partners' comments on the quarters of each deviating cell: its explanation.

    Only the deviating cells' indicators and quarters are read (through the covering index), so a
    table without deviations costs no query.
    """
    wanted = [(row, cell) for row in rows for cell in [*row.cells, row.lop] if cell.quarters]
    if not wanted:
        return
    notes = total_comments(
        session,
        scope,
        sorted({ids[row.indicator] for row, _cell in wanted}),
        sorted({q for _row, cell in wanted for q in cell.quarters}),
        names,
    )
    for row, cell in wanted:
        said = notes.get(ids[row.indicator], {})
        found = list(dict.fromkeys(text for q in sorted(set(cell.quarters)) for text in said.get(q, [])))
        cell.explanation = " · ".join(found[-3:]) or None


def total_comments(
    session: Session, scope: Scope, indicator_ids: list[int], periods: list[str], names: dict[int, str]
) -> dict[int, dict[str, list[str]]]:
    """The partners' comments on counted totals, per indicator and quarter."""
    rows = session.execute(
        select(Value.indicator_id, Value.period, Value.partner_id, Value.comment)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Combination, Combination.id == Value.combination_id)
        .where(
            submission_filter(scope),
            Value.indicator_id.in_(indicator_ids or [-1]),
            Combination.key == TOTAL_KEY,
            Value.period.in_(periods or ["-"]),
            Value.comment.is_not(None),
            Value.comment != "",
        )
        .order_by(Value.period, Value.partner_id)
    )
    out: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for iid, period, pid, comment in rows:
        out[iid][period].append(f"{names.get(pid, pid)}: {comment}")
    return out
