"""Read-only partnership pages read the framework graph the figure store keeps per data version, not a
copy merged into the request's session; writes keep the merged copy. The shared graph must be whole
(a lazy load on it would raise) and every page must answer each viewer as the merged copy did."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.models import Partnership, Target
from mel.core.settings import Settings
from mel.results.frozen import SharedGraphChanged
from mel.results.store import STORE, partnership_graph, stored_partnership
from mel.web import deps
from tests.test_disclosure_routes import paths

Login = Callable[..., TestClient]
ROLES = [("admin", None), ("officer", None), ("evaluator", None), ("partner", "ilo"), ("partner", "aba-roli")]


def _objects(root: object) -> Iterator[object]:
    """Every ORM object reachable from ``root`` through loaded relationships."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        state = inspect(obj)
        for rel in state.mapper.relationships:
            if rel.key not in state.unloaded:
                value = getattr(obj, rel.key)
                todo.extend(value if isinstance(value, list) else [] if value is None else [value])


@pytest.mark.parametrize("code", ["peru-cpc", "philippines-cpc"])
def test_the_stored_graph_is_whole_and_detached(session_factory: sessionmaker[Session], code: str) -> None:
    """Nothing in it is left to a lazy load (on a detached object that raises DetachedInstanceError)."""
    STORE.clear()
    with session_factory() as session:
        graph = partnership_graph(session, code)
        assert graph is not None and graph not in session
        assert partnership_graph(session, code) is graph  # one load per data version
    objects = list(_objects(graph))
    assert all(inspect(o).detached for o in objects)
    assert {type(o).__name__ for o in objects} >= {"Partnership", "Partner", "Result", "Indicator", "Target"}
    unloaded = {(type(o).__name__, key) for o in objects for key in inspect(o).unloaded}
    relationships = {(type(o).__name__, rel.key) for o in objects for rel in inspect(o).mapper.relationships}
    assert not unloaded & relationships, sorted(unloaded & relationships)
    assert graph.dimensions and graph.indicators  # beyond what load_partnership loads


def test_a_read_page_gets_the_shared_graph(
    client: TestClient, login_as: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests get the very same object, the stored one, never part of the request's session."""
    seen: list[tuple[Partnership | None, bool]] = []

    def recorder(session: Session, code: str) -> Partnership | None:
        found = partnership_graph(session, code)
        seen.append((found, found in session))
        return found

    officer = login_as(client, "officer")
    monkeypatch.setattr(deps, "partnership_graph", recorder)
    assert officer.get("/p/peru-cpc").status_code == 200
    assert officer.get("/p/peru-cpc/iptt").status_code == 200
    assert len(seen) == 2 and seen[0][0] is seen[1][0] is not None
    assert not seen[0][1] and not seen[1][1] and inspect(seen[0][0]).detached
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        assert partnership_graph(session, "peru-cpc") is seen[0][0]


@pytest.mark.demo_db  # the demo's history, built once per backend into a template
@pytest.mark.xdist_group("demo")
# which object a page reads does not depend on the database; test_disclosure_routes requests the same
# pages on both backends and fails on any error a lazy load on the shared graph would raise
@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_read_page_answers_each_viewer_as_the_merged_copy_did(
    client: TestClient, login_as: Login, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every GET route of a partnership, as each role (a partner of another partnership included):
    the same status and page from the shared graph as from a copy merged into the session, and the
    merged copy is not asked for at all."""
    pages = [p for p in paths(settings) if p.startswith("/p/")]
    assert len(pages) > 15
    merged: list[str] = []

    def merged_copy(session: Session, code: str) -> Partnership | None:
        merged.append(code)
        return stored_partnership(session, code)

    monkeypatch.setattr(deps, "stored_partnership", merged_copy)
    statuses: set[int] = set()
    for role, partner in ROLES:
        viewer = login_as(client, role, partner=partner)
        for path in pages:
            STORE.clear()  # both compute: nothing read from the other's stored figures
            shared = viewer.get(path)
            assert merged == [], f"{path} asked for the merged copy"
            with monkeypatch.context() as patch:
                patch.setattr(deps, "partnership_graph", merged_copy)
                STORE.clear()
                copy = viewer.get(path)
            assert merged or copy.status_code == 403, f"{path} did not ask for a partnership ({copy.status_code})"
            merged.clear()
            what = f"{path} as {role} {partner or ''}"
            assert shared.status_code == copy.status_code, what
            statuses.add(shared.status_code)
            if not path.endswith(".xlsx"):  # a workbook records when it was written
                assert shared.content == copy.content, what
    assert {200, 403, 404} <= statuses


def test_the_shared_graph_refuses_changes(session_factory: sessionmaker[Session]) -> None:
    """A change to the shared graph raises at once, whatever the route: a value set, a collection changed
    (also from the other side of a relationship), the graph given to a session. Its merged copy changes."""
    STORE.clear()
    with session_factory() as session:
        graph = partnership_graph(session, "peru-cpc")
        assert graph is not None
        indicator = graph.indicators[0]
        with pytest.raises(SharedGraphChanged):
            indicator.name = "renamed"
        with pytest.raises(SharedGraphChanged):
            Target(indicator=indicator, period="2030Q1", value=1)  # the backref appends to indicator.targets
        with pytest.raises(SharedGraphChanged):
            session.add(graph)
        assert indicator.name != "renamed" and graph not in session
        graph = partnership_graph(session, "peru-cpc")
        assert graph is not None
        with pytest.raises(SharedGraphChanged):
            graph.partners.pop()  # a removal is seen once done: the damaged graph is no longer served
        assert partnership_graph(session, "peru-cpc") is not graph
        copy = stored_partnership(session, "peru-cpc")
        assert copy is not None and copy is not graph
        copy.indicators[0].name = "renamed in this session only"
        assert session.dirty and indicator.name != copy.indicators[0].name
        session.rollback()
