"""What a partner's workbook offers, read from the catalog once: indicators, dimensions, categories.

Templates, sample files and the demo all write workbooks from this plain snapshot, so that no
writer reaches into the database and every label comes from the catalog in the chosen language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mel.catalog.models import Dimension, Indicator, Partner, Partnership, indicator_partner
from mel.core.periods import fiscal_label, parse_quarter


class SpecError(Exception):
    """The partner or period cannot have a workbook (unknown partner, bad quarter, nothing assigned)."""


@dataclass(frozen=True)
class CategorySpec:
    code: str
    label: str


@dataclass(frozen=True)
class DimensionSpec:
    code: str
    label: str
    categories: tuple[CategorySpec, ...]

    def label_of(self, code: str) -> str:
        """The label of a category code in this dimension (the code itself when unknown)."""
        return next((c.label for c in self.categories if c.code == code), code)


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name: str
    unit: str
    dimensions: tuple[str, ...]
    pooled: bool = False  # a percent reported as numerator and denominator
    levels: tuple[str, ...] = ()  # a stage indicator's level names in the workbook's language


@dataclass
class PartnerSpec:
    """Everything a workbook for one partner and period needs, labels already in ``lang``."""

    lang: str
    partnership: str
    partner_code: str
    partner_name: str
    period: str
    fiscal_period: str
    pillars: tuple[str, ...]
    indicators: list[IndicatorSpec]
    dimensions: dict[str, DimensionSpec] = field(default_factory=dict)

    def used_dimensions(self) -> list[DimensionSpec]:
        """The dimensions the partner's indicators use, in catalog order."""
        used = {code for ind in self.indicators for code in ind.dimensions}
        return [dim for code, dim in self.dimensions.items() if code in used]


def dimension_specs(session: Session, partnership_id: int, lang: str) -> dict[str, DimensionSpec]:
    """Every dimension of a partnership with its categories, in catalog order."""
    dims = session.scalars(
        select(Dimension)
        .where(Dimension.partnership_id == partnership_id)
        .order_by(Dimension.position)
        .options(selectinload(Dimension.categories))
    ).all()
    return {
        d.code: DimensionSpec(
            d.code,
            d.label(lang),
            tuple(CategorySpec(c.code, c.label(lang)) for c in d.categories),
        )
        for d in dims
    }


def partner_spec(session: Session, *, partner_code: str, period: str, lang: str = "en") -> PartnerSpec:
    """The snapshot for ``partner_code`` and ``period``; SpecError when there is nothing to report."""
    quarter = parse_quarter(period)
    if quarter is None:
        raise SpecError(f"{period!r} is not a quarter such as 2021Q3")
    partner = session.scalar(select(Partner).where(Partner.code == partner_code))
    if partner is None:
        known = ", ".join(session.scalars(select(Partner.code).order_by(Partner.code)))
        raise SpecError(f"unknown partner {partner_code!r} (known: {known})")
    partnership = session.get_one(Partnership, partner.partnership_id)
    indicators = session.scalars(
        select(Indicator)
        .join(indicator_partner, indicator_partner.c.indicator_id == Indicator.id)
        .where(indicator_partner.c.partner_id == partner.id)
        .order_by(Indicator.position)
        .options(selectinload(Indicator.dimensions))
    ).all()
    if not indicators:
        raise SpecError(f"partner {partner_code!r} has no assigned indicators")
    return PartnerSpec(
        lang=lang,
        partnership=partnership.code,
        partner_code=partner.code,
        partner_name=partner.name,
        period=quarter,
        fiscal_period=fiscal_label(quarter, partnership.fiscal_year_start),
        pillars=tuple(partnership.pillars),
        indicators=[
            IndicatorSpec(
                i.code,
                i.label(lang),
                i.unit,
                tuple(d.code for d in i.dimensions),
                i.pooled,
                tuple(lv["es" if lang == "es" else "en"] for lv in i.levels or ()),
            )
            for i in indicators
        ],
        dimensions=dimension_specs(session, partnership.id, lang),
    )
