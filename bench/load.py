"""Concurrent readers against a real server: ``python -m bench.load [--readers 50] [--seconds 60]``.

Builds the demo database (``mel demo --no-serve``) in a temporary folder, starts ``mel serve`` on a
free loopback port, logs ``--readers`` clients in as the demo officer and lets each one read the
progress pages in a loop for ``--seconds``. Prints requests, errors (non-200 or transport errors),
throughput and latency percentiles. Every request goes to 127.0.0.1 and the run is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

from mel.auth.service import DEMO_PASSWORD

PAGES = [
    "/",
    "/p/peru-cpc",
    "/p/peru-cpc/theory-of-change",
    "/p/peru-cpc/indicators/1.1.a",
    "/p/peru-cpc/indicators/2.a?dimension=age_group",
    "/p/peru-cpc/iptt",
    "/p/peru-cpc/trainings",
    "/p/peru-cpc/quality",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _login(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    token = BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")
    assert token is not None, "no CSRF field on the login page"
    response = await client.post(
        "/login", data={"email": "officer@demo.mel", "password": DEMO_PASSWORD, "csrf_token": str(token["value"])}
    )
    assert response.status_code in (200, 303), response.status_code


async def _reader(url: str, n: int, deadline: float, latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await _login(client)
        i = n
        while time.monotonic() < deadline:
            path = PAGES[i % len(PAGES)]
            i += 1
            start = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    errors.append(f"{path}: HTTP {response.status_code}")
            except httpx.HTTPError as exc:
                errors.append(f"{path}: {type(exc).__name__}")
            latencies.append((time.perf_counter() - start) * 1000)


async def _load(url: str, readers: int, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_reader(url, n, deadline, latencies, errors) for n in range(readers)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()
    mel = str(Path(sys.executable).parent / "mel")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "MEL_DATABASE_URL": f"sqlite:///{Path(tmp) / 'mel.sqlite3'}",
            "MEL_UPLOAD_DIR": str(Path(tmp) / "uploads"),
            "MEL_SECRET_KEY": "bench-secret",
            "MEL_LOGIN_MAX_FAILURES": "1000",
        }
        start = time.perf_counter()
        subprocess.run([mel, "demo", "--no-serve"], cwd=tmp, env=env, check=True, capture_output=True)
        print(f"demo database built in {time.perf_counter() - start:.0f} s")
        port = _free_port()
        command = [mel, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)]
        server = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            latencies, errors = asyncio.run(_load(url, args.readers, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=15)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[max(0, round(p * len(latencies)) - 1)] if latencies else float("nan")

    print(f"{args.readers} readers for {args.seconds:.0f} s, {args.workers} server workers, pages: {len(PAGES)}")
    print(f"requests {len(latencies):,}  errors {len(errors)}  throughput {len(latencies) / args.seconds:.1f} req/s")
    print(
        f"latency p50 {statistics.median(latencies) if latencies else float('nan'):.0f} ms  "
        f"p95 {pct(0.95):.0f} ms  p99 {pct(0.99):.0f} ms  max {latencies[-1] if latencies else float('nan'):.0f} ms"
    )
    for error in sorted(set(errors))[:10]:
        print(f"  error: {error} x{errors.count(error)}")


if __name__ == "__main__":
    main()
