"""Server time of the trainings page over a large history: ``python -m bench trainings``.

Builds a migrated SQLite database (or uses ``--database-url``, which it fills: give it an empty,
migrated database) with the reference catalog and ``--rows`` training rows (50,000 by default)
spread over every partner and quarter of 2018Q1-2022Q2, then times the page through the real
HTTP stack (in-process ASGI client: no network), as the full page, the htmx results fragment and
a filtered view, logged in as a program officer.

The page is rendered at every request (the page store, ``mel.web.page_store``, is off: ``bench
load`` measures repeated views). In ``--rounds`` rounds, each case is timed with stored figures
(``mel.results.store``: between two changes of the data) and computed (the store emptied before
each request: the first request after a change). Prints the median p50 and p95 over the rounds
with the spread of the p95s, the target (p95 <= 50 ms) and what issue 18 measured before; asserts
nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench._common import Rounds, busy, load, timed
from mel.auth.service import create_user
from mel.catalog.models import Category, Dimension, Partner, Partnership
from mel.catalog.service import load_catalog
from mel.core import migrate
from mel.core.audit import CLI
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.paths import INDICATORS_DIR
from mel.core.periods import quarter_start, quarters
from mel.core.settings import Settings
from mel.reports.models import StoredFile, Submission, TrainingAttendance, TrainingEvent
from mel.results.store import STORE
from mel.web.app import create_app

PILLARS = {"ilo": ["prosecution", "protection", "prevention"], "chs": ["protection"], "idl": ["prosecution"]}
PILLARS |= {"yanapanakusun": ["prevention"], "aba-roli": ["prosecution"]}


def _categories(session: Session, partnership_id: int, dim: str) -> list[int]:
    return list(
        session.scalars(
            select(Category.id)
            .join(Dimension, Dimension.id == Category.dimension_id)
            .where(Dimension.partnership_id == partnership_id, Dimension.code == dim)
        )
    )


def build(url: str, catalog: Path, rows: int, seed: int = 1) -> None:
    """Fill ``url`` with the catalog and ``rows`` training rows (bulk Core inserts, no ORM objects)."""
    rng = random.Random(seed)
    factory = make_sessionmaker(make_engine(url))
    with transaction(factory) as session:
        load_catalog(session=session, path=catalog)
    with transaction(factory) as session:
        partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
        partners = {
            p.code: p.id for p in session.scalars(select(Partner).where(Partner.partnership_id == partnership.id))
        }
        regions = _categories(session, partnership.id, "region")
        institutions = _categories(session, partnership.id, "institution")
        modality = {
            c.code: c.id
            for c in session.scalars(
                select(Category)
                .join(Dimension, Dimension.id == Category.dimension_id)
                .where(Dimension.partnership_id == partnership.id, Dimension.code == "modality")
            )
        }
        periods = list(quarters("2018Q1", "2022Q2"))
        slots = [(p, q) for p in PILLARS if p in partners for q in periods]
        per_slot = -(-rows // len(slots))
        made = 0
        for code, period in slots:
            digest = hashlib.sha256(f"bench{code}{period}".encode()).hexdigest()
            session.add(StoredFile(sha256=digest, size=1, original_name=f"{code}-{period}.xlsx"))
            session.flush()
            sub_id = session.scalars(
                insert(Submission).returning(Submission.id),
                [
                    {
                        "partner_id": partners[code],
                        "period": period,
                        "version": 1,
                        "status": "approved",
                        "file_sha256": digest,
                    }
                ],
            ).one()
            wanted = min(per_slot, rows - made)
            events = []
            for n in range(-(-wanted // 3)):
                online = period >= "2020Q2"
                events.append(
                    {
                        "submission_id": sub_id,
                        "title": f"Course {code} {period} {n}",
                        "start_date": quarter_start(period),
                        "pillar": rng.choice(PILLARS[code]),
                        "region_id": rng.choice(regions),
                        "modality_id": modality["virtual" if online else "in-person"],
                    }
                )
            event_ids = list(session.scalars(insert(TrainingEvent).returning(TrainingEvent.id), events))
            attendance: list[dict[str, Any]] = []
            for n in range(wanted):
                female, male = rng.randint(0, 30), rng.randint(0, 30)
                pre = rng.uniform(30, 70) if rng.random() < 0.5 else None
                attendance.append(
                    {
                        "event_id": event_ids[n // 3],
                        "institution_id": rng.choice(institutions),
                        "female": female,
                        "male": male,
                        "other": 0,
                        "under_18": rng.choice([None, 0, min(2, female + male)]),
                        "hours": rng.choice([None, 8.0, 16.0]),
                        "pre_score": pre,
                        "post_score": min(100.0, pre + rng.uniform(0, 30)) if pre is not None else None,
                        "sheet": "Trainings",
                        "row": n + 5,
                    }
                )
            session.execute(insert(TrainingAttendance), attendance)
            made += wanted


BENCH_EMAIL = "bench-officer@example.org"
BENCH_PASSWORD = "bench-password-123"


def log_in(client: TestClient, url: str) -> None:
    """Create an officer account and log the client in through the real login form."""
    with transaction(make_sessionmaker(make_engine(url))) as session:
        create_user(session=session, email=BENCH_EMAIL, password=BENCH_PASSWORD, role="officer", actor=CLI)
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, f"login failed: {response.status_code}"


ISSUE_18 = {"full page": "454 ms", "htmx results fragment": "347 ms"}
TARGET = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cold-repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--catalog", type=Path, default=INDICATORS_DIR / "peru-cpc.yaml")
    parser.add_argument("--database-url", help="an empty, migrated database to fill (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        if not args.database_url:
            migrate.upgrade(url)
        start = time.perf_counter()
        build(url, args.catalog, args.rows)
        print(f"built {args.rows:,} training rows in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})")
        settings = Settings(
            database_url=url, upload_dir=Path(tmp) / "uploads", secret_key="bench-secret", page_store_mb=0
        )
        app = create_app(settings, serving=True)  # as `mel serve` runs it, but rendering every request
        with TestClient(app) as client:
            log_in(client, url)
            page = "/p/peru-cpc/trainings"
            gzip = {"Accept-Encoding": "gzip"}
            cases: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
                "full page": ({}, {}),
                "htmx results fragment": ({}, {"HX-Request": "true"}),
                "filtered (ilo, prosecution, 2019Q1-2020Q4), region x modality": (
                    {
                        "partner": "ilo",
                        "pillar": "prosecution",
                        "from": "2019Q1",
                        "to": "2020Q4",
                        "rows": "region",
                        "cols": "modality",
                    },
                    {"HX-Request": "true"},
                ),
                "events page 50 (htmx)": ({"page": 50}, {"HX-Request": "true", "HX-Target": "training-events"}),
            }
            first = client.get(page, follow_redirects=False)
            assert first.status_code == 200, f"the page did not render: {first.status_code}"
            stored, computed = Rounds(), Rounds()
            for n in range(1, args.rounds + 1):
                print(f"round {n}: {load()} at the start{' (busy machine)' if busy() else ''}", flush=True)
                for name, (params, headers) in cases.items():

                    def get(p: dict[str, Any] = params, h: dict[str, str] = headers) -> Any:
                        return client.get(page, params=p, headers={**gzip, **h})

                    def cold(p: dict[str, Any] = params, h: dict[str, str] = headers) -> Any:
                        STORE.clear()
                        return client.get(page, params=p, headers={**gzip, **h})

                    stored.add(name, timed(get, args.repeat))
                    computed.add(name, timed(cold, args.cold_repeat))
                stored.loads.append(load())
            print(f"{args.rows:,} training rows; median of {args.rounds} rounds; loads at round ends: {stored.loads}")
            print("stored figures (between two changes of the data):")
            for name in cases:
                print("  " + stored.line(name, target=TARGET, baseline=ISSUE_18.get(name, ""), width=64))
            print("computed (figure store emptied before each request: the first request after a change):")
            for name in cases:
                print("  " + computed.line(name, width=64))
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
