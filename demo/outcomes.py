"""Demo numbers beyond counts: repeat participants, training follow-up and stage indicators.

Each number comes from its own generator seeded by what it describes (partner, quarter, course),
never from the shared generator of ``demo.history``, so that adding them changes no other
demo number. The story follows the evaluations: staff turnover means more and more participants
have been trained before; follow-up six months later finds fewer people in post in 2020 (COVID-19
moved and sent home officials); FISTRAP offices climb the capacity rubric, Loreto falls back a
stage in 2020; the National Policy to 2030 is approved in 2021 and budgeted in 2022.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from mel.workbooks.report_writer import FollowUpRow, IndicatorRow, TrainingRow
from mel.workbooks.spec import IndicatorSpec

FOLLOW_UP_MONTHS = 6
FOLLOWED_YEARS = ("2019", "2020", "2021")
"""Courses of these years were followed up six months later (two quarters after the course's report)."""

RUBRIC = {  # 1.d: FISTRAP capacity by region at the end of each year (1 initial ... 4 advanced)
    "lima": {"2018": 2, "2019": 2, "2020": 3, "2021": 3},
    "cusco": {"2018": 1, "2019": 2, "2020": 2, "2021": 3},
    "loreto": {"2018": 1, "2019": 2, "2020": 1, "2021": 2},
    "puno": {"2021": 1},
    "madre-de-dios": {"2021": 2},
}
REGIONAL_PLANS = {  # 4.1.d: the regional anti-trafficking plan's stage at the end of each year
    "lima": {"2018": 1, "2019": 2, "2020": 2, "2021": 3},
    "cusco": {"2018": 2, "2019": 2, "2020": 3, "2021": 4},
    "loreto": {"2018": 1, "2019": 1, "2020": 1, "2021": 2},
    "puno": {"2021": 1},
    "madre-de-dios": {"2021": 1},
}
STAGE_CODES = frozenset({"1.d", "4.1.c", "4.1.d"})
NEW_ONLY = "1.1.c"  # people trained for the first time (prosecution pillar)

_history: dict[tuple[str, str], list[TrainingRow]] = {}


def _rng(*key: object) -> random.Random:
    return random.Random("|".join(str(k) for k in key))


def mark_repeats(partner: str, period: str, rows: Sequence[TrainingRow]) -> None:
    """Repeat participants: a tenth at first, up to about two fifths by 2022 as the same offices return."""
    year = int(period[:4])
    share = min(0.45, 0.08 + 0.07 * (year - 2018))
    for n, row in enumerate(rows):
        rng = _rng(partner, period, n, row.institution)
        row.repeat = min(row.participants, round(row.participants * rng.uniform(share * 0.6, share * 1.3)))
    _history[(partner, period)] = list(rows)


def new_participants(code: str, rows: Sequence[TrainingRow], dims: tuple[str, ...]) -> list[IndicatorRow]:
    """1.1.c: participants minus repeat participants, in total and by institution and region."""

    def new(r: TrainingRow) -> int:
        return r.participants - (r.repeat or 0)

    out = [IndicatorRow(code, sum(new(r) for r in rows))]
    for dim in ("institution", "region"):
        if dim in dims:
            counts: Counter[str] = Counter()
            for r in rows:
                counts[getattr(r, dim)] += new(r)
            out += [IndicatorRow(code, n, {dim: cat}) for cat, n in sorted(counts.items()) if n]
    return out


def stage_rows(ind: IndicatorSpec, partner: str, period: str, regions: Sequence[str]) -> list[IndicatorRow]:
    """Stages are scored once a year, in the fourth quarter, and written by level name."""
    if ind.code == "4.1.c" and period == "2022Q1" and ind.levels:  # the Policy's first budget line
        return [IndicatorRow(ind.code, ind.levels[2])]
    if not period.endswith("Q4") or not ind.levels:
        return []
    year = period[:4]

    def name(number: int) -> str:
        return ind.levels[number - 1]

    if ind.code == "4.1.c":
        number = 1 if year < "2021" else 2  # approved in 2021Q3
        return [IndicatorRow(ind.code, name(number))]
    table = RUBRIC if ind.code == "1.d" else REGIONAL_PLANS
    out = []
    for region in regions:
        stage = table.get(region, {}).get(year)
        if stage is not None:
            out.append(IndicatorRow(ind.code, name(stage), {"region": region}))
    return out


def followups(partner: str, period: str) -> list[FollowUpRow]:
    """The follow-up, six months on, of the courses reported two quarters earlier (2019-2021 courses)."""
    year, q = int(period[:4]), int(period[5])
    index = year * 4 + q - 1 - 2
    earlier = f"{index // 4}Q{index % 4 + 1}"
    if earlier[:4] not in FOLLOWED_YEARS:
        return []
    out = []
    covid = "2020Q1" <= earlier <= "2020Q4"
    for n, row in enumerate(_history.get((partner, earlier), [])):
        rng = _rng("followup", partner, earlier, n)
        people = row.participants
        reached = round(people * rng.uniform(0.55, 0.75) if covid else people * rng.uniform(0.75, 0.92))
        in_post = round(reached * (rng.uniform(0.55, 0.7) if covid else rng.uniform(0.8, 0.93)))
        applying = round(reached * (rng.uniform(0.35, 0.5) if covid else rng.uniform(0.6, 0.78)))
        out.append(
            FollowUpRow(
                title=row.title,
                start_date=row.start_date,
                institution=row.institution,
                months=FOLLOW_UP_MONTHS,
                participants=people,
                reached=reached,
                in_post=min(in_post, reached),
                applying=min(applying, reached),
            )
        )
    return out
