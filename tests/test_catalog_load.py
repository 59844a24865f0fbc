"""Catalog loading: idempotent reloads that update in place, and no stored data lost or redefined."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.catalog_file import CatalogError
from mel.catalog.load_shared import TargetReason
from mel.catalog.models import Category, Indicator, Partner, Partnership, Target
from mel.catalog.service import load_catalog
from mel.core.audit import AuditEntry
from tests.catalog_factory import BASE, write

# --- loading into the database ---------------------------------------------------------------


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_load_is_idempotent_and_updates_in_place(tmp_path: Path, empty_db_url: str) -> None:
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    path = write(tmp_path, BASE)
    with transaction(factory) as s:
        first = load_catalog(session=s, path=path)
    assert first.changed
    with transaction(factory) as s:
        second = load_catalog(session=s, path=path)
        ids = {i.code: i.id for i in s.scalars(select(Indicator))}
    assert not second.changed
    with factory() as s:
        assert _count(s, AuditEntry) == 1  # the unchanged reload writes nothing, not even an audit entry

    changed = BASE.replace("    name: Operators trained\n", "    name: Justice operators trained\n").replace(
        "fiscal_years: {FY2019: 40, FY2020: 60}", "fiscal_years: {FY2019: 50, FY2020: 50}"
    )
    with transaction(factory) as s:
        third = load_catalog(
            session=s, path=write(tmp_path, changed), target_reason=TargetReason("Work plan revised", "2019Q1")
        )
    assert any("indicator 1.1.a" in u for u in third.updated)
    with factory() as s:
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        assert ind.id == ids["1.1.a"]
        assert ind.name == "Justice operators trained"
        assert {t.period: t.value for t in ind.targets} == {"": 100.0, "FY2019": 50.0, "FY2020": 50.0}
        assert _count(s, Target) == 3
        beta = s.scalars(select(Partner).where(Partner.code == "beta")).one()
        assert beta.parent is not None and beta.parent.code == "alpha"
    engine.dispose()


def _store_value(session: Session, indicator_code: str) -> None:
    """Store one real value through the same tables the importer uses."""
    from mel.catalog.combinations import combination_id
    from mel.reports.models import StoredFile, Submission, Value

    ind = session.scalars(select(Indicator).where(Indicator.code == indicator_code)).one()
    partner = session.scalars(select(Partner).where(Partner.code == "alpha")).one()
    female = session.scalars(select(Category).where(Category.code == "female")).one()
    session.add(StoredFile(sha256="0" * 64, size=1, original_name="x.xlsx"))
    sub = Submission(partner_id=partner.id, period="2019Q1", version=1, file_sha256="0" * 64)
    session.add(sub)
    session.flush()
    session.add(
        Value(
            submission_id=sub.id,
            indicator_id=ind.id,
            combination_id=combination_id(session, [female.id]),
            partner_id=partner.id,
            period="2019Q1",
            value=5,
            sheet="Indicators",
            cell="D5",
        )
    )


def test_reload_refuses_to_lose_or_redefine_stored_data(tmp_path: Path, empty_db_url: str) -> None:
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        _store_value(s, "1.1.a")

    removed = BASE.replace(BASE[BASE.index("  - code: 1.1.a") : BASE.index("  - code: 1.a")], "")
    recoded = BASE.replace("  - code: 1.1.a\n", "  - code: 1.1.x\n")
    unit = BASE.replace("    unit: count\n    aggregation: sum\n", "    unit: count\n    aggregation: latest\n")
    dims = BASE.replace("    dimensions: [sex]\n", "")
    category = BASE.replace("      - {code: female, en: Female, es: Femenino, aliases: [f, mujer]}\n", "")
    partner = (
        BASE.replace("  - code: alpha\n    name: Alpha\n", "")
        .replace("    parent: alpha\n", "")
        .replace("partners: [alpha, beta]", "partners: [beta]")
    )
    cases = [
        (removed, "indicators.1.1.a", "cannot be removed or re-coded"),
        (recoded, "indicators.1.1.a", "cannot be removed or re-coded"),
        (unit, "indicators.1.1.a", "aggregation cannot change"),
        (dims, "indicators.1.1.a", "dimensions cannot change"),
        (category, "dimensions.sex.categories.female", "cannot be removed"),
        (partner, "partners.alpha", "has submissions"),
    ]
    for text, key, message in cases:
        with pytest.raises(CatalogError) as info, transaction(factory) as s:
            load_catalog(session=s, path=write(tmp_path, text))
        assert any(f": {key}" in p and message in p for p in info.value.problems), (key, info.value.problems)
    with factory() as s:
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        assert ind.aggregation == "sum" and [d.code for d in ind.dimensions] == ["sex"]
        assert _count(s, Category) == 2
    engine.dispose()


def test_people_trained_flag_puts_the_indicator_in_the_training_consistency_check(
    tmp_path: Path, empty_db_url: str
) -> None:
    """``people_trained: true`` is stored, selects the indicator for the check, and changes as an update."""
    from mel.catalog.combinations import combination_id
    from mel.core.db import make_engine, make_sessionmaker, transaction
    from mel.quality.training_consistency import training_consistency, training_indicators
    from mel.reports.models import StoredFile, Submission, Value
    from mel.results.counting import Scope

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        partnership_id = s.scalars(select(Partnership.id)).one()
        assert training_indicators(s, partnership_id) == []
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        alpha = s.scalars(select(Partner).where(Partner.code == "alpha")).one()
        s.add(StoredFile(sha256="0" * 64, size=1, original_name="x.xlsx"))
        sub = Submission(partner_id=alpha.id, period="2019Q1", version=1, file_sha256="0" * 64, status="approved")
        s.add(sub)
        s.flush()
        s.add(
            Value(
                submission_id=sub.id,
                indicator_id=ind.id,
                combination_id=combination_id(s, []),
                partner_id=alpha.id,
                period="2019Q1",
                value=12,
                sheet="Indicators",
                cell="D5",
            )
        )
    flagged = BASE.replace("    name: Operators trained\n", "    name: Operators trained\n    people_trained: true\n")
    with transaction(factory) as s:
        summary = load_catalog(session=s, path=write(tmp_path, flagged))
    assert summary.updated == ["indicator 1.1.a (people_trained)"]
    with factory() as s:
        assert [(i.code, pillar) for i, pillar in training_indicators(s, partnership_id)] == [("1.1.a", "prosecution")]
        rows = training_consistency(s, partnership_id=partnership_id, scope=Scope())
        assert [(r.indicator, r.partner, r.period, r.reported, r.trained, r.flag) for r in rows] == [
            ("1.1.a", "alpha", "2019Q1", 12.0, None, "no_trainings")
        ]
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
    with factory() as s:
        assert training_consistency(s, partnership_id=partnership_id) == []
    engine.dispose()


def test_indicator_without_values_can_be_removed(tmp_path: Path, empty_db_url: str) -> None:
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
    removed = BASE[: BASE.index("  - code: 1.a")]
    with transaction(factory) as s:
        summary = load_catalog(session=s, path=write(tmp_path, removed))
    assert summary.removed == ["indicator 1.a"]
    engine.dispose()
