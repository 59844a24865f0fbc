"""Browser journeys: a real `mel serve` on a fresh demo database, driven by headless Chromium.

The server is built once (``mel demo --no-serve`` then ``mel serve`` in a child process on a free loopback
port): every browser test runs in one xdist group, in one worker, against one server and one browser, while
the other workers run the rest of the suite. The page checks of test_accessibility.py, which change
nothing, come first (collection order within a group), so they read the demo as it was built.
Chromium is Debian's (/usr/bin/chromium) driven by Playwright; without it the journeys skip with a
loud reason, or fail when ``MEL_REQUIRE_BROWSER=1`` (CI).
Screenshots of each journey's key steps go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("MEL_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


SignIn = Callable[[Any, str], None]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups, whichever conftest it sees first
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run in one worker: a second server, browser and demo copy would cost more than the
    parallel walk gains, and the first worker to need the demo would make the other wait for its build."""
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, url: str, workdir: Path, env: dict[str, str]) -> None:
        self.url = url
        self.workdir = workdir
        self.env = env


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("e2e-server")
    env = {
        **os.environ,
        "MEL_DATABASE_URL": f"sqlite:///{workdir / 'mel.sqlite3'}",
        "MEL_UPLOAD_DIR": str(workdir / "uploads"),
        "MEL_SECRET_KEY": "e2e-secret",
        "MEL_LOGIN_MAX_FAILURES": "50",
    }
    mel = [str(Path(sys.executable).parent / "mel")]
    subprocess.run([*mel, "demo", "--no-serve"], cwd=workdir, env=env, check=True, capture_output=True)
    port = _free_port()
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        [*mel, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/login", timeout=1).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"mel serve did not start: {(workdir / 'server.log').read_text()[-2000:]}")
    yield Server(url, workdir, env)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"BROWSER JOURNEYS NOT RUN: no Chromium at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def sign_in(server: Server, browser: Any) -> SignIn:
    """``sign_in(context, email)``: the browser context carries a session of the demo account ``email``
    (none for ``""``). Each account logs in through the login form once per worker; its cookies are reused."""
    cookies: dict[str, list[Any]] = {}

    def sign(context: Any, email: str) -> None:
        context.clear_cookies()
        if not email:
            return
        if email not in cookies:
            own = browser.new_context()
            page = own.new_page()
            page.goto(f"{server.url}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", "demo-password")
            with page.expect_navigation():
                page.click("form.login button[type=submit]")
            assert page.locator("form.login").count() == 0, f"{email} could not log in"
            cookies[email] = own.cookies()
            own.close()
        context.add_cookies(cookies[email])

    return sign


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[object]:
    """``shots(page, "step")`` saves a screenshot of a journey's step as a test artifact."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    count = 0

    def take(page: object, step: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path

    yield take


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Callable[[], Any]]:
    """New pages in a fresh browser context (own cookies), closed after the test."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
