"""A role that a route's policy does not name gets a 403 page that says why, in the user's language."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from mel.core.i18n import t
from tests.html_soup import soup

MESSAGE = "Your role does not give access to this page. Ask an administrator if you need it."


def test_refused_role_gets_a_page(client: TestClient, login_as: Callable[..., TestClient]) -> None:
    partner = login_as(client, "partner", partner="ilo")
    response = partner.get("/p/peru-cpc/quality")
    assert response.status_code == 403
    page = soup(response.text)
    assert page.select_one("p.refused").get_text(strip=True) == MESSAGE  # type: ignore[union-attr]
    spanish = soup(partner.get("/p/peru-cpc/quality?lang=es").text)
    assert spanish.select_one("p.refused").get_text(strip=True) == t("es", MESSAGE)  # type: ignore[union-attr]
    assert t("es", MESSAGE) != MESSAGE
    fragment = partner.get("/p/peru-cpc/quality", headers={"HX-Request": "true"})
    assert fragment.status_code == 403 and fragment.text == t("es", MESSAGE)  # the language cookie stays
