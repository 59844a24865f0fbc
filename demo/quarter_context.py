"""The partner-quarter the demo's generators write for: the demo's quarters, where each partner works,
and ``Context`` (one partner, one quarter, its language and the shared seeded generator)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mel.core.periods import quarters

FIRST, LAST = "2018Q1", "2022Q2"
PERIODS = list(quarters(FIRST, LAST))
SPANISH_PARTNERS = frozenset({"yanapanakusun", "chs"})


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
