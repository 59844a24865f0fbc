"""Screenshots of the progress pages: the dashboard, the theory-of-change diagram and an indicator page.

    python scripts/screenshots.py [--url http://127.0.0.1:8000] [--out var/screenshots] [--width 1280]

Without ``--url`` it builds a fresh demo database in a temporary folder (``mel demo --no-serve``),
starts ``mel serve`` on a free port, and stops it at the end. It logs in as the demo officer and
saves full-page PNGs with headless Chromium (Playwright, the system's /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OFFICER = ("officer@demo.mel", "demo-password")
PARTNERSHIP = "peru-cpc"
PAGES = [
    ("dashboard", f"/p/{PARTNERSHIP}"),
    ("theory-of-change", f"/p/{PARTNERSHIP}/theory-of-change"),
    ("indicator", f"/p/{PARTNERSHIP}/indicators/1.1.a?dimension=institution"),
    ("iptt", f"/p/{PARTNERSHIP}/iptt"),
]
MEL = Path(sys.executable).with_name("mel")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/login", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer within {seconds:.0f} s")


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", OFFICER[0])
    page.fill("input[name=password]", OFFICER[1])
    page.click("form.login button[type=submit], form.login input[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(base: str, out: Path, width: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        log_in(page, base)
        for name, path in PAGES:
            page.goto(base + path + ("&" if "?" in path else "?") + "lang=en")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)  # charts draw after load
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            saved.append(target)
        browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running mel server (default: start one on a fresh demo database)")
    parser.add_argument("--out", type=Path, default=Path("var/screenshots"))
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    if args.url:
        saved = shoot(args.url.rstrip("/"), args.out, args.width)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            env = os.environ | {
                "MEL_DATABASE_URL": f"sqlite:///{Path(tmp) / 'demo.sqlite3'}",
                "MEL_UPLOAD_DIR": str(Path(tmp) / "uploads"),
            }
            subprocess.run([str(MEL), "demo", "--no-serve"], env=env, check=True, cwd=tmp)
            port = free_port()
            server = subprocess.Popen([str(MEL), "serve", "--port", str(port)], env=env, cwd=tmp)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_for(base)
                saved = shoot(base, args.out.resolve(), args.width)
            finally:
                server.terminate()
                server.wait(timeout=10)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
