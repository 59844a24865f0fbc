"""Every page of the README's table, as the role that uses it, in English and Spanish: no serious or
critical axe-core violation, and the theory-of-change diagram keeps its text at 11 px or more.

axe-core comes from the npm registry (``npm pack``, pinned) into a cache under test-artifacts and is
served to the page by the test itself under the site's own origin (the Content-Security-Policy
allows only 'self'); the app never partnerships it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, Server, SignIn

AXE_VERSION = "4.10.3"
AXE_CACHE = ROOT / "test-artifacts" / ".cache" / f"axe-core-{AXE_VERSION}.min.js"
AXE_PATH = "/static/__axe__.js"  # answered by the test's route, never by the server
SEVERE = {"serious", "critical"}


def _screenshots_pages() -> list[tuple[str, str, str]]:
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.PAGES)


PAGES = _screenshots_pages()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_CACHE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("ACCESSIBILITY NOT CHECKED: npm is needed to fetch axe-core")
        AXE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", tmp],
                check=True,
                capture_output=True,
                timeout=180,
            )
            with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:
                member = tar.extractfile("package/axe.min.js")
                assert member is not None
                AXE_CACHE.write_bytes(member.read())
    return AXE_CACHE.read_text(encoding="utf-8")


def _resolve(page: Any, server: Server, path: str) -> str:
    if "{submission}" not in path:
        return path
    page.goto(f"{server.url}/review")
    href = page.locator("a[href*='/submissions/']").first.get_attribute("href") or ""
    return "/submissions/" + href.split("/submissions/")[1].split("?")[0].split("/")[0]


AXE_RUN = """async () => {
    const mild = axe._audit.rules.filter(r => r.impact === 'minor' || r.impact === 'moderate');
    const rules = Object.fromEntries(mild.map(r => [r.id, {enabled: false}]));
    return await axe.run(document, {resultTypes: ['violations'], rules});
}"""
"""axe gives every violation its rule's impact (``finalizeRuleResult``), so a rule rated minor or moderate can
never fail this test: those rules (28 of the 96 that axe 4.10 runs by default) are left out, about a tenth
of axe's time on the walk's pages."""


def _severe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE_PATH)
    result = page.evaluate(AXE_RUN)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in SEVERE
    ]


WIDE_BY_DESIGN = {"theory-of-change"}  # the diagram keeps 11 px text and scrolls sideways
WIDE = """() => {
    const limit = document.documentElement.clientWidth;
    const inScroller = el => {
        for (let p = el.parentElement; p; p = p.parentElement) {
            const o = getComputedStyle(p).overflowX;
            if (o === 'auto' || o === 'scroll') return true;
        }
        return false;
    };
    const found = [...document.querySelectorAll('body *')].filter(el => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > limit + 1 && !inScroller(el);
    }).slice(0, 5);
    return found.map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`);
}"""


def _visit(page: Any, url: str) -> None:
    """Open ``url`` and wait until it is complete: ``goto`` waits for the load event (style sheets, scripts,
    images); a page whose script fetches after that (Swagger UI's schema) is also waited for until its
    network is idle."""
    page.goto(url)
    if page.locator("#swagger-ui").count():
        page.wait_for_load_state("networkidle")


SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _narrow(page: Any, url: str) -> None:
    """Lay the page out at 390 px as a phone would open it. Resizing the loaded page re-applies the style
    sheets' media queries and gives exactly the layout of a fresh load at 390 px (two frames let resize
    observers and handlers run); a page with a canvas is opened again instead, since Chart.js sizes its
    canvases when it draws them and a drawn chart does not shrink with its box."""
    page.set_viewport_size({"width": 390, "height": 844})
    if page.locator("canvas").count():
        _visit(page, url)
    else:
        page.evaluate(SETTLED)


@pytest.fixture(scope="module")
def walk_page(browser: Any, axe_source: str) -> Iterator[Any]:
    """The one browser page that walks every page of the table, signed in again for each.

    A fresh browser context per page costs Chromium a new renderer process, and axe-core its parsing and
    its cold first run (about 0.3 s a page on the login page): the walk took a quarter more CPU that way.
    Each page check still starts from its own cookies, window size and navigation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.route(
        f"**{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="application/javascript", body=axe_source),
    )
    yield page
    context.close()


@pytest.mark.parametrize(("name", "path", "account"), PAGES, ids=[p[0] for p in PAGES])
def test_page_is_accessible_and_fits_a_phone(
    walk_page: Any, server: Server, sign_in: SignIn, name: str, path: str, account: str
) -> None:
    """In each language: no serious or critical axe-core violation at 1280 px; and at 390 px nothing but a
    table or figure's own scroller is wider than the screen (filters, buttons and label/value lists wrap
    instead of running off the side), except on the pages that are wide by design."""
    page = walk_page
    sign_in(page.context, account)
    target = _resolve(page, server, path)
    found, wide = {}, {}
    for lang in ("en", "es"):
        url = f"{server.url}{target}{'&' if '?' in target else '?'}lang={lang}"
        page.set_viewport_size({"width": 1280, "height": 900})
        _visit(page, url)
        assert page.locator("html").get_attribute("lang") == lang
        severe = _severe(page)
        if severe:
            found[lang] = severe
        if name in WIDE_BY_DESIGN:
            continue
        _narrow(page, url)
        off = page.evaluate(WIDE)
        if off:
            wide[lang] = off
    if found:
        report = ARTIFACTS / "axe" / f"{name}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(found, indent=1, ensure_ascii=False))
    assert not found, f"{name}: serious or critical axe-core violations (see {report}):\n" + json.dumps(
        found, indent=1, ensure_ascii=False
    )
    assert not wide, f"{name} runs off a 390 px screen: {wide}"


def test_theory_of_change_text_is_readable_in_spanish(page_factory: Any, server: Server, sign_in: SignIn) -> None:
    """No text under 11 px at 1366 px, and no heading wider than its box."""
    page = page_factory()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page.context, "officer@demo.mel")
    page.goto(f"{server.url}/p/peru-cpc/theory-of-change?lang=es")
    checks = page.evaluate(
        """() => [...document.querySelectorAll('svg.toc a.node')].map(node => {
            const box = node.querySelector('rect').getBoundingClientRect();
            return [...node.querySelectorAll('text')].map(t => {
                const r = t.getBoundingClientRect();
                const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
                return {text: t.textContent, size, inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5};
            });
        }).flat()"""
    )
    assert checks
    small = [c for c in checks if c["size"] < 11 - 0.01]
    overflowing = [c["text"] for c in checks if not c["inside"]]
    assert not small, small[:5]
    assert not overflowing, overflowing[:5]


def test_filters_work_from_the_keyboard_and_keep_focus(page_factory: Any, server: Server, sign_in: SignIn) -> None:
    """An htmx filter changed with the arrow keys reloads its results once and leaves focus where it was,
    also where the swap replaces the form itself (the upload page's quarter)."""
    page = page_factory()
    sign_in(page.context, "officer@demo.mel")
    page.goto(f"{server.url}/p/peru-cpc/iptt")
    before = page.locator("#iptt-table").inner_html()
    page.focus("#iptt-granularity")
    chosen = page.eval_on_selector("#iptt-granularity", "s => s.value")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/iptt" in r.url else None)
    with page.expect_response(lambda r: "/iptt" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowDown")
    page.wait_for_load_state("networkidle")
    assert page.eval_on_selector("#iptt-granularity", "s => s.value") != chosen
    assert page.locator("#iptt-table").inner_html() != before
    assert len(requests) == 1, requests  # three key presses, one request (the change is debounced)
    assert page.evaluate("document.activeElement.id") == "iptt-granularity"

    sign_in(page.context, "ilo@demo.mel")
    page.goto(f"{server.url}/reports?partner=ilo")
    page.focus("#upload-period")
    first = page.eval_on_selector("#upload-period", "s => s.value")
    with page.expect_response(lambda r: "/reports" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowDown")
    page.wait_for_load_state("networkidle")
    assert page.eval_on_selector("#upload-period", "s => s.value") != first
    assert page.evaluate("document.activeElement.id") == "upload-period"


def test_chart_labels_are_not_cut_off(page_factory: Any, server: Server, sign_in: SignIn) -> None:
    """Long category names are shortened with an ellipsis on the axis (the table keeps them whole), and
    context-event flags are numbered like the list under the chart."""
    page = page_factory()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page.context, "officer@demo.mel")
    page.goto(f"{server.url}/p/peru-cpc/trainings")  # the charts are drawn on DOMContentLoaded, before the load event
    ticks = page.evaluate(
        """() => [...document.querySelectorAll('canvas[data-chart]')].flatMap(c => {
            const chart = Chart.getChart(c);
            if (!chart || chart.options.indexAxis !== 'y') return [];
            const axis = chart.scales.y;
            return axis.ticks.map((t, i) => ({label: String(axis.getLabelForValue(t.value)),
                                              shown: [].concat(axis.getLabelItems()[i].label).join(' '),
                                              left: axis.left}));
        })"""
    )
    assert ticks
    long_ones = [t for t in ticks if len(t["label"]) > 28]
    assert long_ones, "the demo has long institution names"
    assert all(t["shown"].endswith("…") and len(t["shown"]) <= 28 for t in long_ones)
    assert all(t["left"] >= 0 for t in ticks)

    # a window narrowed after the charts were drawn: the charts shrink with it, none runs off the side
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every("
        "c => c.getBoundingClientRect().right <= document.documentElement.clientWidth + 1)",
        timeout=5000,
    )

    page.goto(f"{server.url}/p/peru-cpc/indicators/1.b")
    numbers = page.evaluate(
        """() => JSON.parse(document.getElementById('series-data').textContent).events.map(e => e.n)"""
    )
    listed = page.locator("figcaption ol.events li").count()
    assert numbers and all(1 <= n <= listed for n in numbers)
