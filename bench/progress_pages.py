"""Server time of the progress pages at about 1,000,000 values: ``python -m bench progress``.

Builds the synthetic portfolio of ``bench.scale`` (6 partnerships x 10 partners x 20 quarters, every
report approved) in a temporary SQLite file (or ``--database-url``: an empty, migrated database to
fill, or ``--reuse`` an already built one), logs in as a program officer and times each page through
the real HTTP stack (in-process ASGI client). Prints the median and p95 in milliseconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bench import scale
from bench.trainings_page import BENCH_EMAIL, BENCH_PASSWORD
from mel import migrate
from mel.app import create_app
from mel.settings import Settings


def log_in(client: TestClient) -> None:
    """Log the client in as the benchmark's officer (created by ``bench.trainings_page.log_in`` or here)."""
    from mel.auth.audit import CLI
    from mel.auth.models import User
    from mel.auth.service import create_user
    from mel.db import transaction

    with transaction(client.app.state.sessionmaker) as session:  # type: ignore[attr-defined]
        if session.query(User.id).filter(User.email == BENCH_EMAIL).first() is None:
            create_user(session=session, email=BENCH_EMAIL, password=BENCH_PASSWORD, role="officer", actor=CLI)
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, f"login failed: {response.status_code}"


def _times_ms(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    first = call()  # warm up: templates compiled, connections opened
    assert first.status_code == 200, first.status_code
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", help="an empty, migrated database to fill (default: a temporary SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="the database is already built: only time the pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        if not args.database_url:
            migrate.upgrade(url)
        if not args.reuse:
            start = time.perf_counter()
            total = scale.build(url, Path(tmp))
            print(f"built {total:,} values in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})")
        app = create_app(Settings(database_url=url, upload_dir=Path(tmp) / "uploads", secret_key="bench-secret"))
        htmx = {"HX-Request": "true"}
        with TestClient(app) as client:
            log_in(client)
            p = "/p/scale-1"
            cases: dict[str, Callable[[], Any]] = {
                "portfolio (6 partnerships)": lambda: client.get("/"),
                "dashboard": lambda: client.get(p),
                "dashboard provisional (htmx)": lambda: client.get(p + "?provisional=1", headers=htmx),
                "theory of change": lambda: client.get(p + "/theory-of-change"),
                "indicator page": lambda: client.get(p + "/indicators/1.1.0"),
                "explorer fragment (region, htmx)": lambda: client.get(
                    p + "/indicators/1.1.0?dimension=region", headers=htmx
                ),
                "sources fragment (one quarter)": lambda: client.get(
                    p + "/indicators/1.1.0/sources?period=2020Q1", headers=htmx
                ),
                "IPTT fiscal years": lambda: client.get(p + "/iptt"),
                "IPTT quarters (htmx)": lambda: client.get(p + "/iptt?granularity=quarter", headers=htmx),
                "IPTT XLSX (quarters)": lambda: client.get(p + "/iptt.xlsx?granularity=quarter"),
            }
            for name, call in cases.items():
                median, p95 = _times_ms(call, args.repeat)
                print(f"{name:40} median {median:8.1f} ms   p95 {p95:8.1f} ms")
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
