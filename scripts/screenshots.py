"""Screenshots of every page of the README's table, as the role that uses it, in English and Spanish.

    python scripts/screenshots.py [--url http://127.0.0.1:8000] [--out var/screenshots]
                                  [--widths 1366,390] [--langs en,es] [--only NAME ...]

Without ``--url`` it builds a fresh demo database in a temporary folder (``mel demo --no-serve``),
starts ``mel serve`` on a free port, and stops it at the end. Each page is shot, full length, with
headless Chromium (Playwright, the system's /usr/bin/chromium) at each width (1366 px: a laptop;
390 px: a phone) and in each language, logged in as the demo account that uses it; files are named
``NAME-LANG-WIDTH.png``. ``PAGES`` is also the list that the accessibility test walks.
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

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-password"
P = "/p/peru-cpc"
# (name, path, demo account that uses the page); a path with {submission} takes the newest the account may see
PAGES: list[tuple[str, str, str]] = [
    ("login", "/login", ""),
    ("portfolio", "/", "officer@demo.mel"),
    ("portfolio-partner", "/", "ilo@demo.mel"),
    ("dashboard", P, "officer@demo.mel"),
    ("dashboard-partner", P, "chs@demo.mel"),
    ("theory-of-change", f"{P}/theory-of-change", "officer@demo.mel"),
    ("indicator", f"{P}/indicators/1.1.a?dimension=institution", "officer@demo.mel"),
    ("indicator-evaluator", f"{P}/indicators/2.a", "evaluator@demo.mel"),
    ("indicator-stage", f"{P}/indicators/1.d", "officer@demo.mel"),
    ("iptt", f"{P}/iptt", "officer@demo.mel"),
    ("iptt-quarters", f"{P}/iptt?granularity=quarter", "evaluator@demo.mel"),
    ("trainings", f"{P}/trainings", "officer@demo.mel"),
    ("trainings-partner", f"{P}/trainings", "ilo@demo.mel"),
    ("comparison", f"{P}/comparison", "evaluator@demo.mel"),
    ("quality", f"{P}/quality", "officer@demo.mel"),
    ("context", f"{P}/context", "officer@demo.mel"),
    ("targets", f"{P}/targets", "officer@demo.mel"),
    ("measurements", "/measurements", "evaluator@demo.mel"),
    ("review-prime", "/review", "ilo@demo.mel"),
    ("reports", "/reports", "ilo@demo.mel"),
    ("reports-history", "/reports/history", "ilo@demo.mel"),
    ("review", "/review", "officer@demo.mel"),
    ("submission", "/submissions/{submission}", "officer@demo.mel"),
    ("account", "/account", "aba-roli@demo.mel"),
    ("audit", "/admin/audit", "admin@demo.mel"),
    ("api-docs", "/api/docs", "officer@demo.mel"),
    ("not-found", "/p/nope", "officer@demo.mel"),
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


def log_in(page: Page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state("networkidle")


def resolve(page: Page, base: str, path: str) -> str:
    """``{submission}``: the first submission linked from the review queue (or the account's history)."""
    if "{submission}" not in path:
        return path
    for source in ("/review", "/reports/history"):
        page.goto(base + source)
        link = page.locator("a[href*='/submissions/']").first
        if link.count():
            href = link.get_attribute("href") or ""
            return "/submissions/" + href.rstrip("/").split("/submissions/")[1].split("?")[0].split("/")[0]
    return "/submissions/1"


def visit(page: Page, base: str, path: str, lang: str) -> None:
    page.goto(base + path + ("&" if "?" in path else "?") + f"lang={lang}")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # charts draw after load


def shoot(
    browser: Browser, base: str, out: Path, widths: list[int], langs: list[str], only: set[str] | None = None
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in widths:
        page = browser.new_page(viewport={"width": width, "height": 900})
        current = None
        for name, path, account in PAGES:
            if only and name not in only:
                continue
            if account != current:
                page.context.clear_cookies()
                if account:
                    log_in(page, base, account)
                current = account
            target_path = resolve(page, base, path)
            for lang in langs:
                visit(page, base, target_path, lang)
                target = out / f"{name}-{lang}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                saved.append(target)
        page.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", help="a running mel server (default: start one on a fresh demo database)")
    parser.add_argument("--out", type=Path, default=Path("var/screenshots"))
    parser.add_argument("--widths", default="1366,390")
    parser.add_argument("--langs", default="en,es")
    parser.add_argument("--only", nargs="*", help="page names (see PAGES)")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    langs = args.langs.split(",")
    only = set(args.only) if args.only else None

    def run(base: str) -> list[Path]:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return shoot(browser, base, args.out.resolve(), widths, langs, only)
            finally:
                browser.close()

    if args.url:
        saved = run(args.url.rstrip("/"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            env = os.environ | {
                "MEL_DATABASE_URL": f"sqlite:///{Path(tmp) / 'demo.sqlite3'}",
                "MEL_UPLOAD_DIR": str(Path(tmp) / "uploads"),
            }
            subprocess.run([str(MEL), "demo", "--no-serve"], env=env, check=True, cwd=tmp, capture_output=True)
            port = free_port()
            server = subprocess.Popen([str(MEL), "serve", "--port", str(port)], env=env, cwd=tmp)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_for(base)
                saved = run(base)
            finally:
                server.terminate()
                server.wait(timeout=10)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
