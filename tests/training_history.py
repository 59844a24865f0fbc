"""Stored trainings history for the trainings tests, and the page readers that recompute its figures.

The expected figures are plain Python sums over the ``Row`` objects stored here (only those of
submissions that count), compared with the page read through BeautifulSoup selectors.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy.orm import Session

from tests.training_factory import Event, Row, add_trainings
from tests.value_factory import add_submission

URL = "/p/peru-cpc/trainings"
PERIODS = ["2019Q3", "2019Q4", "2020Q1", "2020Q2", "2020Q3"]
PARTNER_PILLARS = {
    "ilo": ["prosecution", "protection"],
    "aba-roli": ["prosecution"],
    "chs": ["protection"],
    "yanapanakusun": ["prevention"],
}
TRAINED = {"prosecution": "1.1.a", "protection": "2.1.a", "prevention": "3.1.b"}
NEW_ONLY = ("1.1.c", "prosecution", {"ilo", "aba-roli", "idl"})
"""1.1.c counts the new participants of prosecution courses, reported by the partners it is assigned to."""
INSTITUTIONS = ["pnp", "mpfn", "judiciary", "minsa", "minedu", "community"]
REGIONS = ["lima", "cusco", "loreto", "puno"]
MISMATCH = ("ilo", "2020Q1", "1.1.a", 7)


@dataclass(frozen=True)
class Flat:
    """One stored attendance row with its event's and submission's attributes."""

    partner: str
    period: str
    status: str
    pillar: str
    region: str
    modality: str
    event: str
    row: Row

    def get(self, dim: str) -> str:
        return {
            "partner": self.partner,
            "quarter": self.period,
            "pillar": self.pillar,
            "region": self.region,
            "modality": self.modality,
            "institution": self.row.institution,
        }[dim]


def _events(rng: random.Random, partner: str, period: str, tag: str) -> list[Event]:
    events = []
    for pillar in PARTNER_PILLARS[partner]:
        for n in range(rng.randint(1, 3)):
            modality = "in-person" if period < "2020Q2" else rng.choice(["virtual", "virtual", "hybrid"])
            rows = []
            for inst in rng.sample(INSTITUTIONS, rng.randint(1, 3)):
                female, male, other = rng.randint(0, 25), rng.randint(0, 25), rng.choice([0, 0, 1, 2])
                total = female + male + other
                scored = rng.random() < 0.6
                pre = round(rng.uniform(30, 70), 1) if scored else None
                rows.append(
                    Row(
                        inst,
                        female=female,
                        male=male,
                        other=other,
                        under_18=rng.choice([None, 0, min(total, 3)]),
                        hours=rng.choice([None, 4.0, 8.0, 16.0]),
                        pre_score=pre,
                        post_score=round(min(100.0, pre + rng.uniform(-5, 30)), 1) if pre is not None else None,
                        repeat=female // 3,  # a third of the women had been trained before
                    )
                )
            events.append(Event(f"{tag} {partner} {period} {pillar} {n}", pillar, rng.choice(REGIONS), modality, rows))
    return events


def _store(session: Session, partner: str, period: str, status: str, events: list[Event], diff: int = 0) -> None:
    totals: dict[str, int] = defaultdict(int)
    for ev in events:
        totals[TRAINED[ev.pillar]] += sum(r.participants for r in ev.rows)
        if ev.pillar == NEW_ONLY[1] and partner in NEW_ONLY[2]:
            totals[NEW_ONLY[0]] += sum(r.participants - (r.repeat or 0) for r in ev.rows)
    values: list[tuple[str, Mapping[str, str], float]] = [
        (code, {}, float(n + (diff if code == MISMATCH[2] else 0))) for code, n in totals.items()
    ]
    sub = add_submission(session, partner=partner, period=period, values=values, status=status)
    add_trainings(session, sub, events)


Stored = tuple[str, str, str, list[Event], int]
"""One stored report: partner, period, status, its events and how far its total is off."""


def _history() -> tuple[list[Stored], list[Flat]]:
    """The reports of four partners over five quarters, and the rows of every current submission.

    Also reports that must never count: a superseded version and a returned report.
    """
    rng = random.Random(2020)
    reports: list[Stored] = []
    current: list[Flat] = []
    for partner in PARTNER_PILLARS:
        for period in PERIODS:
            status = "submitted" if (partner, period) in {("chs", "2020Q3"), ("aba-roli", "2019Q4")} else "approved"
            if (partner, period) == ("ilo", "2019Q4"):  # an earlier version, superseded below
                reports.append((partner, period, "approved", _events(rng, partner, period, "old"), 0))
            events = _events(rng, partner, period, "ev")
            diff = MISMATCH[3] if (partner, period) == MISMATCH[:2] else 0
            reports.append((partner, period, status, events, diff))
            current += [
                Flat(partner, period, status, ev.pillar, ev.region, ev.modality, ev.title, row)
                for ev in events
                for row in ev.rows
            ]
    reports.append(("idl", "2020Q1", "returned", _events(rng, "ilo", "2020Q1", "returned"), 0))
    return reports, current


def store_history(session: Session) -> None:
    for partner, period, status, events, diff in _history()[0]:
        _store(session, partner, period, status, events, diff)
    session.commit()


DB_SCENARIOS = {"history": store_history}


@pytest.fixture
def history(stored_scenarios: tuple[object, ...]) -> list[Flat]:
    """The rows of every current submission of the stored trainings (``DB_SCENARIOS``: the test's
    database is a copy of a template that holds them)."""
    assert store_history in stored_scenarios, "the test module's DB_SCENARIOS must name this fixture"
    return _history()[1]


def approved(rows: Iterable[Flat]) -> list[Flat]:
    return [r for r in rows if r.status == "approved"]


def num(cell: Tag | None) -> float:
    assert cell is not None
    text = cell.get_text(strip=True).replace(",", "").replace("%", "").strip()
    return 0.0 if text in ("", "—") else float(text)


def table_cells(page: BeautifulSoup, name: str) -> dict[tuple[str, str], float]:
    table = page.select_one(f"table.crosstab[data-table='{name}']")
    assert table is not None, name
    return {
        (str(tr["data-code"]), str(td["data-col"])): num(td)
        for tr in table.select("tbody tr[data-code]")
        for td in tr.select("td[data-col]")
    }


def nonzero(cells: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    return {k: v for k, v in cells.items() if v}


def by_attribute(rows: Iterable[Flat], dim: str, col: Callable[[Flat], Iterable[tuple[str, int]]]) -> dict:
    out: dict[tuple[str, str], float] = defaultdict(float)
    for r in rows:
        for code, n in col(r):
            out[(r.get(dim), code)] += n
    return nonzero(out)


def sexes(r: Flat) -> list[tuple[str, int]]:
    return [("female", r.row.female), ("male", r.row.male), ("other", r.row.other)]


def ages(r: Flat) -> list[tuple[str, int]]:
    if r.row.under_18 is None:
        return [("unknown", r.row.participants)]
    return [("under_18", r.row.under_18), ("adult", r.row.participants - r.row.under_18)]


def participants(r: Flat) -> list[tuple[str, int]]:
    return [("participants", r.row.participants)]
