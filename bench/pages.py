"""Server time of the progress pages at 1,000,000 stored values: ``python -m bench pages``.

Builds the synthetic portfolio of ``bench.scale`` (6 partnerships x 10 partners x 20 quarters,
about a million values; ``--partnerships 60``: ten million) in a temporary SQLite file and, when
``--postgres URL`` (or ``MEL_TEST_DATABASE_URL``) is given, in a fresh PostgreSQL database too;
then requests the portfolio, dashboard, diagram, an indicator page with its disaggregation and
sources fragments, the IPTT (quarters, fiscal years, whole partnership, XLSX) and the trainings
page through the real HTTP stack (in-process ASGI client, logged in as an officer).

Each page is rendered at every request (the page store, ``mel.web.page_store``, is off: it would
answer a repeated request from the page it rendered the first time, and ``bench load`` measures
that), and measured in ``--rounds`` rounds of ``--repeat`` requests, two ways in the same run:

* ``stored``: as a server answers between two changes of the data (figures read from the figure
  store, ``mel.results.store``): the number the targets are about;
* ``computed``: the store emptied before every request, so the figures engine computes the page
  as it did before stored figures (and as the first request after an import or an approval does).

Prints, per page, the median over the rounds of p50 and p95 and the spread of the p95s, next to
the target (p95 <= 50 ms; the IPTT XLSX <= 200 ms; at ten million values on PostgreSQL, every page
<= 150 ms) and the figure issue 18 measured before this work; and the load average of each round.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench._common import Rounds, busy, load, timed
from bench.scale import PARTNERSHIPS, build
from bench.trainings_page import log_in
from mel.core import migrate
from mel.core.settings import Settings
from mel.results.store import STORE
from mel.web.app import create_app

CODE = "scale-3"
INDICATOR = "1.1.0"
TARGETS = {"IPTT XLSX by quarter": 200.0}
"""p95 targets in ms (every other page: ``PAGE_TARGET``)."""
PAGE_TARGET = 50.0
LARGE_TARGET = 150.0
"""Every page at ten million values on PostgreSQL (several app servers over one database)."""
ISSUE_18 = {
    "portfolio (6 partnerships)": "p95 208 ms",
    "dashboard": "p95 65-88 ms (dashboard, indicator page, ToC)",
    "theory of change": "p95 65-88 ms (dashboard, indicator page, ToC)",
    "indicator page": "p95 65-88 ms (dashboard, indicator page, ToC)",
    "IPTT by fiscal year": "p95 162 ms",
    "IPTT by quarter": "p95 254 ms",
    "IPTT XLSX by quarter": "p95 565 ms",
}
"""What the issue measured before this work (same machine type, quiet, load ~1)."""


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


def _ok(response: object) -> None:
    status = getattr(response, "status_code", None)
    assert status == 200, status


def run(url: str, label: str, args: argparse.Namespace, workdir: Path) -> None:
    start = time.perf_counter()
    values = build(url, workdir, partnerships=args.partnerships)
    print(f"[{label}] stored {values:,} values in {time.perf_counter() - start:.0f} s")
    settings = Settings(database_url=url, upload_dir=workdir / "uploads", secret_key="bench-secret", page_store_mb=0)
    app = create_app(settings, serving=True)  # as `mel serve` runs it, but rendering every request
    stored, computed = Rounds(), Rounds()
    with TestClient(app) as client:
        log_in(client, url)
        headers = {"Accept-Encoding": "gzip"}
        for n in range(1, args.rounds + 1):
            print(f"[{label}] round {n}: {load()} at the start{' (busy machine)' if busy() else ''}", flush=True)
            for name, (path, query, extra) in pages().items():

                def get(p: str = path, q: dict[str, str] = query, h: dict[str, str] = extra) -> object:
                    return client.get(p, params=q, headers={**headers, **h})

                def cold(p: str = path, q: dict[str, str] = query, h: dict[str, str] = extra) -> object:
                    STORE.clear()
                    return client.get(p, params=q, headers={**headers, **h})

                stored.add(name, timed(get, args.repeat, check=_ok))
                computed.add(name, timed(cold, args.cold_repeat, check=_ok))
            stored.loads.append(load())
    app.state.engine.dispose()
    large = args.partnerships > PARTNERSHIPS
    print(f"[{label}] {values:,} values; median of {args.rounds} rounds; loads at round ends: {stored.loads}")
    print(f"[{label}] stored figures (between two changes of the data):")
    for name in pages():
        target = LARGE_TARGET if large else TARGETS.get(name, PAGE_TARGET)
        print(f"[{label}]   {stored.line(name, target=target, baseline='' if large else ISSUE_18.get(name, ''))}")
    print(f"[{label}] computed (figure store emptied before each request: the first request after a change):")
    for name in pages():
        print(f"[{label}]   {computed.line(name)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests per page and round (stored figures)")
    parser.add_argument("--cold-repeat", type=int, default=5, help="requests per page and round, store emptied")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--partnerships", type=int, default=PARTNERSHIPS, help="6: about 1M values; 60: about 10M (PostgreSQL)"
    )
    parser.add_argument("--postgres", default=os.environ.get("MEL_TEST_DATABASE_URL", ""))
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            url = f"sqlite:///{Path(tmp) / 'pages.sqlite3'}"
            migrate.upgrade(url)
            run(url, "sqlite", args, Path(tmp))
        if args.postgres:
            server = make_url(args.postgres).set(drivername="postgresql+psycopg")
            name = f"mel_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                pg_url = server.set(database=name).render_as_string(hide_password=False)
                migrate.upgrade(pg_url)
                run(pg_url, "postgresql", args, Path(tmp))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
