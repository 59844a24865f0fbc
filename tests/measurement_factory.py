"""Direct test data for evaluators' measurements: a batch and its rows, catalog codes in, real rows out."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_id
from mel.catalog.models import Indicator, Partnership
from mel.reports.models import Measurement, MeasurementBatch, StoredFile
from tests.value_factory import category_ids

Row = tuple[str, str, str, float]  # indicator, round, date, value


def add_measurements(
    session: Session,
    *,
    partnership: str,
    rows: list[tuple[str, str, str, float, Mapping[str, str], dict[str, object]]],
    name: str = "measurements.xlsx",
) -> int:
    """Store one batch with (indicator, round, date, value, categories, extra fields) rows; returns the batch id.

    ``extra`` may set ``source``, ``comparable`` and ``note``. Cells are D2, D3... in sheet order.
    """
    found = session.scalars(select(Partnership).where(Partnership.code == partnership)).one()
    digest = hashlib.sha256(f"{partnership}{name}{rows}".encode()).hexdigest()
    session.add(StoredFile(sha256=digest, size=1, original_name=name))
    session.flush()
    batch = MeasurementBatch(partnership_id=found.id, file_sha256=digest)
    session.add(batch)
    session.flush()
    records = []
    for n, (code, rnd, date, value, categories, extra) in enumerate(rows):
        ind_id = session.scalar(
            select(Indicator.id).where(Indicator.partnership_id == found.id, Indicator.code == code)
        )
        assert ind_id is not None, code
        records.append(
            {
                "batch_id": batch.id,
                "indicator_id": ind_id,
                "combination_id": combination_id(session, category_ids(session, found.id, categories)),
                "round": rnd,
                "date": date,
                "value": value,
                "source": extra.get("source"),
                "comparable": extra.get("comparable", True),
                "note": extra.get("note"),
                "sheet": "Measurements",
                "cell": f"D{n + 2}",
            }
        )
    session.execute(insert(Measurement), records)
    session.flush()
    return batch.id
