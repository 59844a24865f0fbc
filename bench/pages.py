"""Server time of the progress pages at 1,000,000 stored values: ``python -m bench pages``.

Builds the synthetic portfolio of ``bench.scale`` (6 partnerships x 10 partners x 20 quarters,
about a million values) in a temporary SQLite file and, when ``--postgres URL`` (or
``MEL_TEST_DATABASE_URL``) is given, in a fresh PostgreSQL database too; then requests the
portfolio, dashboard, diagram, an indicator page with its disaggregation and sources fragments,
the IPTT (quarters, fiscal years, whole partnership, XLSX) and the trainings page through the
real HTTP stack (in-process ASGI client, logged in as an officer) and prints p50 and p95 per page.
Target: p95 under 150 ms. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.scale import build
from bench.trainings_page import log_in
from mel import migrate
from mel.app import create_app
from mel.settings import Settings

CODE = "scale-3"
INDICATOR = "1.1.0"


def pages() -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """name -> (path, query, headers)."""
    htmx = {"HX-Request": "true"}
    base = f"/p/{CODE}"
    ind = f"{base}/indicators/{INDICATOR}"
    return {
        "portfolio (6 partnerships)": ("/", {}, {}),
        "dashboard": (base, {}, {}),
        "dashboard provisional (htmx)": (base, {"provisional": "1"}, htmx),
        "theory of change": (f"{base}/theory-of-change", {}, {}),
        "indicator page": (ind, {}, {}),
        "disaggregation by region (htmx)": (ind, {"dimension": "region"}, htmx),
        "sources of one quarter (htmx)": (f"{ind}/sources", {"period": "2020Q1"}, htmx),
        "IPTT by fiscal year": (f"{base}/iptt", {"granularity": "fy"}, {}),
        "IPTT by quarter": (f"{base}/iptt", {"granularity": "quarter"}, {}),
        "IPTT, whole partnership": (f"{base}/iptt", {"granularity": "lop"}, {}),
        "IPTT XLSX by quarter": (f"{base}/iptt.xlsx", {"granularity": "quarter"}, {}),
        "trainings page": (f"{base}/trainings", {}, {}),
    }


def measure(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    call()  # warm up: templates compiled, caches filled
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def run(url: str, label: str, repeat: int, workdir: Path) -> None:
    start = time.perf_counter()
    values = build(url, workdir)
    print(f"[{label}] stored {values:,} values in {time.perf_counter() - start:.0f} s")
    settings = Settings(database_url=url, upload_dir=workdir / "uploads", secret_key="bench-secret")
    app = create_app(settings, serving=True)  # as `mel serve` runs it
    with TestClient(app) as client:
        log_in(client, url)
        for name, (path, query, headers) in pages().items():
            p50, p95 = measure(lambda p=path, q=query, h=headers: client.get(p, params=q, headers=h), repeat)
            verdict = "ok" if p95 < 150 else "MISSED"
            print(f"[{label}] {name:36} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (target p95 < 150 ms: {verdict})")
    app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", default=os.environ.get("MEL_TEST_DATABASE_URL", ""))
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            url = f"sqlite:///{Path(tmp) / 'pages.sqlite3'}"
            migrate.upgrade(url)
            run(url, "sqlite", args.repeat, Path(tmp))
        if args.postgres:
            server = make_url(args.postgres).set(drivername="postgresql+psycopg")
            name = f"mel_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                pg_url = server.set(database=name).render_as_string(hide_password=False)
                migrate.upgrade(pg_url)
                run(pg_url, "postgresql", args.repeat, Path(tmp))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
