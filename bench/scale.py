"""A synthetic portfolio at scale: 6 partnerships x 10 partners x 20 quarters, about 1,000,000 values
(``partnerships=60``: about 10,000,000).

Shared by the page and export benchmarks. The catalogs are generated (same shape as the reference
framework: impact, outcomes, outputs, indicators disaggregated by sex, region and institution) and
loaded through the real catalog loader; submissions and values go in with bulk Core inserts, as
the importer stores them, every report approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert, select

from mel.catalog.combinations import combination_ids
from mel.catalog.models import Category, Dimension, Indicator, Partner, Partnership
from mel.catalog.service import load_catalog
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.periods import quarter_end, quarters
from mel.reports.models import StoredFile, Submission, Value

PARTNERSHIPS = 6
PARTNERS = 10
QUARTERS = list(quarters("2018Q1", "2022Q4"))  # 20 quarters
ON_TIME = {q: dt.datetime.combine(quarter_end(q) + dt.timedelta(days=20), dt.time(12)) for q in QUARTERS}
"""Each report arrives 20 days after its quarter: the portfolio's reporting record is that of a
partnership whose partners report on time, not a thousand late reports."""
COUNT_INDICATORS = 21
PERCENT_INDICATORS = 2
REGIONS = [f"region-{n}" for n in range(1, 7)]
INSTITUTIONS = [f"inst-{n}" for n in range(1, 14)]
SEXES = ["female", "male", "other"]


def catalog(n: int) -> dict[str, Any]:
    """The results framework of synthetic partnership ``n``."""
    code = f"scale-{n}"
    partners = [{"code": f"{code}-p{p}", "name": f"Partner {p} of {code}"} for p in range(PARTNERS)]
    pillars = ["prosecution", "protection", "prevention"]
    results: list[dict[str, Any]] = [{"code": "IMP", "level": "impact", "statement": "Child trafficking is reduced"}]
    for o, pillar in enumerate(pillars, start=1):
        results.append(
            {"code": str(o), "level": "outcome", "pillar": pillar, "contributes_to": ["IMP"], "statement": f"O{o}"}
        )
        results.append(
            {"code": f"{o}.1", "level": "output", "pillar": pillar, "contributes_to": [str(o)], "statement": f"{o}.1"}
        )
    partner_codes = [p["code"] for p in partners]
    indicators: list[dict[str, Any]] = []
    for i in range(COUNT_INDICATORS):
        o = i % 3 + 1
        indicators.append(
            {
                "code": f"{o}.1.{i}",
                "result": f"{o}.1",
                "unit": "count",
                "aggregation": "sum",
                "direction": "increase",
                "name": f"People reached {i}",
                "dimensions": ["sex", "region", "institution"],
                "partners": partner_codes,
                "baseline": {"value": 0},
                "target": {"value": 400_000},
            }
        )
    for i in range(PERCENT_INDICATORS):
        indicators.append(
            {
                "code": f"{i + 1}.p{i}",
                "result": str(i + 1),
                "unit": "percent",
                "aggregation": "latest",
                "direction": "increase",
                "name": f"Share passing {i}",
                "dimensions": ["sex"],
                "partners": partner_codes,
                "target": {"value": 80},
            }
        )
    return {
        "partnership": {
            "code": code,
            "name": f"Scale partnership {n}",
            "country": "PE",
            "starts_on": "2018-01-01",
            "ends_on": "2022-12-31",
            "fiscal_year_starts": 10,
            "pillars": pillars,
        },
        "partners": partners,
        "dimensions": {
            "sex": {"label": {"en": "Sex", "es": "Sexo"}, "categories": [{"code": s, "en": s, "es": s} for s in SEXES]},
            "region": {
                "label": {"en": "Region", "es": "Región"},
                "categories": [{"code": r, "en": r, "es": r} for r in REGIONS],
            },
            "institution": {
                "label": {"en": "Institution", "es": "Institución"},
                "categories": [{"code": c, "en": c, "es": c} for c in INSTITUTIONS],
            },
        },
        "results": results,
        "indicators": indicators,
    }


def build(url: str, workdir: Path, seed: int = 7, partnerships: int = PARTNERSHIPS) -> int:
    """Fill an empty, migrated database at ``url`` with ``partnerships`` partnerships (about 174,000
    values each: 6 make a million, 60 ten million); returns the number of values stored."""
    rng = random.Random(seed)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    paths = []
    for n in range(1, partnerships + 1):
        path = workdir / f"scale-{n}.yaml"
        path.write_text(yaml.safe_dump(catalog(n), sort_keys=False), encoding="utf-8")
        paths.append(path)
    with transaction(factory) as session:
        for path in paths:
            load_catalog(session=session, path=path)
    total = 0
    for n in range(1, partnerships + 1):
        with transaction(factory) as session:
            partnership = session.scalars(select(Partnership).where(Partnership.code == f"scale-{n}")).one()
            cats: dict[str, dict[str, int]] = {}
            for dim, cat, cid in session.execute(
                select(Dimension.code, Category.code, Category.id)
                .join(Category, Category.dimension_id == Dimension.id)
                .where(Dimension.partnership_id == partnership.id)
            ):
                cats.setdefault(dim, {})[cat] = cid
            sex, region, inst = cats["sex"], cats["region"], cats["institution"]
            count_combos: list[frozenset[int]] = [frozenset()]
            count_combos += [frozenset([c]) for c in [*sex.values(), *region.values(), *inst.values()]]
            count_combos += [frozenset([s, r]) for s in sex.values() for r in region.values()]
            pct_combos = [frozenset(), *(frozenset([s]) for s in sex.values())]
            ids = combination_ids(session, [*count_combos, *pct_combos])
            indicators = session.execute(
                select(Indicator.id, Indicator.unit).where(Indicator.partnership_id == partnership.id)
            ).all()
            partners = session.scalars(select(Partner.id).where(Partner.partnership_id == partnership.id)).all()
            files, subs = [], []
            for pid in partners:
                for period in QUARTERS:
                    digest = hashlib.sha256(f"{pid}-{period}".encode()).hexdigest()
                    files.append({"sha256": digest, "size": 1, "original_name": f"{pid}-{period}.xlsx"})
                    subs.append(
                        {
                            "partner_id": pid,
                            "period": period,
                            "version": 1,
                            "status": "approved",
                            "file_sha256": digest,
                            "uploaded_at": ON_TIME[period],  # as partners report: within the due days
                        }
                    )
            session.execute(insert(StoredFile), files)
            session.execute(insert(Submission), subs)
            sub_ids = session.execute(
                select(Submission.id, Submission.partner_id, Submission.period).where(
                    Submission.partner_id.in_(partners)
                )
            ).all()
            batch: list[dict[str, Any]] = []
            for sub_id, pid, period in sub_ids:
                for ind_id, unit in indicators:
                    combos = count_combos if unit == "count" else pct_combos
                    for k, combo in enumerate(combos):
                        value = rng.randint(0, 60) if unit == "count" else round(rng.uniform(40, 95), 1)
                        batch.append(
                            {
                                "submission_id": sub_id,
                                "indicator_id": ind_id,
                                "combination_id": ids[combo],
                                "partner_id": pid,
                                "period": period,
                                "value": value,
                                "sheet": "Indicators",
                                "cell": f"F{k + 5}",
                            }
                        )
                if len(batch) >= 50_000:
                    session.execute(insert(Value), batch)
                    total += len(batch)
                    batch = []
            if batch:
                session.execute(insert(Value), batch)
                total += len(batch)
    if engine.dialect.name == "postgresql":  # as autovacuum would soon: fresh statistics for the planner
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return total
