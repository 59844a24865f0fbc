"""Concurrent readers against a real server: ``python -m bench load [--readers 50] [--seconds 30] [--rounds 3]``.

Builds the demo database (``mel demo --no-serve``) in a temporary folder, starts ``mel serve`` on a
free loopback port, logs in as the demo officer and lets ``--readers`` connections read the
progress pages in turn for ``--seconds``. The load comes from ``wrk`` (Debian's package: a C client,
so the client does not eat the CPU the server is measured on) when it is installed, else from an
async Python client. Prints requests, errors (non-2xx or socket errors), throughput and latency
percentiles per round (``--rounds``), then the median over the rounds with its spread, next to
the target (200 req/s, p95 <= 500 ms) and what issue 18 measured before. Two servers on the same
database answer in alternate rounds (``--mode both``, the default): one as deployed, keeping
rendered pages (``stored``: but for the first request of each page, every request of the mix is a
repeat view of its page by the same officer), one rendering every request (``rendered``: as a
first view after a change of the data). Every request goes to 127.0.0.1 and the run is bounded in
time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

from bench._common import busy, load, percentile
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


WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%.1f %%.1f %%.1f %%.1f\\n", summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


def _wrk(url: str, cookie: str, readers: int, seconds: float, workdir: Path) -> tuple[int, int, list[float]]:
    """(requests, errors, [p50, p95, p99, max] in ms) from wrk."""
    script = workdir / "pages.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in PAGES), encoding="utf-8")
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(readers),
            "-d",
            f"{int(seconds)}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _tag, requests, errors, *numbers = line.split()
    return int(requests), int(errors), [float(n) for n in numbers]


def _session_cookie(url: str) -> str:
    """Log in once; every reader (wrk's connections or the async clients) shares the session."""
    with httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/login")
        token = BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")
        assert token is not None, "no CSRF field on the login page"
        client.post(
            "/login",
            data={"email": "officer@demo.mel", "password": DEMO_PASSWORD, "csrf_token": str(token["value"])},
        )
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def _reader(url: str, cookie: str, n: int, deadline: float, latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Cookie": cookie}) as client:
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


async def _load(url: str, cookie: str, readers: int, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_reader(url, cookie, n, deadline, latencies, errors) for n in range(readers)))
    return latencies, errors


ISSUE_18 = "29 req/s, p95 3.6 s (issue 9's closing note: 62 req/s, p95 1.8 s)"
TARGET_RPS = 200.0
TARGET_P95 = 500.0


def _round(url: str, cookie: str, args: argparse.Namespace, workdir: Path) -> tuple[int, int, list[float], str]:
    """(requests, errors, [p50, p95, p99, max] ms, client) of one round."""
    if shutil.which("wrk"):
        requests, failed, numbers = _wrk(url, cookie, args.readers, args.seconds, workdir)
        return requests, failed, numbers, "wrk"
    latencies, errors = asyncio.run(_load(url, cookie, args.readers, args.seconds))
    latencies.sort()
    numbers = [
        statistics.median(latencies) if latencies else float("nan"),
        percentile(latencies, 0.95),
        percentile(latencies, 0.99),
        latencies[-1] if latencies else float("nan"),
    ]
    for error in sorted(set(errors))[:10]:
        print(f"  error: {error} x{errors.count(error)}")
    return len(latencies), len(errors), numbers, "python (asyncio + httpx; install wrk to spare the server's CPUs)"


MODES = {"stored": "64", "rendered": "0"}
"""The server as deployed (rendered pages kept per user and data version: ``mel.web.page_store``) and
the same server rendering every request (``MEL_PAGE_STORE_MB=0``): a first view after a change."""


def _serve(mel: str, tmp: str, env: dict[str, str], workers: int, store_mb: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [mel, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        command,
        cwd=tmp,
        env={**env, "MEL_PAGE_STORE_MB": store_mb},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--mode", choices=[*MODES, "both"], default="both", help="page store on (stored), off (rendered), or both"
    )
    args = parser.parse_args()
    mel = str(Path(sys.executable).parent / "mel")
    modes = list(MODES) if args.mode == "both" else [args.mode]
    results: dict[str, list[tuple[float, float, float]]] = {m: [] for m in modes}  # (req/s, p50, p95) per round
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
        servers = {m: _serve(mel, tmp, env, args.workers, MODES[m]) for m in modes}  # idle but for its rounds
        try:
            cookies = {m: _session_cookie(url) for m, (_server, url) in servers.items()}
            for n in range(1, args.rounds + 1):
                for mode in modes:  # back to back, so both meet the same machine
                    print(f"round {n}, {mode}: {load()} at the start{' (busy machine)' if busy() else ''}", flush=True)
                    url = servers[mode][1]
                    requests, failed, (p50, p95, p99, worst), client = _round(url, cookies[mode], args, Path(tmp))
                    rate = requests / args.seconds
                    results[mode].append((rate, p50, p95))
                    print(
                        f"  client {client}, {args.readers} connections for {args.seconds:.0f} s, "
                        f"{args.workers} server workers, pages: {len(PAGES)}"
                    )
                    print(f"  requests {requests:,}  errors {failed}  throughput {rate:.1f} req/s")
                    print(f"  latency p50 {p50:.0f} ms  p95 {p95:.0f} ms  p99 {p99:.0f} ms  max {worst:.0f} ms")
                    print(f"  {load()} at the end")
        finally:
            for server, _url in servers.values():
                server.terminate()
                server.wait(timeout=15)
    for mode, rounds in results.items():
        rates = [r for r, _p50, _p95 in rounds]
        p95s = [p for _r, _p50, p in rounds]
        rate, p95 = statistics.median(rates), statistics.median(p95s)
        print(
            f"{mode}: median of {len(rounds)} rounds: {rate:.1f} req/s (spread {min(rates):.1f}-{max(rates):.1f}), "
            f"p95 {p95:.0f} ms (spread {min(p95s):.0f}-{max(p95s):.0f})"
        )
        if mode == "rendered":  # the target is the server's as deployed; this is what first views cost
            print("  for comparison: every request rendered, as the first view of a page after a change")
            continue
        print(
            f"  target >= {TARGET_RPS:g} req/s and p95 <= {TARGET_P95:g} ms: "
            f"{'met' if rate >= TARGET_RPS and p95 <= TARGET_P95 else 'MISSED'}  (issue 18: {ISSUE_18})"
        )


if __name__ == "__main__":
    main()
