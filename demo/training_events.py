"""The demo's training events, pillar by pillar, and the people-trained indicators computed from them.

In-person until the COVID-19 lockdown of March 2020, online from then, hybrid in 2022.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from demo.quarter_context import Context, regions
from mel.core.periods import quarter_end, quarter_start
from mel.workbooks.report_writer import IndicatorRow, TrainingRow

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


def modality(period: str, rng: random.Random) -> str:
    if period <= "2020Q1":
        return "in-person"
    if period < "2022Q1":
        return "hybrid" if period >= "2021Q3" and rng.random() < 0.15 else "virtual"
    return "in-person" if rng.random() < 0.3 else "hybrid"


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
    total = sum(r.participants for r in rows)
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
                counts[getattr(r, dim)] += r.participants
            out += [IndicatorRow(code, n, {dim: cat}) for cat, n in sorted(counts.items()) if n]
    return out
