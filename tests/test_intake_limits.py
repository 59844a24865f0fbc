"""Request-body limits: refused before the body is read, through the real app's ASGI entry.

Requests are driven straight into ``create_app(settings)`` with a ``receive`` that counts what the
app pulls, so each test can say how many bytes were read before the answer: nothing for an
oversized ``Content-Length`` or a forged CSRF header, at most the limit for a chunked body.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from mel.core.settings import Settings
from mel.web.app import create_app
from tests.report_factory import csrf

CHUNK = 1 << 20


@dataclass
class Sent:
    """A request body streamed in 1 MB chunks, and what the app pulled of it."""

    total: int
    pulled: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= self.total:
            await asyncio.sleep(3600)  # a client that keeps the connection open
        size = min(CHUNK, self.total - self.pulled)
        chunk = b"a" * size
        if self.pulled == 0:  # a well-formed multipart start: one file field that never ends
            head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\n'
            chunk = head + chunk[len(head) :]
        self.pulled += size
        return {"type": "http.request", "body": chunk, "more_body": self.pulled < self.total}


def call(app: Any, path: str, *, body: Sent, headers: dict[str, str], cookies: str = "") -> tuple[int, bytes]:
    """POST through the ASGI interface; (status, body)."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if cookies:
        raw.append((b"cookie", cookies.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": raw,
        "client": ("203.0.113.9", 5000),
        "server": ("testserver", 80),
        "root_path": "",
    }
    answer: dict[str, Any] = {"body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    async def run() -> None:
        await asyncio.wait_for(app(scope, body.receive, send), timeout=30)

    # a thread of its own: another test in this worker (the browser journeys) may have an event
    # loop running in the main thread, where asyncio.run refuses to start
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()
    return answer["status"], answer["body"]


def _cookies(client: TestClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def test_oversized_anonymous_login_is_refused_before_reading(settings: Settings) -> None:
    app = create_app(settings)
    body = Sent(total=120 * CHUNK)
    headers = {"content-type": "multipart/form-data; boundary=x", "content-length": str(body.total)}
    status, message = call(app, "/login", body=body, headers=headers)
    assert status == 413 and body.pulled == 0
    assert b"larger than this server accepts" in message
    status, message = call(app, "/login", body=Sent(total=body.total), headers={**headers, "accept-language": "es"})
    assert status == 413 and "más grande de lo que este servidor acepta" in message.decode()
    app.state.engine.dispose()


def test_chunked_anonymous_body_is_cut_at_the_limit(settings: Settings) -> None:
    app = create_app(settings)
    body = Sent(total=120 * CHUNK)  # no Content-Length: counted as it streams
    status, _ = call(app, "/login", body=body, headers={"content-type": "multipart/form-data; boundary=x"})
    assert status == 413
    assert body.pulled <= settings.max_anonymous_body_kb * 1024 + CHUNK < 30 * CHUNK
    app.state.engine.dispose()


def test_forged_csrf_header_is_refused_before_the_body(client: TestClient, login_as: Callable[..., Any]) -> None:
    login_as(client, "partner", partner="ilo")
    body = Sent(total=5 * CHUNK)
    headers = {"content-type": "multipart/form-data; boundary=x", "x-csrf-token": "forged", "accept-language": "es"}
    status, message = call(client.app, "/reports/upload", body=body, headers=headers, cookies=_cookies(client))
    assert status == 403 and body.pulled == 0
    assert "did not come from this site" in message.decode()


def test_signed_in_upload_gets_the_upload_limit(client: TestClient, login_as: Callable[..., Any]) -> None:
    """A session lifts the small anonymous limit up to the upload limit, and no further."""
    login_as(client, "partner", partner="ilo")
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.max_upload_mb = 3
    token = csrf(client)
    headers = {"content-type": "multipart/form-data; boundary=x", "x-csrf-token": token}
    big = Sent(total=40 * CHUNK)
    status, _ = call(client.app, "/reports/upload", body=big, headers=headers, cookies=_cookies(client))
    assert status == 413 and big.pulled <= 6 * CHUNK  # 3 MB + room for the form, then cut
    declared = Sent(total=40 * CHUNK)
    status, _ = call(
        client.app,
        "/reports/upload",
        body=declared,
        headers={**headers, "content-length": str(declared.total)},
        cookies=_cookies(client),
    )
    assert status == 413 and declared.pulled == 0
    # within the limit the request reaches the route (a broken multipart body: 400, not 413)
    small = Sent(total=CHUNK)
    status, _ = call(
        client.app,
        "/reports/upload",
        body=small,
        headers={**headers, "content-length": str(small.total)},
        cookies=_cookies(client),
    )
    assert status not in (403, 413)


def test_logins_and_forms_still_work(client: TestClient, login_as: Callable[..., Any]) -> None:
    login_as(client, "officer")  # the real login form, under the anonymous limit
    assert client.get("/review").status_code == 200
