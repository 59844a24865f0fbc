"""Stored pages (``mel.web.page_store``): a repeat view is the page the route would render now, for
this user and this session only, and a change to the data shows at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partnership
from mel.core import periods
from mel.core.settings import Settings
from mel.results.store import STORE
from mel.web import page_store
from mel.web.app import create_app
from mel.web.page_store import CSRF_PLACEHOLDER, Page, PageStore, stored_page

Login = Callable[..., TestClient]
ROLES = [("admin", None), ("officer", None), ("evaluator", None), ("partner", "ilo"), ("partner", "aba-roli")]
PAGES = [
    "/",
    "/p/peru-cpc",
    "/p/peru-cpc?provisional=1",
    "/p/peru-cpc/theory-of-change",
    "/p/peru-cpc/indicators/2.a?dimension=age_group",
    "/p/peru-cpc/indicators/1.1.a",
    "/p/peru-cpc/iptt",
    "/p/peru-cpc/iptt?by=fy&lang=es",
    "/p/peru-cpc/trainings",
    "/p/peru-cpc/trainings?rows=region&cols=age_group&lang=es",
    "/p/peru-cpc/quality",
    "/p/peru-cpc/quality?partnership=philippines-cpc",
    "/p/peru-cpc/targets",
    "/p/peru-cpc/comparison",
    "/p/philippines-cpc",
    "/p/peru-cpc/indicators/no-such-code",
]
HTMX = [
    ("/p/peru-cpc", {"HX-Request": "true"}),
    ("/p/peru-cpc/trainings?page=2", {"HX-Request": "true", "HX-Target": "training-events"}),
    ("/p/peru-cpc/trainings", {"HX-Request": "true"}),
    ("/p/peru-cpc/quality?partner=ilo", {"HX-Request": "true"}),
]
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _store(client: TestClient) -> PageStore:
    store = client.app.state.page_store  # type: ignore[attr-defined]
    assert isinstance(store, PageStore)
    return store


@contextmanager
def _unstored(settings: Settings, like: TestClient) -> Iterator[TestClient]:
    """A second app on the same database that renders every request (no page store), logged in as
    ``like`` is (the same session cookie, so the same CSRF token)."""
    app = create_app(settings.model_copy(update={"page_store_mb": 0}))
    assert app.state.page_store is None
    with TestClient(app) as other:
        other.cookies.update(like.cookies)
        yield other
    app.state.engine.dispose()


@pytest.mark.demo_db
@pytest.mark.xdist_group("demo")
# what the store keeps does not depend on the database; test_a_change_to_the_data_shows_at_once reads and
# fills it on both backends, and test_disclosure_routes requests these pages on both
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_stored_page_is_the_page_the_route_renders_for_each_viewer(
    client: TestClient, login_as: Login, settings: Settings
) -> None:
    """Each role (a partner of another partnership included), each page, language and htmx block: the first
    and the repeated answer are byte for byte what an app without the store renders for that session, and
    the repeat is a stored page."""
    store = _store(client)
    statuses: set[int] = set()
    for role, partner in ROLES:
        viewer = login_as(client, role, partner=partner)
        with _unstored(settings, viewer) as fresh:
            for path, headers in [*((p, {}) for p in PAGES), *HTMX]:
                first = viewer.get(path, headers=headers)
                hits = store.hits
                again = viewer.get(path, headers=headers)
                expected = fresh.get(path, headers=headers)
                what = f"{path} {headers} as {role} {partner or ''}"
                assert first.status_code == again.status_code == expected.status_code, what
                assert first.content == again.content == expected.content, what
                assert CSRF_PLACEHOLDER not in first.text, what
                statuses.add(first.status_code)
                if first.status_code == 200:
                    assert store.hits == hits + 1, f"{what}: not read from the store"
                    assert dict(again.headers) == dict(first.headers), what
    assert {200, 403, 404} <= statuses
    assert len(store) > 50


def _token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.mark.parametrize("backend", ["sqlite"])  # the store does not depend on the database
def test_each_session_gets_its_own_csrf_token(client: TestClient, login_as: Login, settings: Settings) -> None:
    """The same user in two browsers: the second reads the page the first stored, with its own session's
    token in every form and in htmx's headers; the token works (log out) and the other's is absent."""
    first = login_as(client, "officer")
    page_one = first.get("/p/peru-cpc/targets")
    with TestClient(client.app) as second:
        login_as(second, "officer")
        hits = _store(client).hits
        page_two = second.get("/p/peru-cpc/targets")
        assert _store(client).hits == hits + 1
        one, two = _token(page_one.text), _token(page_two.text)
        assert one != two
        assert one not in page_two.text and two in page_two.text
        assert f'"X-CSRF-Token": "{two}"' in page_two.text
        assert page_one.text.replace(one, two) == page_two.text
        out = second.post("/logout", data={"csrf_token": two}, follow_redirects=False)
        assert out.status_code == 303
    assert first.get("/p/peru-cpc/targets").status_code == 200  # the first session is still logged in


def test_a_change_to_the_data_shows_at_once(client: TestClient, login_as: Login, session: Session) -> None:
    """A committed change (here an indicator renamed in the catalog) bumps its partnership's stamp: the next
    view of every stored page renders again and shows it, in any language."""
    officer = login_as(client, "officer")
    pages = ["/p/peru-cpc?lang=en", "/p/peru-cpc/iptt?lang=en", "/p/peru-cpc/indicators/2.a?lang=es"]
    before = [officer.get(p).text for p in pages]
    assert all(officer.get(p).text == b for p, b in zip(pages, before, strict=True))  # now stored
    indicator = session.scalars(
        select(Indicator).join(Partnership).where(Partnership.code == "peru-cpc", Indicator.code == "2.a")
    ).one()
    name = "Víctimas identificadas (renombrado en la prueba)"
    assert name not in "".join(before)
    indicator.name = indicator.name_es = name
    session.commit()
    for path in pages:
        assert name in officer.get(path).text, path


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_colleague_never_gets_anothers_page(client: TestClient, login_as: Login) -> None:
    """Two users of the same organization and role see the same figures, but each page is rendered for its
    own user (the email in the header, whatever else a page may say about them): never read from the other."""
    store = _store(client)
    first = login_as(client, "partner", partner="ilo", email="first@ilo.example.org")
    page = first.get("/p/peru-cpc")
    assert "first@ilo.example.org" in page.text
    misses = store.misses
    second = login_as(client, "partner", partner="ilo", email="second@ilo.example.org")
    other = second.get("/p/peru-cpc")
    assert store.misses == misses + 1
    assert "second@ilo.example.org" in other.text and "first@ilo.example.org" not in other.text


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_day_and_a_dropped_graph_are_in_the_key(
    client: TestClient, login_as: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Targets and due dates follow the calendar: a new day renders again. So does a figure store that was
    cleared (the shared graph refused a change, ``mel.results.frozen``)."""
    officer = login_as(client, "officer")
    store = _store(client)
    officer.get("/p/peru-cpc")
    misses = store.misses
    officer.get("/p/peru-cpc")
    assert store.misses == misses
    monkeypatch.setattr(periods, "today", lambda: __import__("datetime").date(2031, 1, 1))
    officer.get("/p/peru-cpc")
    assert store.misses == misses + 1
    STORE.clear()
    officer.get("/p/peru-cpc")
    assert store.misses == misses + 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_host_is_in_the_key(client: TestClient, login_as: Login) -> None:
    """Pages carry absolute links: one asked for under another host name is rendered for that host."""
    officer = login_as(client, "officer")
    here = officer.get("/p/peru-cpc/iptt").text
    there = officer.get("/p/peru-cpc/iptt", headers={"host": "mel.example.org"}).text
    assert "http://testserver/" in here and "http://testserver/" not in there
    assert "http://mel.example.org/" in there


def _page(size: int) -> Page:
    return Page(200, (("content-type", "text/html"),), b"x" * size)


def test_the_store_keeps_the_latest_pages_within_its_bytes() -> None:
    store = PageStore(max_bytes=1000)
    for key in "abcd":
        store.put(key, _page(240))
    assert len(store) == 4 and store.size == 960
    assert store.get("a") is not None  # now the latest
    store.put("e", _page(240))  # over 1000: the least recently used (b) goes
    assert store.get("b") is None and store.get("a") is not None and store.size == 960
    store.put("huge", _page(251))  # over a quarter of the store: never kept
    assert store.get("huge") is None and len(store) == 4
    store.put("a", _page(10))  # replaced, not counted twice
    assert store.size == 730
    store.clear()
    assert len(store) == 0 and store.size == 0


def test_only_routes_with_a_request_session_and_user_can_be_stored() -> None:
    def page(request: Request) -> None: ...

    with pytest.raises(TypeError, match="session"):
        stored_page(page)  # type: ignore[arg-type]


def test_every_stored_route_is_in_the_sweep(settings: Settings) -> None:
    """A page that opts into the store later is compared with its fresh rendering by the first test."""
    app = create_app(settings)
    stored = [r.path for r in app.routes if isinstance(r, APIRoute) and r.endpoint in page_store.STORED_ROUTES]
    assert len(stored) >= 9
    swept = {p.split("?")[0] for p in PAGES}
    for path in stored:
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", path))
        assert any(re.fullmatch(pattern, p) for p in swept), f"{path} is stored but not swept"
