"""The demo's indicator values for one partner and quarter: cases, victims, people reached, rates,
adoptions and surveys (people trained come from the training events)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from demo import outcomes
from demo.quarter_context import Context, regions
from demo.training_events import TRAINED, people_trained
from mel.workbooks.labels import yes_no
from mel.workbooks.report_writer import IndicatorRow, TrainingRow
from mel.workbooks.spec import IndicatorSpec

ADOPTIONS = {  # quarters when a protocol, guide or policy was formally adopted
    "1.2.a": {"ilo": {"2018Q4", "2019Q3", "2020Q4", "2021Q2", "2022Q1"}, "aba-roli": {"2020Q3", "2021Q4"}},
    "2.2.a": {"ilo": {"2019Q2", "2020Q1", "2021Q3"}, "chs": {"2019Q4", "2021Q1", "2022Q2"}},
    "4.1.a": {"ilo": {"2019Q1", "2020Q4", "2021Q3", "2022Q1"}},
}
SURVEY = {"2018Q4": 40, "2019Q4": 46, "2020Q4": 49, "2021Q4": 57}
"""3.a, Yanapanakusun's yearly community survey (percent who can identify trafficking risks)."""


def _by_region(code: str, counts: dict[str, int]) -> list[IndicatorRow]:
    rows = [IndicatorRow(code, sum(counts.values()))]
    return rows + [IndicatorRow(code, n, {"region": r}) for r, n in counts.items() if n]


def _cases(ctx: Context, ind: IndicatorSpec, low: int, high: int, ramp: int = 6) -> list[IndicatorRow]:
    """Cases per region, rising by one every ``ramp`` quarters as the project's work takes hold."""
    growth = ctx.index // ramp
    counts = {r: ctx.rng.randint(low, high + growth) for r in regions(ctx.partner, ctx.period)}
    if "region" in ind.dimensions:
        return _by_region(ind.code, counts)
    return [IndicatorRow(ind.code, sum(counts.values()))]


def _victims(ctx: Context, ind: IndicatorSpec) -> list[IndicatorRow]:
    """2.a: few children, so many cells are 1-4 (the small cells exports must suppress)."""
    rng = ctx.rng
    scale = 2 if ctx.partner == "ilo" else 1
    people = []
    for region in regions(ctx.partner, ctx.period):
        for _ in range(rng.randint(1, 3 * scale + 1)):
            sex = "female" if rng.random() < 0.8 else "male"
            age = "12-17" if rng.random() < 0.75 else "0-11"
            people.append((sex, age, region))
    out = [IndicatorRow(ind.code, len(people))]
    for position, dim in enumerate(("sex", "age_group", "region")):
        if dim in ind.dimensions:
            counts = Counter(p[position] for p in people)
            out += [IndicatorRow(ind.code, n, {dim: cat}) for cat, n in sorted(counts.items())]
    return out


def _reached(ctx: Context, ind: IndicatorSpec) -> list[IndicatorRow]:
    """3.1.a: awareness campaigns, down in the 2020 lockdown, then larger through radio and social media."""
    rng = ctx.rng
    base = (100, 300) if ctx.partner == "ilo" else (80, 250)
    factor = 0.3 if ctx.period == "2020Q2" else 1.3 if ctx.period > "2020Q2" else 1.0
    by_region = {r: int(rng.randint(*base) * factor) for r in regions(ctx.partner, ctx.period)}
    total = sum(by_region.values())
    female = round(total * rng.uniform(0.5, 0.58))
    children = round(total * rng.uniform(0.15, 0.25))
    adolescents = round(total * rng.uniform(0.35, 0.45))
    out = [IndicatorRow(ind.code, total)]
    if "sex" in ind.dimensions:
        out.append(IndicatorRow(ind.code, female, {"sex": "female"}))
        out.append(IndicatorRow(ind.code, total - female, {"sex": "male"}))
    if "age_group" in ind.dimensions:
        ages = {"0-11": children, "12-17": adolescents, "18+": total - children - adolescents}
        out += [IndicatorRow(ind.code, n, {"age_group": a}) for a, n in ages.items()]
    if "region" in ind.dimensions:
        out += [IndicatorRow(ind.code, n, {"region": r}) for r, n in by_region.items()]
    return out


def _percent(ctx: Context, ind: IndicatorSpec, value: float) -> list[IndicatorRow]:
    value = max(0.0, min(100.0, value))
    if ind.pooled:
        return _rate(ctx, ind, value)
    out = [IndicatorRow(ind.code, round(value, 1))]
    if "sex" in ind.dimensions:
        gap = ctx.rng.uniform(0.5, 4)
        out.append(IndicatorRow(ind.code, round(min(100.0, value + gap), 1), {"sex": "female"}))
        out.append(IndicatorRow(ind.code, round(max(0.0, value - gap), 1), {"sex": "male"}))
    return out


def _rate(ctx: Context, ind: IndicatorSpec, value: float) -> list[IndicatorRow]:
    """A pooled rate as its counts: people tested (or surveyed) and those who passed (or knew),
    so that quarters and partners pool; the value is left for the importer to compute."""
    rng = ctx.rng
    sizes = {"female": rng.randint(12, 70), "male": rng.randint(10, 60)} if "sex" in ind.dimensions else {}
    gap = rng.uniform(0.5, 4)
    passed = {
        sex: round(n * max(0.0, min(100.0, value + (gap if sex == "female" else -gap))) / 100)
        for sex, n in sizes.items()
    }
    if not sizes:
        total = rng.randint(30, 130)
        return [IndicatorRow(ind.code, None, numerator=round(total * value / 100), denominator=total)]
    out = [IndicatorRow(ind.code, None, numerator=sum(passed.values()), denominator=sum(sizes.values()))]
    for sex in sizes:
        out.append(IndicatorRow(ind.code, None, {"sex": sex}, numerator=passed[sex], denominator=sizes[sex]))
    return out


def _communities(ctx: Context, ind: IndicatorSpec) -> list[IndicatorRow]:
    """3.2.a: a stock that grows as committees are set up (none new during the lockdown)."""
    index = ctx.index if ctx.period < "2020Q2" else max(8, ctx.index - 2)
    count = min(7, index * 7 // 15)
    rows = [IndicatorRow(ind.code, count)]
    if count and "region" in ind.dimensions:
        rows.append(IndicatorRow(ind.code, count, {"region": "cusco"}))
    return rows


EXPLAINED = {
    ("2.1.a", "2018Q2"): (
        "Two new CARE teams in Cusco trained all their staff in the first months, ahead of the plan.",
        "Dos nuevos equipos CARE en Cusco capacitaron a todo su personal en los primeros meses, antes de lo previsto.",
    ),
}
"""Partners' comments that explain a deviation from the period's target (others are left unexplained)."""


def indicator_rows(ctx: Context, ind: IndicatorSpec, training: dict[str, list[TrainingRow]]) -> list[IndicatorRow]:
    """The rows of one indicator for one partner and quarter (empty when not reported this quarter)."""
    rows = _indicator_rows(ctx, ind, training)
    said = EXPLAINED.get((ind.code, ctx.period))
    if said and rows and not rows[0].categories:
        rows[0].comment = said[1] if ctx.es() else said[0]
    return rows


def _indicator_rows(ctx: Context, ind: IndicatorSpec, training: dict[str, list[TrainingRow]]) -> list[IndicatorRow]:
    code, rng = ind.code, ctx.rng
    if code in outcomes.STAGE_CODES:
        return outcomes.stage_rows(ind, ctx.partner, ctx.period, regions(ctx.partner, ctx.period))
    if code == outcomes.NEW_ONLY:
        return outcomes.new_participants(code, training.get("prosecution", []), ind.dimensions)
    pillar = next((p for p, c in TRAINED.items() if c == code), None)
    if pillar is not None:
        return people_trained(code, training.get(pillar, []), ind.dimensions)
    if code in ADOPTIONS:
        return [IndicatorRow(code, 1 if ctx.period in ADOPTIONS[code].get(ctx.partner, ()) else 0)]
    special: dict[str, Callable[[], list[IndicatorRow]]] = {
        "1.b": lambda: _cases(ctx, ind, 0, 1),
        "1.c": lambda: _cases(ctx, ind, 0, 0, ramp=9),
        "4.a": lambda: _cases(ctx, ind, 0, 1),
        "2.a": lambda: _victims(ctx, ind),
        "3.1.a": lambda: _reached(ctx, ind),
        "3.2.a": lambda: _communities(ctx, ind),
        "1.1.b": lambda: _percent(ctx, ind, 62 + 1.2 * ctx.index + rng.uniform(-3, 3)),
        "3.a": lambda: _percent(ctx, ind, SURVEY[ctx.period]) if ctx.period in SURVEY else [],
        "4.1.b": lambda: [IndicatorRow(code, yes_no(ctx.lang, ctx.period >= "2021Q3"))],
    }
    if code in special:
        return special[code]()
    if ind.unit == "percent":
        return _percent(ctx, ind, rng.uniform(50, 85))
    if ind.unit == "yes_no":
        return [IndicatorRow(code, yes_no(ctx.lang, False))]
    return [IndicatorRow(code, rng.randint(0, 10))]
