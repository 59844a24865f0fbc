"""Light on slow links: versioned static files cached for a year, gzip for text, never for archives,
and a server that refuses to start without its front-end files."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mel.core.paths import STATIC_DIR
from mel.web.static import VENDORED, MissingAssets, require_vendored

ROOT = Path(__file__).resolve().parents[1]


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(?:http://testserver)?(/static/[^"]+)"', html)


def test_pages_link_static_files_by_content(client: TestClient) -> None:
    urls = _assets(client.get("/login").text)
    assert any(u.endswith("/vendor/htmx.min.js") for u in urls) and any(u.endswith("/mel.css") for u in urls)
    for url in urls:
        match = re.fullmatch(r"/static/_v/([0-9a-f]{12})/(.+)", url)
        assert match, f"{url} carries no content hash"
        digest, relative = match.groups()
        body = (STATIC_DIR / relative).read_bytes()
        assert digest == hashlib.sha256(body).hexdigest()[:12]
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200 and response.content == body
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-encoding" not in response.headers


def test_unversioned_or_outdated_urls_are_revalidated(client: TestClient) -> None:
    body = (STATIC_DIR / "mel.css").read_bytes()
    for url in ("/static/mel.css", "/static/_v/000000000000/mel.css"):  # a page from before an upgrade
        response = client.get(url)
        assert response.status_code == 200 and response.content == body
        assert response.headers["cache-control"] == "no-cache"
        again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


def test_static_text_is_gzipped_once_and_served_gzipped(client: TestClient) -> None:
    body = (STATIC_DIR / "vendor" / "htmx.min.js").read_bytes()
    raw = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "gzip, br"})
    assert raw.headers["content-encoding"] == "gzip" and "accept-encoding" in raw.headers["vary"].lower()
    assert int(raw.headers["content-length"]) < len(body) / 2
    assert raw.content == body  # the client decompressed it: the same bytes
    head = client.head("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b""


def test_no_file_outside_the_static_folder(client: TestClient) -> None:
    for url in ("/static/../mel/app.py", "/static/%2e%2e/mel/app.py", "/static/_v/x/../../pyproject.toml"):
        assert client.get(url).status_code == 404, url
    assert client.get("/static/nothing-here.js").status_code == 404


def test_html_is_gzipped_for_clients_that_accept_it(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    plain = client.get("/login", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(gzip.compress(plain.content)) < len(plain.content)


def test_workbooks_are_not_gzipped(client: TestClient, login_as: object) -> None:
    officer = login_as(client, "officer")  # type: ignore[operator]
    response = officer.get("/p/peru-cpc/iptt.xlsx", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content[:2] == b"PK" and "content-encoding" not in response.headers
    page = officer.get("/p/peru-cpc/iptt", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"


def test_a_server_without_its_front_end_files_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "htmx.min.js").write_text("/* htmx */")
    with pytest.raises(MissingAssets) as refused:
        require_vendored(tmp_path)
    message = str(refused.value)
    assert "chart.umd.min.js" in message and "scripts/fetch_assets.py" in message and "pip install" in message
    for name in VENDORED:
        (tmp_path / "vendor" / name).write_text("/* */")
    require_vendored(tmp_path)


def test_the_vendored_list_is_what_fetch_assets_fetches() -> None:
    spec = importlib.util.spec_from_file_location("fetch_assets", ROOT / "scripts" / "fetch_assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(target for *_pin, target in module.PINS) == sorted(VENDORED)
