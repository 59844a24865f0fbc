"""Direct test data for the results layer: stored submissions and values, no workbook involved.

The importer's own tests prove that workbooks become these rows; query and page tests only need
the rows, built here through the real tables (no mocks), with catalog codes for readability.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_id
from mel.catalog.models import Category, Dimension, Indicator, Partner
from mel.reports.models import StoredFile, Submission, Value


def category_ids(session: Session, partnership_id: int, categories: Mapping[str, str]) -> list[int]:
    ids = []
    for dim_code, cat_code in categories.items():
        cid = session.scalar(
            select(Category.id)
            .join(Dimension)
            .where(Dimension.partnership_id == partnership_id, Dimension.code == dim_code, Category.code == cat_code)
        )
        assert cid is not None, (dim_code, cat_code)
        ids.append(cid)
    return ids


def add_submission(
    session: Session,
    *,
    partner: str,
    period: str,
    values: list[tuple[str, Mapping[str, str], float]],
    status: str = "approved",
    version: int | None = None,
) -> Submission:
    """Store a report version for ``partner`` and ``period`` with (indicator, categories, value) rows.

    A newer version supersedes the current one, as the importer does.
    """
    p = session.scalars(select(Partner).where(Partner.code == partner)).one()
    current = session.scalars(
        select(Submission).where(
            Submission.partner_id == p.id, Submission.period == period, Submission.status != "superseded"
        )
    ).first()
    if current is not None:
        current.status = "superseded"
        session.flush()
    if version is None:
        version = (current.version + 1) if current else 1
    digest = hashlib.sha256(f"{partner}{period}{version}{values}".encode()).hexdigest()
    if session.get(StoredFile, digest) is None:
        session.add(StoredFile(sha256=digest, size=1, original_name=f"{partner}-{period}.xlsx"))
    sub = Submission(partner_id=p.id, period=period, version=version, status=status, file_sha256=digest)
    session.add(sub)
    session.flush()
    rows = []
    for n, (code, categories, number) in enumerate(values):
        ind = session.scalars(
            select(Indicator).where(Indicator.partnership_id == p.partnership_id, Indicator.code == code)
        ).one()
        combo = combination_id(session, category_ids(session, p.partnership_id, categories))
        rows.append(
            {
                "submission_id": sub.id,
                "indicator_id": ind.id,
                "combination_id": combo,
                "partner_id": p.id,
                "period": period,
                "value": number,
                "sheet": "Indicators",
                "cell": f"F{n + 5}",
            }
        )
    if rows:
        session.execute(insert(Value), rows)
    session.flush()
    return sub
