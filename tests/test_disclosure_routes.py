"""Every page, fragment and download, as each viewer who is not staff, over the sensitive fixture.

The route table is read from the app (as the route-policy test does), so a route added later is
swept too. For each answer, every number shown for 2.a (the victims indicator) must be hidden or
at least 5 (or zero): in HTML the ``data-value`` of its rows and cells, in JSON the numbers of its
objects, in CSV the numbers of its rows. Whether a hidden cell could be rebuilt from the margins is
the attack of ``tests/test_disclosure_matrix.py``; this sweep makes sure no route was forgotten.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mel.core.settings import Settings
from mel.web.app import create_app
from tests.html_soup import soup
from tests.test_disclosure_matrix import store_sensitive
from tests.test_route_policy import api_routes

Login = Callable[..., TestClient]
EXPORTS = {
    "values": ("csv", "json", "xlsx"),
    "iptt": ("csv", "json", "xlsx"),
    "comparison": ("csv", "json", "xlsx"),
    "iati": ("xml",),
    "figures": ("csv", "json"),
}
VALUES = {"code": "peru-cpc", "indicator": "2.a", "partnership": "peru-cpc", "path": "mel.css"}
NUMBER_KEYS = {"value", "actual", "reported_actual"}


DB_SCENARIOS = {"victims": store_sensitive}


@pytest.fixture
def victims(stored_scenarios: tuple[object, ...]) -> None:
    """The sensitive values, stored (``DB_SCENARIOS``: the test's database is a copy of a template that holds them)."""
    assert store_sensitive in stored_scenarios, "the test module's DB_SCENARIOS must name this fixture"


def paths(settings: Settings) -> Iterator[str]:
    """Every GET path of the HTML app (the token API is swept by its own tests), filled for 2.a."""
    app = create_app(settings)
    for path, ctx in api_routes(list(app.routes)):
        if not isinstance(ctx.original_route, APIRoute) or "GET" not in (ctx.methods or {"GET"}):
            continue
        if path.startswith("/api"):
            continue
        if "{kind}" in path:
            for kind, formats in EXPORTS.items():
                for fmt in formats:
                    yield path.replace("{kind}", kind).replace("{fmt}", fmt)
            continue
        filled = path
        for name, value in VALUES.items():
            filled = filled.replace("{" + name + "}", value)
        yield filled.replace("{submission_id}", "1").replace("{job_id}", "1").replace("{warning_id}", "1")


def small(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return 0 < number < 5


def leaks_in_json(data: Any, inside: bool = False) -> Iterator[str]:
    if isinstance(data, dict):
        mine = inside or data.get("indicator") == "2.a"
        for key, value in data.items():
            if mine and key in NUMBER_KEYS and small(value):
                yield f"{key}={value}"
            yield from leaks_in_json(value, mine)
    elif isinstance(data, list):
        for item in data:
            yield from leaks_in_json(item, inside)


def leaks_in_html(text: str, whole_page: bool) -> Iterator[str]:
    page = soup(text)
    scopes = [page] if whole_page else page.select("[data-code='2.a'], [data-indicator='2.a']")
    for scope in scopes:
        for element in scope.select("[data-value]"):
            if small(element["data-value"]):
                yield f"{element.name}[data-value={element['data-value']}]"
    for script in page.select("script[type='application/json']") if whole_page else []:
        for dataset in json.loads(script.get_text() or "{}").get("datasets", []):
            if dataset.get("kind") != "target" and any(small(v) for v in dataset.get("data", [])):
                yield f"chart {dataset.get('label')}"


def leaks_in_csv(text: str) -> Iterator[str]:
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        if row.get("indicator") == "2.a":
            for key in ("value", "actual", "endline_value", "baseline_value"):
                if small(row.get(key)):
                    yield f"{key}={row[key]}"


@pytest.mark.parametrize(("role", "partner"), [("evaluator", None), ("partner", "aba-roli"), ("partner", "chs")])
def test_no_route_shows_a_small_victim_count(
    client: TestClient,
    login_as: Login,
    settings: Settings,
    victims: None,
    role: str,
    partner: str | None,
) -> None:
    viewer = login_as(client, role, partner=partner) if partner else login_as(client, role)
    swept = 0
    for path in sorted(set(paths(settings))):
        for headers in ({}, {"HX-Request": "true"}):
            response = viewer.get(path, headers=headers, params={"provisional": "1", "expand": "all"})
            assert response.status_code < 500, f"{path}: {response.status_code}"
            if response.status_code != 200:
                continue
            swept += 1
            kind = response.headers.get("content-type", "")
            if "json" in kind:
                found = list(leaks_in_json(response.json()))
            elif "html" in kind:
                found = list(leaks_in_html(response.text, whole_page="/indicators/2.a" in path))
            elif "csv" in kind:
                found = list(leaks_in_csv(response.content.decode("utf-8-sig")))
            else:
                found = []
            assert not found, f"{path} {headers} as {role}/{partner}: {found}"
    assert swept > 20
