"""Direct test data for the results layer: stored submissions and values, no workbook involved.

The importer's own tests prove that workbooks become these rows; query and page tests only need
the rows, built here through the real tables (no mocks), with catalog codes for readability.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mel.catalog.combinations import combination_id, combination_key
from mel.catalog.models import Category, Combination, Dimension, Indicator, Partner
from mel.reports.models import StoredFile, Submission, Value


def category_map(session: Session, partnership_id: int, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of (dimension code, category code) pairs, read in one query; every pair must exist."""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = session.execute(
        select(Dimension.code, Category.code, Category.id)
        .join(Dimension)
        .where(
            Dimension.partnership_id == partnership_id,
            Dimension.code.in_({d for d, _c in wanted}),
            Category.code.in_({c for _d, c in wanted}),
        )
    )
    found = {(d, c): cid for d, c, cid in rows if (d, c) in wanted}
    for pair in wanted:
        assert pair in found, pair
    return found


def category_ids(session: Session, partnership_id: int, categories: Mapping[str, str]) -> list[int]:
    found = category_map(session, partnership_id, categories.items())
    return [found[pair] for pair in categories.items()]


def _combinations(session: Session, combos: list[frozenset[int]]) -> dict[frozenset[int], int]:
    """Ids of the category sets: the stored ones in one query, the missing ones created in order of first use."""
    keys = {combination_key(c): c for c in combos}
    stored = dict(session.execute(select(Combination.key, Combination.id).where(Combination.key.in_(keys))).all())
    out: dict[frozenset[int], int] = {}
    for key, combo in keys.items():
        out[combo] = stored[key] if key in stored else combination_id(session, combo)
    return out


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
    codes = {code for code, _categories, _number in values}
    in_partnership = select(Indicator.code, Indicator.id).where(Indicator.partnership_id == p.partnership_id)
    indicators = dict(session.execute(in_partnership.where(Indicator.code.in_(codes))).all()) if codes else {}
    assert codes <= indicators.keys(), codes - indicators.keys()
    pairs = category_map(session, p.partnership_id, (pair for _c, cats, _n in values for pair in cats.items()))
    combo_of = [frozenset(pairs[pair] for pair in cats.items()) for _c, cats, _n in values]
    combos = _combinations(session, combo_of)
    rows = [
        {
            "submission_id": sub.id,
            "indicator_id": indicators[code],
            "combination_id": combos[combo],
            "partner_id": p.id,
            "period": period,
            "value": number,
            "sheet": "Indicators",
            "cell": f"F{n + 5}",
        }
        for n, ((code, _categories, number), combo) in enumerate(zip(values, combo_of, strict=True))
    ]
    if rows:
        session.execute(insert(Value), rows)
    session.flush()
    return sub
