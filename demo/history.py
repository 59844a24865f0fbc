"""The numbers of the demo: a plausible 2018-2022 history of the Peru CPC partners, quarter by quarter.

It follows the endline evaluation's story: in-person training until 2019, online from the COVID-19
lockdown of March 2020, hybrid in 2022; ILO in Lima, Cusco and Loreto, then Puno and Madre de Dios;
Yanapanakusun in Cusco; ABA-ROLI in Puno and Madre de Dios. People-trained indicators are the sums
of the training rows (one deliberate exception, for the data-quality page). Everything comes from
one seeded random generator, so the same seed writes the same workbooks byte for byte.

This module assembles each quarterly report; the quarters and partners are ``demo.quarter_context``,
the training events ``demo.training_events`` and the other indicators ``demo.indicator_values``.
"""

from __future__ import annotations

import datetime as dt
import random

from demo import outcomes
from demo.indicator_values import indicator_rows
from demo.quarter_context import LAST, Context
from demo.training_events import PARTNER_PILLARS, TRAINED, trainings
from mel.core.periods import quarter_end
from mel.workbooks.report_writer import IndicatorRow, Report
from mel.workbooks.spec import IndicatorSpec

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
