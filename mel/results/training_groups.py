"""The grouped query of training rows: dimensions, their buckets (categories as shown) and the measures.

Sex and under-18 are columns of an attendance row, not attributes: they become categories through
CASE inside the SUMs (``_MEASURES``); every other dimension is a GROUP BY key (``_GROUP_KEYS``).
``_grouped`` groups on narrow ids and joins the labels to the small grouped result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from mel.catalog.models import PILLARS, Category, Dimension, Partner
from mel.core.i18n import N_, in_language, t
from mel.core.periods import quarters
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent
from mel.results.training_filters import AnySelect, TrainingFilter, _rows_from

Column = ColumnElement[Any] | InstrumentedAttribute[Any]


SPLIT_DIMENSIONS: Final = ("sex", "age")
"""Dimensions that are columns of an attendance row (female/male/other, under_18), not attributes."""
ATTRIBUTE_DIMENSIONS: Final = ("institution", "region", "modality", "pillar", "partner", "quarter")
DIMENSIONS: Final = ("sex", "age", "institution", "region", "modality", "pillar", "partner", "quarter")

_SEX_LABELS: Final = {"female": N_("Female"), "male": N_("Male"), "other": N_("Other or not recorded")}
_AGE_LABELS: Final = {"under_18": N_("Under 18"), "adult": N_("18 or older"), "unknown": N_("Age not recorded")}
_PILLAR_LABELS: Final = {
    "prosecution": N_("Prosecution"),
    "protection": N_("Protection"),
    "prevention": N_("Prevention"),
}
DIMENSION_LABELS: Final = {
    "sex": N_("Sex"),
    "age": N_("Age (under 18)"),
    "institution": N_("Institution"),
    "region": N_("Region"),
    "modality": N_("Modality"),
    "pillar": N_("Pillar"),
    "partner": N_("Partner"),
    "quarter": N_("Quarter"),
}


class NotCrossable(ValueError):
    """Two dimensions that the stored rows cannot cross (sex and age are separate columns)."""


_A = TrainingAttendance
PARTICIPANTS = _A.female + _A.male + _A.other
TOTAL_COLUMN = "participants"
_SCORED = and_(_A.pre_score.is_not(None), _A.post_score.is_not(None), PARTICIPANTS > 0)


_KNOWN_AGE = _A.under_18.is_not(None)
_MEASURES: Final[dict[str, ColumnElement[Any]]] = {
    TOTAL_COLUMN: func.sum(PARTICIPANTS),
    "female": func.sum(_A.female),
    "male": func.sum(_A.male),
    "other": func.sum(_A.other),
    "under_18": func.sum(case((_KNOWN_AGE, _A.under_18), else_=0)),
    "adult": func.sum(case((_KNOWN_AGE, PARTICIPANTS - _A.under_18), else_=0)),
    "unknown": func.sum(case((_KNOWN_AGE, 0), else_=PARTICIPANTS)),
}
"""Every SUM a table may need: sex and age are columns of a row, turned into categories by CASE."""


@dataclass(frozen=True)
class Bucket:
    """One category of a dimension: a stable code, its English and Spanish labels and a sort key.

    Queries give both labels; the reader's language is applied where the bucket is shown
    (``label(lang)``). With ``message`` set, ``label_en`` is a message translated with ``t`` there.
    """

    code: str
    label_en: str
    label_es: str | None = None
    order: tuple[Any, ...] = ()
    message: bool = False

    def label(self, lang: str) -> str:
        if self.message:
            return t(lang, self.label_en)
        return in_language(lang, self.label_en, self.label_es)


def message_bucket(code: str, message: str, order: tuple[Any, ...] = ()) -> Bucket:
    """A bucket whose label is a product message (a total, a pillar), translated where it is shown."""
    return Bucket(code, message, None, order, message=True)


ALL_TRAININGS: Final = message_bucket("all", N_("All trainings"))
"""The one bucket of figures over every counted training row."""
PARTICIPANTS_BUCKET: Final = message_bucket(TOTAL_COLUMN, N_("Participants"))
"""The one column of a one-way table."""


_GROUP_KEYS: Final[dict[str, Column]] = {
    "institution": _A.institution_id,
    "region": TrainingEvent.region_id,
    "modality": TrainingEvent.modality_id,
    "pillar": TrainingEvent.pillar,
    "partner": Submission.partner_id,
    "quarter": Submission.period,
}


WIDTH: Final = 4
"""Columns per dimension in a ``_grouped`` result: code, English label, Spanish label, order."""


def _grouped(filt: TrainingFilter, dims: list[str], measures: Sequence[ColumnElement[Any]]) -> AnySelect:
    """SUM ``measures`` over the counted rows GROUP BY the raw keys of ``dims``, then join their labels.

    Grouping on narrow ids (not label text) keeps the sort small; the labels are joined on the
    already grouped, small result. Each dimension gives ``WIDTH`` columns (code, English label,
    Spanish label, order), then the measures.
    """
    keys = [_GROUP_KEYS[d].label(f"k{n}") for n, d in enumerate(dims)]
    inner = _rows_from(select(*keys, *(m.label(f"m{n}") for n, m in enumerate(measures))), filt)
    if keys:
        inner = inner.group_by(*keys)
    sub = inner.subquery("grouped")
    columns: list[Column] = []
    joins: list[tuple[Any, ColumnElement[bool]]] = []
    for n, dim in enumerate(dims):
        key = sub.c[f"k{n}"]
        if dim in ("institution", "region", "modality"):
            cat = aliased(Category, name=f"{dim}_cat")
            columns += [cat.code, cat.label_en, cat.label_es, cat.position]
            joins.append((cat, cat.id == key))
        elif dim == "partner":
            partner = aliased(Partner, name="partner_label")
            columns += [partner.code, partner.name, partner.name, partner.id]
            joins.append((partner, partner.id == key))
        else:
            columns += [key, key, key, key]
    query = select(*columns, *(sub.c[f"m{n}"] for n in range(len(measures)))).select_from(sub)
    for target, on in joins:
        query = query.join(target, on)
    return query


def _bucket(dim: str, rec: Sequence[Any]) -> Bucket:
    """The bucket of ``dim`` from its ``WIDTH`` columns of a ``_grouped`` row."""
    code, label_en, label_es, order = rec
    if dim == "pillar":
        return message_bucket(code, _PILLAR_LABELS.get(code, code), (PILLARS.index(code) if code in PILLARS else 9,))
    return Bucket(code, label_en, label_es, (order, code))


def split_buckets(session: Session, partnership_id: int, dim: str) -> list[Bucket]:
    """The categories of sex or age; sex takes the partnership's catalog labels when it has them."""
    labels = _SEX_LABELS if dim == "sex" else _AGE_LABELS
    catalog: dict[str, tuple[str, str | None]] = {}
    if dim == "sex":
        catalog = {
            code: (en, es)
            for code, en, es in session.execute(
                select(Category.code, Category.label_en, Category.label_es)
                .join(Dimension, Dimension.id == Category.dimension_id)
                .where(Dimension.partnership_id == partnership_id, Dimension.code == "sex")
            )
        }
    return [
        Bucket(code, *catalog[code], (n,))
        if code in catalog and catalog[code][0]
        else message_bucket(code, label, (n,))
        for n, (code, label) in enumerate(labels.items())
    ]


def dimension_label(dim: str, lang: str) -> str:
    return t(lang, DIMENSION_LABELS[dim])


def _fill_quarters(found: list[Bucket]) -> list[Bucket]:
    """Every quarter between the first and last with data, so a trend shows its gaps as zeros."""
    if not found:
        return found
    return [quarter_bucket(q) for q in quarters(found[0].code, found[-1].code)]


def quarter_bucket(quarter: str) -> Bucket:
    """A quarter is shown as its code in every language."""
    return Bucket(quarter, quarter, None, (quarter,))
