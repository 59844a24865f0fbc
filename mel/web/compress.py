"""Gzip for text responses (HTML, CSS, JavaScript, JSON, CSV, XML) when the client accepts it.

Partners read from regional offices over slow links: the IPTT is 58 KB of HTML and 5 KB gzipped.
Only text types are compressed (an XLSX or Parquet download is already a compressed archive, and
gzipping it again costs time for nothing); responses under ``MINIMUM_SIZE`` go out as they are;
a response that already has a ``Content-Encoding`` (the static files, gzipped once at start-up)
is left alone. Streamed responses are compressed as they stream.
"""

from __future__ import annotations

import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024
"""Below about a kilobyte the gzip header and the CPU cost outweigh the saving."""
LEVEL = 6
"""zlib's default, for large and streamed responses: within a few percent of level 9 on HTML, at a
third of the CPU (a 550 KB quarterly IPTT: 4 ms instead of 14)."""
SMALL_LEVEL = 8
SMALL_BODY = 512 * 1024
"""Pages up to this size get level 8 (at most about 5 ms; level 9 saves nothing more on HTML): the
few percent keep a large table's repeat visit, which transfers the page alone, within 20 KB."""
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/problem+json",
    "application/ld+json",
    "image/svg+xml",
)


def compressible(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media.startswith(TEXT_TYPES) or media.endswith(("+json", "+xml"))


def accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class Gzip:
    """Pure ASGI middleware (no per-request task or thread, unlike ``BaseHTTPMiddleware``)."""

    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = LEVEL) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(Headers(scope=scope).get("accept-encoding", "")):
            await self.app(scope, receive, send)
            return
        await _Responder(self.app, self.minimum_size, self.level)(scope, receive, send)


class _Responder:
    def __init__(self, app: ASGIApp, minimum_size: int, level: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level
        self.send: Send | None = None
        self.start: Message | None = None
        self.passthrough = False
        self.held = b""
        self.compressor: zlib._Compress | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.on_send)

    async def on_send(self, message: Message) -> None:
        assert self.send is not None
        kind = message["type"]
        if kind == "http.response.start":
            headers = Headers(raw=message.get("headers", []))
            self.passthrough = (
                "content-encoding" in headers
                or message["status"] in (204, 206, 304)
                or not compressible(headers.get("content-type", ""))
            )
            if self.passthrough:
                await self.send(message)
            else:
                self.start = message  # held until the first body part says how large the response is
            return
        if kind != "http.response.body" or self.passthrough:
            if self.start is not None:  # e.g. a trailer or pathsend before any body: nothing to compress
                await self.send(self.start)
                if self.held:
                    await self.send({"type": "http.response.body", "body": self.held, "more_body": True})
                self.start, self.held = None, b""
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self.start is not None:
            body = self.held + body
            if more and len(body) < self.minimum_size:  # a streamed start: wait for enough to judge
                self.held = body
                return
            start, self.start, self.held = self.start, None, b""
            headers = MutableHeaders(raw=start["headers"])
            if not more and len(body) < self.minimum_size:
                await self.send(start)
                await self.send({"type": "http.response.body", "body": body, "more_body": False})
                self.passthrough = True
                return
            headers.add_vary_header("Accept-Encoding")
            headers["Content-Encoding"] = "gzip"
            level = SMALL_LEVEL if not more and len(body) <= SMALL_BODY and self.level == LEVEL else self.level
            self.compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip container
            if more:
                del headers["Content-Length"]
                packed = self.compressor.compress(body)
            else:
                packed = self.compressor.compress(body) + self.compressor.flush()
                headers["Content-Length"] = str(len(packed))
            await self.send(start)
            await self.send({"type": "http.response.body", "body": packed, "more_body": more})
            return
        assert self.compressor is not None
        packed = self.compressor.compress(body)
        if not more:
            packed += self.compressor.flush()
        if packed or not more:  # zlib keeps small parts until it has a block's worth
            await self.send({"type": "http.response.body", "body": packed, "more_body": more})
