"""Error pages: 404, 405, 422 and 500 answer a styled, translated page (a sentence for htmx), never JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi import Depends
from fastapi.testclient import TestClient

from mel.auth.identity import PUBLIC
from mel.core.settings import Settings
from mel.web.app import create_app
from mel.web.policy import Allow
from tests.html_soup import soup


def assert_error_page(response: object, status: int, title: str) -> BeautifulSoup:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    page = soup(response.text)  # type: ignore[attr-defined]
    assert page.select_one("link[rel=stylesheet]") is not None, "the error page uses the site's styles"
    assert page.select_one("header.site nav") is not None, "the error page keeps the site's navigation"
    assert page.select_one("section.error-page h1").get_text(strip=True) == title
    assert page.select_one("section.error-page p.error-code").get_text(" ", strip=True).endswith(str(status))
    assert page.select_one("section.error-page [role=alert]").get_text(strip=True)
    return page


@pytest.mark.parametrize(
    ("path", "lang", "title"),
    [
        ("/p/nope", "en", "Page not found"),
        ("/p/peru-cpc/indicators/9.9", "en", "Page not found"),
        ("/no/such/page", "en", "Page not found"),
        ("/p/nope", "es", "Página no encontrada"),
    ],
)
def test_not_found_is_a_page(
    client: TestClient, login_as: Callable[..., TestClient], path: str, lang: str, title: str
) -> None:
    client = login_as(client, "officer")
    page = assert_error_page(client.get(f"{path}?lang={lang}"), 404, title)
    assert page.html["lang"] == lang
    assert page.select_one("section.error-page a[href]")["href"].endswith("/")


def test_other_partners_submission_is_the_same_404(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "partner", partner="aba-roli")
    assert_error_page(client.get("/submissions/999999"), 404, "Page not found")


def test_validation_error_is_a_page_naming_the_field(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "officer")
    page = assert_error_page(client.get("/submissions/abc"), 422, "Address or form not understood")
    assert "submission_id" in page.select_one("section.error-page [role=alert]").get_text()
    spanish = assert_error_page(client.get("/submissions/abc?lang=es"), 422, "Dirección o formulario no comprendido")
    assert spanish.select_one("[role=alert]").get_text(strip=True).startswith("Parte de la dirección")


def test_method_not_allowed_is_a_page_with_allow_header(
    client: TestClient, login_as: Callable[..., TestClient]
) -> None:
    client = login_as(client, "officer")
    csrf = soup(client.get("/").text).body["hx-headers"].split('"')[3]  # past the CSRF check: the method is wrong
    response = client.request("DELETE", "/", headers={"X-CSRF-Token": csrf})
    assert_error_page(response, 405, "Not possible here")
    assert "GET" in response.headers["allow"]


def test_htmx_gets_one_sentence(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    client = login_as(client, "officer")
    response = client.get("/p/nope?lang=es", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("No hay ninguna página")
    assert "<" not in response.text


def test_anonymous_unknown_address_is_a_page(client: TestClient) -> None:
    assert_error_page(client.get("/definitely-not-here"), 404, "Page not found")


@pytest.fixture
def failing_client(settings: Settings) -> Iterator[TestClient]:
    """The real app plus one route that fails, as an unexpected bug would."""
    app = create_app(settings)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken, dependencies=[Depends(Allow(PUBLIC))])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def test_server_error_is_a_page_without_the_traceback(failing_client: TestClient) -> None:
    response = failing_client.get("/broken?lang=es")
    page = assert_error_page(response, 500, "Algo salió mal")
    assert "RuntimeError" not in response.text and "a bug" not in response.text
    assert page.select_one("section.error-page time") is not None, "the time to quote to an administrator"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    htmx = failing_client.get("/broken", headers={"HX-Request": "true"})
    assert htmx.status_code == 500 and htmx.headers["content-type"].startswith("text/plain")
