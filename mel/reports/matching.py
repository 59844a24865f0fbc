"""The catalog as lookup tables, read once per workbook: partners, indicators, dimensions, categories.

A 100,000-row report must not cost one query per row: every name a cell may hold is a key of a
dict (``norm`` of the code, English label, Spanish label and each alias), built from a handful of
plain-column queries.

Assignment rule: a partner may report the indicators the catalog assigns to it (the
``indicator_partner`` table), and only those. A sub-recipient (``parent``) is a reporting partner of
its own: it reports its own assignments (the catalog lists them explicitly, e.g. IDL under ILO on
1.1.a), not its prime's; a prime does not report its sub-recipients' indicators. Values are then
added up across partners without counting any result twice.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from math import prod

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import (
    Category,
    Dimension,
    Indicator,
    Partner,
    Partnership,
    indicator_dimension,
    indicator_partner,
    pooled_rate,
)
from mel.catalog.stages import Scale
from mel.core.i18n import in_language
from mel.core.text import norm


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    id: int
    code: str
    name: str
    partnership_id: int


@dataclass(frozen=True, slots=True)
class IndicatorInfo:
    id: int
    code: str
    unit: str
    dimension_ids: frozenset[int]
    pooled: bool = False  # a percent reported as numerator and denominator (REPORT-FORMAT.md v1.1)
    scale: Scale | None = None  # a stage indicator's levels (mel.catalog.stages)


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    id: int
    code: str
    dimension_id: int


@dataclass
class DimensionInfo:
    id: int
    code: str
    label_en: str
    label_es: str
    names: list[str]
    categories: dict[str, CategoryInfo] = field(default_factory=dict)
    """norm(code | English label | Spanish label | alias) -> category."""
    labels: list[tuple[str, str]] = field(default_factory=list)
    """(English label, Spanish label) in catalog order, for messages."""

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_en, self.label_es)

    def choices(self, lang: str) -> str:
        return ", ".join(in_language(lang, en, es) for en, es in self.labels)

    @property
    def size(self) -> int:
        return len(self.labels)


@dataclass
class Framework:
    """One partnership's indicators and dimensions."""

    id: int
    code: str
    pillars: list[str]
    indicators: dict[str, IndicatorInfo]
    """casefolded code and norm(code) -> indicator."""
    codes: list[str]
    dimensions: dict[int, DimensionInfo]
    dimension_keys: dict[str, int]
    """norm(code | label | alias) -> dimension id."""
    assigned: dict[int, set[int]]
    """partner id -> ids of the indicators it reports."""

    def dimension(self, code: str) -> DimensionInfo | None:
        return next((d for d in self.dimensions.values() if d.code == code), None)

    def combinations(self, dimension_ids: frozenset[int]) -> int:
        return prod(self.dimensions[d].size for d in dimension_ids)

    def find_indicator(self, raw: object) -> IndicatorInfo | None:
        """The indicator of a cell holding its code, alone or followed by text ("1.1.a - Operadores")."""
        text = _text(raw)
        if not text:
            return None
        found = self.indicators.get(text.casefold()) or self.indicators.get(norm(text))
        if found is not None:
            return found
        first = text.split(None, 1)[0].rstrip(".:;,-–—")
        found = self.indicators.get(first.casefold())
        if found is not None:
            return found
        lowered = text.casefold()
        for code in sorted(self.codes, key=len, reverse=True):  # "1.1.a-Justice", "1.1.a: Justice"
            key = code.casefold()
            if len(lowered) > len(key) and lowered.startswith(key) and not lowered[len(key)].isalnum():
                return self.indicators[key]
        return None

    def suggest(self, raw: object, among: list[str] | None = None) -> list[str]:
        """The nearest codes to what a cell holds (its leading word), best first."""
        text = _text(raw)
        word = text.split(None, 1)[0] if text else ""
        pool = among or self.codes
        by_fold = {c.casefold(): c for c in pool}
        near = difflib.get_close_matches(word.casefold(), list(by_fold), n=3, cutoff=0.0)
        return [by_fold[c] for c in near]


def _text(raw: object) -> str:
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    return "" if raw is None else str(raw).strip()


_LEADING_WORD = re.compile(r"\s*(\S+)")


class CatalogIndex:
    """Partners of every partnership, and each partnership's framework on first use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.partners: dict[str, PartnerInfo] = {}
        self.partner_codes: list[str] = []
        self.by_partner_id: dict[int, PartnerInfo] = {}
        rows = session.execute(
            select(Partner.id, Partner.code, Partner.name, Partner.aliases, Partner.partnership_id).order_by(Partner.id)
        ).all()
        for pid, code, name, _aliases, partnership in rows:
            info = PartnerInfo(pid, code, name, partnership)
            self.by_partner_id[pid] = info
            self.partner_codes.append(code)
            self.partners[norm(code)] = info
        for pid, _code, name, aliases, _partnership in rows:  # a code always wins over another partner's name
            for other_name in (name, *(aliases or [])):
                self.partners.setdefault(norm(other_name), self.by_partner_id[pid])
        self.partnerships: dict[str, int] = {}
        self.partnership_codes: dict[int, str] = {}
        for sid, code, name, name_es in session.execute(
            select(Partnership.id, Partnership.code, Partnership.name, Partnership.name_es)
        ):
            self.partnership_codes[sid] = code
            for partnership_name in (code, name, name_es):
                if partnership_name:
                    self.partnerships.setdefault(norm(partnership_name), sid)
        self._frameworks: dict[int, Framework] = {}

    def find_partner(self, raw: object) -> PartnerInfo | None:
        text = _text(raw)
        if not text:
            return None
        found = self.partners.get(norm(text))
        if found is None:
            m = _LEADING_WORD.match(text)
            found = self.partners.get(norm(m.group(1))) if m else None
        return found

    def find_partnership(self, raw: object) -> int | None:
        return self.partnerships.get(norm(_text(raw))) if _text(raw) else None

    def framework(self, partnership_id: int) -> Framework:
        if partnership_id not in self._frameworks:
            self._frameworks[partnership_id] = _load_framework(self.session, partnership_id)
        return self._frameworks[partnership_id]


def _load_framework(session: Session, partnership_id: int) -> Framework:
    partnership = session.get_one(Partnership, partnership_id)
    dims: dict[int, DimensionInfo] = {}
    keys: dict[str, int] = {}
    for did, code, en, es, aliases in session.execute(
        select(Dimension.id, Dimension.code, Dimension.label_en, Dimension.label_es, Dimension.aliases)
        .where(Dimension.partnership_id == partnership_id)
        .order_by(Dimension.position, Dimension.id)
    ):
        names = [code, en, es, *(aliases or [])]
        dims[did] = DimensionInfo(did, code, en, es, names)
        for name in names:
            if name:
                keys.setdefault(norm(name), did)
    if dims:
        for cid, did, code, en, es, aliases in session.execute(
            select(
                Category.id,
                Category.dimension_id,
                Category.code,
                Category.label_en,
                Category.label_es,
                Category.aliases,
            )
            .where(Category.dimension_id.in_(list(dims)))
            .order_by(Category.dimension_id, Category.position, Category.id)
        ):
            dim = dims[did]
            info = CategoryInfo(cid, code, did)
            dim.labels.append((en, es))
            for name in (code, en, es, *(aliases or [])):
                if name:
                    dim.categories.setdefault(norm(name), info)
    dims_of: dict[int, set[int]] = {}
    for iid, did in session.execute(
        select(indicator_dimension.c.indicator_id, indicator_dimension.c.dimension_id)
        .join(Indicator, Indicator.id == indicator_dimension.c.indicator_id)
        .where(Indicator.partnership_id == partnership_id)
    ):
        dims_of.setdefault(iid, set()).add(did)
    indicators: dict[str, IndicatorInfo] = {}
    codes: list[str] = []
    for iid, code, unit, num, den, levels in session.execute(
        select(
            Indicator.id,
            Indicator.code,
            Indicator.unit,
            Indicator.numerator_label,
            Indicator.denominator_label,
            Indicator.levels,
        )
        .where(Indicator.partnership_id == partnership_id)
        .order_by(Indicator.position, Indicator.id)
    ):
        pooled = pooled_rate(unit, num, den)
        indicator = IndicatorInfo(iid, code, unit, frozenset(dims_of.get(iid, ())), pooled, Scale.of(levels))
        codes.append(code)
        indicators.setdefault(code.casefold(), indicator)
    normed = Counter(norm(code) for code in codes)
    for code in codes:  # norm() drops dots ("11a"): a key only where that stays unambiguous
        if normed[norm(code)] == 1:
            indicators.setdefault(norm(code), indicators[code.casefold()])
    assigned: dict[int, set[int]] = {}
    for iid, pid in session.execute(
        select(indicator_partner.c.indicator_id, indicator_partner.c.partner_id)
        .join(Indicator, Indicator.id == indicator_partner.c.indicator_id)
        .where(Indicator.partnership_id == partnership_id)
    ):
        assigned.setdefault(pid, set()).add(iid)
    return Framework(
        id=partnership_id,
        code=partnership.code,
        pillars=list(partnership.pillars or []),
        indicators=indicators,
        codes=codes,
        dimensions=dims,
        dimension_keys=keys,
        assigned=assigned,
    )
