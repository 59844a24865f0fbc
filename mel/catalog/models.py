"""The results framework: partnerships, partners, dimensions, results and indicators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.core.db import Base, in_list, utcnow
from mel.core.i18n import in_language

PILLARS = ("prosecution", "protection", "prevention")
LEVELS = ("impact", "outcome", "output")
UNITS = ("count", "percent", "yes_no", "stage")
"""``stage``: an ordinal value, the number of one of the indicator's named ``levels`` (mel.catalog.stages)."""
SHEET_TEXTS = ("definition", "rationale", "data_source", "collection_method", "limitations")
"""Reference-sheet texts that the catalog may give in Spanish too (``definition_es``...)."""
AGGREGATIONS = ("sum", "latest")
DIRECTIONS = ("increase", "decrease", "none")


def pooled_rate(unit: str, numerator_label: str | None, denominator_label: str | None) -> bool:
    """A percent the catalog names a numerator and a denominator for (``rate:``): it pools. For
    queries that read the columns without loading the indicator."""
    return unit == "percent" and bool(numerator_label and denominator_label)


@dataclass(frozen=True)
class Localized:
    """A catalog text in the viewer's language; ``fallback`` when it is the English text standing in."""

    text: str | None
    fallback: bool = False

    def __str__(self) -> str:
        return self.text or ""

    def __bool__(self) -> bool:
        return bool(self.text)


def localized(english: str | None, spanish: str | None, lang: str) -> Localized:
    """Spanish for Spanish readers when the catalog has it; otherwise English, marked so pages can say so."""
    if lang == "es":
        if spanish:
            return Localized(spanish)
        return Localized(english, fallback=bool(english))
    return Localized(english)


class Partnership(Base):
    __tablename__ = "partnership"
    __table_args__ = (CheckConstraint("fiscal_year_start BETWEEN 1 AND 12", name="fiscal_year_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_es: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(Text)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    fiscal_year_start: Mapped[int] = mapped_column(Integer, default=10)
    pillars: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_file: Mapped[str | None] = mapped_column(String(500))
    dhis2: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # data_set (mel.exports.dhis2)

    partners: Mapped[list[Partner]] = relationship(back_populates="partnership", order_by="Partner.id")
    dimensions: Mapped[list[Dimension]] = relationship(back_populates="partnership", order_by="Dimension.position")
    results: Mapped[list[Result]] = relationship(back_populates="partnership", order_by="Result.position")
    indicators: Mapped[list[Indicator]] = relationship(back_populates="partnership", order_by="Indicator.position")

    def label(self, lang: str) -> str:
        return in_language(lang, self.name, self.name_es)


class Partner(Base):
    """An implementing partner; ``parent`` links a sub-recipient to its prime."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    pillars: Mapped[list[str]] = mapped_column(JSON, default=list)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    dhis2: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # org_unit (mel.exports.dhis2)
    starts_on: Mapped[dt.date | None] = mapped_column(Date)  # its agreement: when reports start being due
    ends_on: Mapped[dt.date | None] = mapped_column(Date)

    partnership: Mapped[Partnership] = relationship(back_populates="partners")
    parent: Mapped[Partner | None] = relationship(remote_side=[id])


class Dimension(Base):
    """A disaggregation axis (sex, age group, institution, region, modality) of one partnership."""

    __tablename__ = "dimension"
    __table_args__ = (UniqueConstraint("partnership_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(200))
    label_es: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    partnership: Mapped[Partnership] = relationship(back_populates="dimensions")
    categories: Mapped[list[Category]] = relationship(back_populates="dimension", order_by="Category.position")

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_en, self.label_es)


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("dimension_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(200))
    label_es: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    dhis2: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # org_unit of a region (mel.exports.dhis2)

    dimension: Mapped[Dimension] = relationship(back_populates="categories")

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_en, self.label_es)


class Combination(Base):
    """A normalized set of categories, one per dimension; ``key`` '' is the total.

    The key is the sorted category ids joined by commas, so one combination is stored once
    and every value, measurement and query refers to it by id.
    """

    __tablename__ = "combination"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    size: Mapped[int] = mapped_column(Integer, default=0)

    members: Mapped[list[CombinationMember]] = relationship(back_populates="combination")


class CombinationMember(Base):
    __tablename__ = "combination_member"
    __table_args__ = (UniqueConstraint("combination_id", "dimension_id"),)

    combination_id: Mapped[int] = mapped_column(ForeignKey("combination.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), primary_key=True, index=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id"))

    combination: Mapped[Combination] = relationship(back_populates="members")
    category: Mapped[Category] = relationship()


result_link = Table(
    "result_link",
    Base.metadata,
    Column("from_result_id", ForeignKey("result.id", ondelete="CASCADE"), primary_key=True),
    Column("to_result_id", ForeignKey("result.id", ondelete="CASCADE"), primary_key=True),
    CheckConstraint("from_result_id <> to_result_id", name="no_self_link"),
)


class Result(Base):
    """A node of the theory of change; ``contributes_to`` is the directed acyclic graph."""

    __tablename__ = "result"
    __table_args__ = (
        UniqueConstraint("partnership_id", "code"),
        CheckConstraint(in_list("level", LEVELS), name="level"),
        CheckConstraint("pillar IS NULL OR " + in_list("pillar", PILLARS), name="pillar"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    pillar: Mapped[str | None] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(Text)
    statement_es: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    partnership: Mapped[Partnership] = relationship(back_populates="results")
    contributes_to: Mapped[list[Result]] = relationship(
        secondary=result_link,
        primaryjoin=lambda: Result.id == result_link.c.from_result_id,
        secondaryjoin=lambda: Result.id == result_link.c.to_result_id,
        order_by=lambda: Result.position,
    )
    indicators: Mapped[list[Indicator]] = relationship(back_populates="result", order_by="Indicator.position")

    def label(self, lang: str) -> str:
        return in_language(lang, self.statement, self.statement_es)


indicator_dimension = Table(
    "indicator_dimension",
    Base.metadata,
    Column("indicator_id", ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension_id", ForeignKey("dimension.id", ondelete="CASCADE"), primary_key=True),
)

indicator_partner = Table(
    "indicator_partner",
    Base.metadata,
    Column("indicator_id", ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
)


class Indicator(Base):
    """An indicator with its Performance Indicator Reference Sheet fields and baseline."""

    __tablename__ = "indicator"
    __table_args__ = (
        UniqueConstraint("partnership_id", "code"),
        CheckConstraint(in_list("unit", UNITS), name="unit"),
        CheckConstraint(in_list("aggregation", AGGREGATIONS), name="aggregation"),
        CheckConstraint(in_list("direction", DIRECTIONS), name="direction"),
        CheckConstraint("unit = 'count' OR aggregation = 'latest'", name="no_summed_rates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    result_id: Mapped[int] = mapped_column(ForeignKey("result.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    name_es: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[str | None] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    data_source: Mapped[str | None] = mapped_column(Text)
    collection_method: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[str | None] = mapped_column(String(32))
    reported_in: Mapped[str | None] = mapped_column(String(16))  # calendar quarters due: "Q4", "Q2,Q4" (calendar)
    limitations: Mapped[str | None] = mapped_column(Text)
    definition_es: Mapped[str | None] = mapped_column(Text)
    rationale_es: Mapped[str | None] = mapped_column(Text)
    data_source_es: Mapped[str | None] = mapped_column(Text)
    collection_method_es: Mapped[str | None] = mapped_column(Text)
    limitations_es: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16))
    aggregation: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    denominator: Mapped[float | None] = mapped_column(Float)
    numerator_label: Mapped[str | None] = mapped_column(Text)  # a pooled rate: what its numerator counts
    denominator_label: Mapped[str | None] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    cumulative: Mapped[bool] = mapped_column(Boolean, default=False)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_year: Mapped[int | None] = mapped_column(Integer)
    baseline_source: Mapped[str | None] = mapped_column(Text)
    baseline_quarters: Mapped[int | None] = mapped_column(Integer)  # span of a flow indicator's baseline
    levels: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # a stage indicator's ordered levels
    new_participants_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    people_trained: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # counts people trained
    dhis2: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # data_element, category option combos
    position: Mapped[int] = mapped_column(Integer, default=0)

    partnership: Mapped[Partnership] = relationship(back_populates="indicators")
    result: Mapped[Result] = relationship(back_populates="indicators")
    dimensions: Mapped[list[Dimension]] = relationship(secondary=indicator_dimension, order_by=Dimension.position)
    partners: Mapped[list[Partner]] = relationship(secondary=indicator_partner, order_by=Partner.id)
    targets: Mapped[list[Target]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="Target.period"
    )

    @property
    def pooled(self) -> bool:
        """A percent stored as numerator and denominator, so that it pools across partners and quarters."""
        return pooled_rate(self.unit, self.numerator_label, self.denominator_label)

    def label(self, lang: str) -> str:
        return in_language(lang, self.name, self.name_es) or self.code

    def sheet_field(self, name: str, lang: str) -> Localized:
        """A reference-sheet field in ``lang``; English, marked as a fallback, where no translation exists."""
        return localized(getattr(self, name), getattr(self, f"{name}_es"), lang)

    @property
    def lop_target(self) -> float | None:
        """The life-of-partnership target of the whole indicator, as revised last (``mel.catalog.targets``
        gives the one in force for a period)."""
        return next((t.value for t in self.targets if t.period == "" and t.overall), None)


class Target(Base):
    """A target for the life of the partnership (period ''), a fiscal year ('FY2021') or a quarter,
    of the indicator, of one partner or of one category; ``value`` is the latest revision's."""

    __tablename__ = "target"
    __table_args__ = (UniqueConstraint("indicator_id", "period", "partner_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16), default="")
    value: Mapped[float] = mapped_column(Float)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"), index=True)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")
    revisions: Mapped[list[TargetRevision]] = relationship(
        back_populates="target", cascade="all, delete-orphan", order_by="TargetRevision.id", lazy="selectin"
    )

    @property
    def overall(self) -> bool:
        """A target of the whole indicator (not of one partner or one category)."""
        return self.partner_id is None and self.category_id is None


class TargetRevision(Base):
    """One value of a target in its history: the original (``effective_from`` None) and each revision,
    in force from its quarter on, with its reason and who approved it."""

    __tablename__ = "target_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    value: Mapped[float] = mapped_column(Float)
    effective_from: Mapped[str | None] = mapped_column(String(6))  # a quarter, '2020Q2'; None: from the start
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default="catalog")  # catalog | officer
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    target: Mapped[Target] = relationship(back_populates="revisions")


class ContextEvent(Base):
    """A dated event that shaped results (a lockdown, a political crisis), shown on charts."""

    __tablename__ = "context_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    title_es: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    description_es: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    pillars: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "starts_on": self.starts_on.isoformat()}

    def localized_title(self, lang: str) -> Localized:
        return localized(self.title, self.title_es, lang)

    def localized_description(self, lang: str) -> Localized:
        return localized(self.description, self.description_es, lang)

    def label(self, lang: str) -> str:
        return in_language(lang, self.title, self.title_es)
