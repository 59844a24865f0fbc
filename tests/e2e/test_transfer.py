"""Slow links: what a browser really transfers for a page, counted by Chromium itself.

A first visit (empty cache, already signed in) of any page stays within 150 KB on the wire, the
HTML, style sheets and scripts (htmx, Chart.js) included; a second visit within 20 KB, since the
static files are cached for a year under versioned URLs and only the page itself is fetched again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Server, SignIn

FIRST_LOAD = 150 * 1024
REPEAT_LOAD = 20 * 1024
PAGES = [
    "/",
    "/p/peru-cpc",
    "/p/peru-cpc/theory-of-change",
    "/p/peru-cpc/indicators/1.1.a",
    "/p/peru-cpc/iptt",
    "/p/peru-cpc/iptt?granularity=quarter&expand=all",
    "/p/peru-cpc/trainings",
    "/p/peru-cpc/comparison",
    "/reports",
]


QUIET = 0.1
"""Seconds without a request in flight or a new one that end a measure: Playwright's "networkidle" is the
same rule with 0.5 s, which made every page wait half a second twice (no page here fetches on a timer)."""


class Wire:
    """Bytes received per request as Chromium's network layer counts them (compressed body and headers)."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.received: dict[str, int] = {}
        self.urls: dict[str, str] = {}
        self.ended: set[str] = set()
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", lambda event: self.ended.add(event["requestId"]))

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.received[event["requestId"]] = int(event["encodedDataLength"])
        self.ended.add(event["requestId"])

    def _settle(self, page: Page) -> None:
        """Wait until every request sent has ended and none was sent or ended for ``QUIET`` seconds."""
        deadline = time.monotonic() + 15
        state, since = None, time.monotonic()
        while time.monotonic() < deadline:
            page.wait_for_timeout(20)  # lets Playwright deliver the browser's network events
            now = (len(self.urls), len(self.ended))
            if now != state or set(self.urls) - self.ended:
                state, since = now, time.monotonic()
            elif time.monotonic() - since >= QUIET:
                return
        raise AssertionError(f"requests still in flight: {[self.urls[r] for r in set(self.urls) - self.ended]}")

    def measure(self, page: Page, go: Callable[[], None]) -> tuple[int, dict[str, int]]:
        self.received.clear()
        self.urls.clear()
        self.ended.clear()
        go()
        self._settle(page)
        per_url = {self.urls.get(rid, rid): size for rid, size in self.received.items()}
        return sum(self.received.values()), per_url


def _fresh_signed_in_page(page_factory: Callable[[], Any], sign_in: SignIn) -> Page:
    """A page in a new browser context (empty cache) carrying an officer's session cookie."""
    page: Page = page_factory()
    sign_in(page.context, "officer@demo.mel")
    return page


@pytest.mark.parametrize("path", PAGES)
def test_first_and_repeat_loads_are_light(
    page_factory: Callable[[], Any], server: Server, sign_in: SignIn, path: str
) -> None:
    page = _fresh_signed_in_page(page_factory, sign_in)
    wire = Wire(page)
    first, files = wire.measure(page, lambda: page.goto(f"{server.url}{path}"))
    assert "form.login" not in page.content() or path == "/login"
    assert any("/static/_v/" in url and url.endswith("htmx.min.js") for url in files), "htmx was not loaded"
    assert first <= FIRST_LOAD, f"{path}: first load {first:,} bytes: {sorted(files.items(), key=lambda kv: -kv[1])}"
    repeat, again = wire.measure(page, lambda: page.goto(f"{server.url}{path}"))
    assert not [u for u in again if "/static/" in u and again[u] > 0], f"{path}: static files fetched again: {again}"
    assert repeat <= REPEAT_LOAD, f"{path}: repeat load {repeat:,} bytes: {again}"


def test_the_login_page_is_light_for_a_stranger(page_factory: Callable[[], Any], server: Server) -> None:
    page: Page = page_factory()
    wire = Wire(page)
    first, files = wire.measure(page, lambda: page.goto(f"{server.url}/login"))
    assert first <= FIRST_LOAD, files
    repeat, again = wire.measure(page, lambda: page.goto(f"{server.url}/login"))
    assert repeat <= REPEAT_LOAD, again


def test_charts_still_draw_from_the_cached_script(
    page_factory: Callable[[], Any], server: Server, sign_in: SignIn
) -> None:
    page = _fresh_signed_in_page(page_factory, sign_in)
    for _ in range(2):  # first from the network, then from the cache
        page.goto(f"{server.url}/p/peru-cpc/indicators/1.1.a")  # its scripts are deferred: run before the load event
        assert page.evaluate("typeof window.Chart") == "function"
        assert page.evaluate("typeof window.htmx") == "object"
