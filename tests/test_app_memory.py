"""What apps share and what a page leaves behind: every app of a process uses one compiled template
environment, and a served page keeps nothing of its request alive once it is answered."""

from __future__ import annotations

import gc
from collections.abc import Callable

from fastapi.testclient import TestClient
from jinja2.runtime import Context

from mel.catalog.models import Partnership
from mel.core.settings import Settings
from mel.web.app import create_app


def test_apps_share_one_template_environment(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    try:
        assert first.state.templates is second.state.templates
    finally:
        first.state.engine.dispose()
        second.state.engine.dispose()


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_pages_keep_nothing_of_their_requests(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    officer = login_as(client, "officer")
    for _ in range(3):  # what the store keeps is kept by the first visits
        assert officer.get("/p/peru-cpc").status_code == 200
        assert officer.get("/").status_code == 200
    contexts, partnerships = _alive(Context), _alive(Partnership)
    for _ in range(20):
        assert officer.get("/p/peru-cpc").status_code == 200
        assert officer.get("/").status_code == 200
    assert _alive(Context) <= contexts  # template contexts (and the requests they hold) are freed
    assert _alive(Partnership) <= partnerships  # each request's copies of the stored framework too
