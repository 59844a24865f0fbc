"""The numbers of the demo: a plausible 2018-2022 history of the Peru CPC partners, quarter by quarter.

It follows the endline evaluation's story: in-person training until 2019, online from the COVID-19
lockdown of March 2020, hybrid in 2022; ILO in Lima, Cusco and Loreto, then Puno and Madre de Dios;
Yanapanakusun in Cusco; ABA-ROLI in Puno and Madre de Dios. People-trained indicators are the sums
of the training rows (one deliberate exception, for the data-quality page). Everything comes from
one seeded random generator, so the same seed writes the same workbooks byte for byte.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from demo import outcomes
from mel.core.periods import quarter_end, quarter_start, quarters
from mel.workbooks.labels import yes_no
from mel.workbooks.report_writer import IndicatorRow, Report, TrainingRow
from mel.workbooks.spec import IndicatorSpec

FIRST, LAST = "2018Q1", "2022Q2"
PERIODS = list(quarters(FIRST, LAST))
SPANISH_PARTNERS = frozenset({"yanapanakusun", "chs"})

MISMATCH = ("idl", "2019Q3", "1.1.a")
"""The one report whose people-trained total does not match its training rows (an event left out)."""
LATE = frozenset({("aba-roli", "2019Q1"), ("chs", "2020Q2"), ("yanapanakusun", "2020Q2"), ("idl", "2021Q1")})
CORRECTED: dict[tuple[str, str], str] = {
    ("aba-roli", "2019Q2"): "The Trainings sheet is missing: please add the training events behind 1.1.a.",
    ("chs", "2020Q3"): "Please describe the COVID-19 challenges and the adaptations made in the narrative.",
    ("ilo", "2021Q1"): "1.b looks too high against the cases by region: please check the total.",
}
PENDING = frozenset({("ilo", LAST), ("yanapanakusun", LAST), ("chs", LAST)})
"""Left awaiting review, so that the review queue of the demo is not empty (CHS's awaits ILO's review)."""

TRAINED = {"prosecution": "1.1.a", "protection": "2.1.a", "prevention": "3.1.b"}
PARTNER_PILLARS = {
    "ilo": ("prosecution", "protection"),
    "chs": ("protection",),
    "idl": ("prosecution",),
    "yanapanakusun": ("prevention",),
    "aba-roli": ("prosecution",),
}
INSTITUTIONS = {
    "prosecution": ("mpfn", "pnp", "judiciary", "minjus"),
    "protection": ("mimp", "minsa", "local-government", "cso", "minjus"),
    "prevention": ("minedu", "community", "local-government"),
}
FEMALE_SHARE = {"prosecution": 0.45, "protection": 0.7, "prevention": 0.65}
TITLES = {
    "prosecution": (
        ("Victim-centered investigation of child trafficking", "Investigación centrada en la víctima"),
        ("Oral litigation in trafficking cases", "Litigación oral en casos de trata de personas"),
        ("Financial investigation of trafficking networks", "Investigación financiera de redes de trata"),
        ("Interviewing child victims without revictimization", "Entrevista a víctimas menores sin revictimización"),
    ),
    "protection": (
        ("Identification and referral of child victims", "Identificación y derivación de víctimas menores de edad"),
        ("Trauma-informed care for adolescents", "Atención informada en trauma para adolescentes"),
        ("Reintegration case management", "Gestión de casos de reintegración"),
    ),
    "prevention": (
        ("Detecting trafficking risks at school", "Detección de riesgos de trata en la escuela"),
        ("Referral routes for teachers", "Rutas de derivación para docentes"),
        ("Community surveillance committees", "Comités comunitarios de vigilancia"),
    ),
}
ADOPTIONS = {  # quarters when a protocol, guide or policy was formally adopted
    "1.2.a": {"ilo": {"2018Q4", "2019Q3", "2020Q4", "2021Q2", "2022Q1"}, "aba-roli": {"2020Q3", "2021Q4"}},
    "2.2.a": {"ilo": {"2019Q2", "2020Q1", "2021Q3"}, "chs": {"2019Q4", "2021Q1", "2022Q2"}},
    "4.1.a": {"ilo": {"2019Q1", "2020Q4", "2021Q3", "2022Q1"}},
}
SURVEY = {"2018Q4": 40, "2019Q4": 46, "2020Q4": 49, "2021Q4": 57}
"""3.a, Yanapanakusun's yearly community survey (percent who can identify trafficking risks)."""


def regions(partner: str, period: str) -> tuple[str, ...]:
    if partner == "yanapanakusun":
        return ("cusco",)
    if partner == "aba-roli":
        return ("puno", "madre-de-dios")
    if partner == "ilo" and period >= "2021Q1":
        return ("lima", "cusco", "loreto", "puno", "madre-de-dios")
    return ("lima", "cusco", "loreto")


def covid(period: str) -> bool:
    return "2020Q2" <= period <= "2020Q4"


def modality(period: str, rng: random.Random) -> str:
    if period <= "2020Q1":
        return "in-person"
    if period < "2022Q1":
        return "hybrid" if period >= "2021Q3" and rng.random() < 0.15 else "virtual"
    return "in-person" if rng.random() < 0.3 else "hybrid"


@dataclass
class Context:
    partner: str
    period: str
    lang: str
    rng: random.Random

    @property
    def index(self) -> int:
        return PERIODS.index(self.period)

    def es(self) -> bool:
        return self.lang == "es"


def trainings(ctx: Context, pillar: str) -> list[TrainingRow]:
    """The quarter's training events of one pillar: one row per event and participant institution."""
    rng = ctx.rng
    start, end = quarter_start(ctx.period), quarter_end(ctx.period)
    if ctx.period == "2020Q1":
        end = dt.date(2020, 3, 13)  # the lockdown began on March 16
    events = 1 if ctx.period == "2020Q2" else rng.randint(1, 2)
    rows: list[TrainingRow] = []
    for _ in range(events):
        mode = modality(ctx.period, rng)
        title_en, title_es = rng.choice(TITLES[pillar])
        day = start + dt.timedelta(days=rng.randint(5, (end - start).days - 3))
        length = rng.randint(0, 2) if mode == "in-person" else rng.randint(7, 21)
        finish = min(day + dt.timedelta(days=length), quarter_end(ctx.period))
        region = rng.choice(regions(ctx.partner, ctx.period))
        hours = float(rng.choice((8, 12, 16, 24))) if mode == "in-person" else float(rng.choice((6, 10, 12, 20)))
        pre = round(rng.uniform(42, 60), 1)
        post = round(min(98.0, pre + rng.uniform(15, 32)), 1)
        for institution in rng.sample(INSTITUTIONS[pillar], k=rng.randint(1, 2)):
            size = rng.randint(6, 16) if mode == "in-person" else rng.randint(10, 26)
            female = round(size * rng.uniform(FEMALE_SHARE[pillar] - 0.1, FEMALE_SHARE[pillar] + 0.1))
            other = rng.choice((0, 0, 0, 1)) if mode != "in-person" else 0
            under_18 = rng.randint(0, 4) if institution == "community" else None
            rows.append(
                TrainingRow(
                    title=title_es if ctx.es() else title_en,
                    start_date=day,
                    end_date=finish if finish != day else None,
                    pillar=pillar,
                    region=region,
                    modality=mode,
                    institution=institution,
                    female=female,
                    male=size - female,
                    other=other,
                    under_18=under_18,
                    hours=hours,
                    pre_score=pre,
                    post_score=post,
                )
            )
    return rows


def people_trained(code: str, rows: list[TrainingRow], dims: tuple[str, ...]) -> list[IndicatorRow]:
    """Total and one breakdown per dimension, computed from the training rows so they agree."""
    if not rows:
        return [IndicatorRow(code, 0)]
    total = sum(r.people for r in rows)
    out = [IndicatorRow(code, total)]
    if "sex" in dims:
        for sex in ("female", "male", "other"):
            n = sum(getattr(r, sex) for r in rows)
            if n:
                out.append(IndicatorRow(code, n, {"sex": sex}))
    for dim in ("institution", "region"):
        if dim in dims:
            counts: Counter[str] = Counter()
            for r in rows:
                counts[getattr(r, dim)] += r.people
            out += [IndicatorRow(code, n, {dim: cat}) for cat, n in sorted(counts.items()) if n]
    return out


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


NARRATIVE: dict[str, tuple[str, str]] = {
    "achievements": (
        "Training sessions were delivered as planned with the participating institutions.",
        "Las capacitaciones se realizaron según lo previsto con las instituciones participantes.",
    ),
    "challenges_turnover": (
        "Staff turnover in partner institutions means newly assigned officials need training.",
        "La rotación de personal en las instituciones obliga a capacitar a funcionarios recién asignados.",
    ),
    "challenges_covid": (
        "The COVID-19 state of emergency suspended in-person activities and delayed coordination.",
        "El estado de emergencia por la COVID-19 suspendió las actividades presenciales y retrasó la coordinación.",
    ),
    "adaptations": (
        "Courses moved online; materials were adapted for virtual platforms and mobile phones.",
        "Los cursos pasaron a modalidad virtual; se adaptaron los materiales para plataformas y celulares.",
    ),
    "context_2020Q4": (
        "Political crisis in November 2020: three presidents in one week slowed decisions in ministries.",
        "Crisis política en noviembre de 2020: tres presidentes en una semana frenaron decisiones en los ministerios.",
    ),
    "context_2021Q3": (
        "The National Policy against Trafficking in Persons to 2030 was approved.",
        "Se aprobó la Política Nacional frente a la Trata de Personas al 2030.",
    ),
}


def narrative(ctx: Context, *, complete: bool = True) -> list[tuple[str, str]]:
    pick = 1 if ctx.es() else 0
    entries = [("achievements", NARRATIVE["achievements"][pick])]
    if not complete:
        return entries
    in_covid = "2020Q1" <= ctx.period <= "2021Q2"
    entries.append(("challenges", NARRATIVE["challenges_covid" if in_covid else "challenges_turnover"][pick]))
    if "2020Q2" <= ctx.period <= "2021Q4":
        entries.append(("adaptations", NARRATIVE["adaptations"][pick]))
    if f"context_{ctx.period}" in NARRATIVE:
        entries.append(("context", NARRATIVE[f"context_{ctx.period}"][pick]))
    return entries


def report_date(ctx: Context) -> dt.date:
    """Most reports arrive within the 30 days after the quarter; a few are late."""
    late = (ctx.partner, ctx.period) in LATE
    days = ctx.rng.randint(45, 70) if late else ctx.rng.randint(8, 28)
    return quarter_end(ctx.period) + dt.timedelta(days=days)


SLOW_QUARTERS = frozenset({"2020Q1", "2020Q2", "2020Q3"})
"""The COVID-19 lockdown's quarters: offices closed, reports reached the officer later."""


def received_on(partner: str, period: str, report_date: dt.date | None) -> dt.date:
    """The day the report reached the officer: mostly within days of its date, later in the
    lockdown. A generator of its own, so the reports' numbers do not depend on it."""
    rng = random.Random(f"received:{partner}:{period}")
    day = (report_date or quarter_end(period) + dt.timedelta(days=20)) + dt.timedelta(days=rng.randint(0, 3))
    if period in SLOW_QUARTERS and rng.random() < 0.7:
        day += dt.timedelta(days=rng.randint(12, 40))
    return day


def quarterly_report(ctx: Context, indicators: list[IndicatorSpec]) -> tuple[Report, Report | None]:
    """The report as finally accepted, and the first version that was returned (if any)."""
    training = {p: trainings(ctx, p) for p in PARTNER_PILLARS.get(ctx.partner, ()) if TRAINED[p] in _codes(indicators)}
    outcomes.mark_repeats(ctx.partner, ctx.period, [r for pillar_rows in training.values() for r in pillar_rows])
    rows: list[IndicatorRow] = []
    for ind in indicators:
        produced = indicator_rows(ctx, ind, training)
        if (ctx.partner, ctx.period, ind.code) == MISMATCH and produced:
            produced = _one_event_left_out(ind, produced)
        rows += produced
    events = [row for pillar_rows in training.values() for row in pillar_rows]
    prepared = "Responsable de monitoreo" if ctx.es() else "M&E officer"
    final = Report(
        partner=ctx.partner,
        period=ctx.period,
        indicators=rows,
        trainings=events,
        narrative=narrative(ctx),
        followups=outcomes.followups(ctx.partner, ctx.period),
        prepared_by=prepared,
        report_date=report_date(ctx),
    )
    if (ctx.partner, ctx.period) not in CORRECTED:
        return final, None
    earlier = (final.report_date or quarter_end(ctx.period)) - dt.timedelta(days=7)
    first = Report(**{**final.__dict__, "report_date": earlier})
    if ctx.partner == "aba-roli":
        first.trainings = []
    elif ctx.partner == "chs":
        first.narrative = narrative(ctx, complete=False)
    else:
        first.indicators = [
            IndicatorRow(r.code, _int(r.value) * 3 + 4, r.categories) if r.code == "1.b" and not r.categories else r
            for r in rows
        ]
    return final, first


def _codes(indicators: list[IndicatorSpec]) -> set[str]:
    return {i.code for i in indicators}


def _one_event_left_out(ind: IndicatorSpec, rows: list[IndicatorRow]) -> list[IndicatorRow]:
    """Counts of a 12-person event that is missing from the Trainings sheet, kept internally consistent."""
    extra = {"sex": {"female": 7, "male": 5}, "institution": {"pnp": 12}, "region": {"lima": 12}}
    out = [IndicatorRow(rows[0].code, _int(rows[0].value) + 12, {}, rows[0].comment)]
    seen: set[tuple[str, str]] = set()
    for row in rows[1:]:
        ((dim, cat),) = row.categories.items()
        add = extra.get(dim, {}).get(cat, 0)
        seen.add((dim, cat))
        out.append(IndicatorRow(row.code, _int(row.value) + add, row.categories))
    for dim, cats in extra.items():
        if dim in ind.dimensions:
            out += [IndicatorRow(ind.code, n, {dim: c}) for c, n in cats.items() if (dim, c) not in seen]
    return out


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0
