"""Stage indicators on pages: how many units stand at each stage, and who moved between stages.

A stage is a rank, so nothing here adds or averages stage numbers: a region's (or an office's)
stage is one partner's latest value for that category, and the page counts units per level.
Both views are read from breakdowns that already passed the disclosure gate: a hidden cell is
counted as hidden, never by its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from mel.catalog.models import Dimension, Indicator, Partnership
from mel.catalog.stages import Level, Scale
from mel.core.i18n import Bilingual
from mel.results.counting import Scope
from mel.results.disclosure import Viewer
from mel.results.disclosure.indicator import disclose_breakdown
from mel.results.figure_periods import latest_quarter
from mel.results.figures import fold
from mel.results.indicator_page import Breakdown, breakdown
from mel.results.series import TOTAL, grouped


@dataclass(frozen=True)
class StageUnit:
    """One unit of a distribution: a category (a region) as one partner reports it."""

    name: Bilingual
    category_id: int
    partner_id: int
    number: int | None  # None: hidden by the disclosure gate
    period: str | None


@dataclass
class LevelCount:
    level: Level
    units: list[Bilingual] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.units)


@dataclass
class Distribution:
    """How many units stand at each level; ``hidden`` counts cells the gate withheld."""

    levels: list[LevelCount]
    hidden: int
    as_of: str | None
    target: int | None

    @property
    def total(self) -> int:
        return sum(c.count for c in self.levels) + self.hidden

    @property
    def at_target(self) -> int | None:
        """Units at or beyond the target stage (None without a target)."""
        if self.target is None:
            return None
        return sum(c.count for c in self.levels if c.level.number >= self.target)


def units_of(table: Breakdown | None) -> list[StageUnit]:
    """Each category × partner of a disclosed breakdown with its latest stage."""
    if table is None:
        return []
    out = []
    for row in table.rows:
        for pid in sorted(set(row.total.partners) | set(row.total.hidden_partners)):
            number = None if pid in row.total.hidden_partners else row.total.partners.get(pid)
            out.append(
                StageUnit(
                    Bilingual(row.label_en, row.label_es),
                    row.category_id,
                    pid,
                    None if number is None else int(number),
                    row.total.periods.get(pid),
                )
            )
    return out


def distribution(scale: Scale, table: Breakdown | None, target: float | None) -> Distribution:
    """Units per level of ``scale``, from a disclosed breakdown."""
    counts = [LevelCount(level) for level in scale.levels]
    hidden = 0
    periods = []
    for unit in units_of(table):
        level = scale.level(unit.number) if unit.number is not None else None
        if level is None:
            hidden += 1
            continue
        counts[level.number - 1].units.append(unit.name)
        if unit.period:
            periods.append(unit.period)
    return Distribution(counts, hidden, max(periods, default=None), None if target is None else int(target))


@dataclass(frozen=True)
class Move:
    name: Bilingual
    before: Level | None  # None: not reported at the earlier date
    after: Level

    def label(self, lang: str) -> str:
        return self.name.label(lang)

    @property
    def steps(self) -> int:
        return self.after.number - (self.before.number if self.before else self.after.number)


@dataclass
class Movement:
    """Change as movement between stages from ``since`` (the earlier date) to the latest values."""

    since: str
    moves: list[Move]

    @property
    def up(self) -> int:
        return sum(1 for m in self.moves if m.before and m.steps > 0)

    @property
    def down(self) -> int:
        return sum(1 for m in self.moves if m.before and m.steps < 0)

    @property
    def same(self) -> int:
        return sum(1 for m in self.moves if m.before and m.steps == 0)

    @property
    def new(self) -> int:
        return sum(1 for m in self.moves if m.before is None)


def movement(scale: Scale, before: Breakdown | None, after: Breakdown | None, since: str) -> Movement:
    """Each unit's stage at ``since`` against its latest; units hidden at either date are left out."""
    earlier = {(u.category_id, u.partner_id): scale.level(u.number) for u in units_of(before) if u.number is not None}
    hidden_before = {(u.category_id, u.partner_id) for u in units_of(before) if u.number is None}
    moves = []
    for unit in units_of(after):
        key = (unit.category_id, unit.partner_id)
        now = scale.level(unit.number) if unit.number is not None else None
        if now is None or key in hidden_before:
            continue
        moves.append(Move(unit.name, earlier.get(key), now))
    return Movement(since, moves)


def year_before(period: str) -> str:
    """The quarter four quarters before ``period``: where a yearly stage is compared from."""
    year, q = int(period[:4]), int(period[5])
    return f"{year - 1}Q{q}"


@dataclass
class StageView:
    """What the indicator page shows of a stage indicator: its levels, the distribution, the movement."""

    scale: Scale
    dimension: Dimension | None  # the units' dimension (regions), None: units are partners
    distribution: Distribution
    movement: Movement | None


def stage_view(
    session: Session,
    partnership: Partnership,
    indicator: Indicator,
    viewer: Viewer,
) -> StageView | None:
    """The distribution of the latest stages by the indicator's first dimension (by partner when it has
    none) and the movement since a year earlier, both through the disclosure gate."""
    scale = Scale.of(indicator.levels)
    if scale is None:
        return None
    dim = indicator.dimensions[0] if indicator.dimensions else None
    scope = viewer.scope()
    if dim is None:
        return StageView(scale, None, _by_partner(session, partnership, indicator, scale, viewer), None)
    latest = breakdown(session, partnership, indicator, scope, dim)
    disclose_breakdown(latest, indicator, viewer)
    shown = distribution(scale, latest, indicator.lop_target)
    move = None
    if shown.as_of:
        since = year_before(shown.as_of)
        earlier = breakdown(session, partnership, indicator, replace(scope, last_period=since), dim)
        disclose_breakdown(earlier, indicator, viewer)
        move = movement(scale, earlier, latest, since)
    return StageView(scale, dim, shown, move)


def _by_partner(
    session: Session, partnership: Partnership, indicator: Indicator, scale: Scale, viewer: Viewer
) -> Distribution:
    """Without a dimension each reporting partner is one unit: its latest total. A partner user sees
    other partners' stages as hidden units, and a sensitive indicator's stages are hidden from all
    but staff (a stage has no total to hide them in)."""
    scope: Scope = viewer.scope()
    cells = grouped(session, scope, partnership_id=partnership.id, indicator_ids=[indicator.id], combine_partners=True)
    totals = [c for c in cells if c.category_id == TOTAL]
    folded = fold(indicator, totals, end=latest_quarter(totals))
    names = {p.id: p.name for p in partnership.partners}
    counts = [LevelCount(level) for level in scale.levels]
    hidden = 0
    for pid, number in folded.partners.items():
        level = scale.level(number)
        if level is None or not viewer.sees_rows_of(pid) or viewer.hides(indicator.sensitive):
            hidden += 1
            continue
        counts[level.number - 1].units.append(Bilingual(names.get(pid, str(pid))))  # one name in both
    as_of = max(folded.periods.values(), default=None)
    target = indicator.lop_target
    return Distribution(counts, hidden, as_of, None if target is None else int(target))
