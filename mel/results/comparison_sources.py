"""Where a comparison's numbers come from: each measurement with its workbook cell and batch, and
the reported values behind a reported endline with their report version, sheet and cell."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.combinations import TOTAL_KEY, combination_key
from mel.catalog.models import Category, Combination, Dimension, Partner, Partnership
from mel.reports.models import Measurement, MeasurementBatch, StoredFile, Submission, Value
from mel.results.counting import Scope, submission_filter


def combination_of(
    session: Session, partnership: Partnership, dimension: str | None, category: str | None
) -> int | None:
    """The combination of one category of ``dimension`` (the total without one); None when unknown."""
    key = TOTAL_KEY
    if dimension and category:
        cat_id = session.scalar(
            select(Category.id)
            .join(Dimension, Dimension.id == Category.dimension_id)
            .where(Dimension.partnership_id == partnership.id, Dimension.code == dimension, Category.code == category)
        )
        if cat_id is None:
            return None
        key = combination_key([cat_id])
    return session.scalar(select(Combination.id).where(Combination.key == key))


def comparison_sources_of(
    session: Session, indicator_id: int, combination_id: int | None, scope: Scope
) -> tuple[list[Any], list[Any]]:
    """(measurements, reported values) of one indicator and combination; values as ``scope`` counts them."""
    if combination_id is None:
        return [], []
    measurements = list(
        session.execute(
            select(
                Measurement.id,
                Measurement.round,
                Measurement.date,
                Measurement.value,
                Measurement.source,
                Measurement.comparable,
                Measurement.note,
                Measurement.sheet,
                Measurement.cell,
                MeasurementBatch.id.label("batch_id"),
                MeasurementBatch.uploaded_at,
                StoredFile.original_name,
            )
            .join(MeasurementBatch, MeasurementBatch.id == Measurement.batch_id)
            .join(StoredFile, StoredFile.sha256 == MeasurementBatch.file_sha256)
            .where(Measurement.indicator_id == indicator_id, Measurement.combination_id == combination_id)
            .order_by(Measurement.date, Measurement.round, Measurement.id)
        )
    )
    values = list(
        session.execute(
            select(
                Partner.code.label("partner"),
                Value.period,
                Value.value,
                Submission.id.label("submission_id"),
                Submission.version,
                Submission.status,
                Value.sheet,
                Value.cell,
                Value.comment,
                Value.partner_id,
            )
            .join(Submission, Submission.id == Value.submission_id)
            .join(Partner, Partner.id == Value.partner_id)
            .where(
                Value.indicator_id == indicator_id,
                Value.combination_id == combination_id,
                submission_filter(scope),
            )
            .order_by(Value.period, Partner.code)
        )
    )
    return measurements, values
