"""Static files for slow links: held in memory, gzipped once, cached for a year under a versioned URL.

Templates ask for ``url_for('static', path='mel.css')`` as before and get
``/static/_v/<hash>/mel.css``: the hash is the file's content, so the URL changes whenever the
file does and the browser may keep it for a year without asking again (``immutable``). The plain
``/static/mel.css`` still answers, with ``no-cache`` (the browser revalidates with its ETag and
gets a 304), and so does a versioned URL whose hash is not the current one (a page rendered
before an upgrade): never a stale file for a year.

The vendored front-end files (htmx, Chart.js, Swagger UI) are fetched from npm by
``scripts/fetch_assets.py``; a serving process without them refuses to start
(``require_vendored``) instead of serving pages whose controls silently do nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from starlette.datastructures import URL, Headers, URLPath
from starlette.types import Receive, Scope, Send

from mel.core.paths import STATIC_DIR

VERSION_PREFIX = "_v/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
VENDORED = ("htmx.min.js", "chart.umd.min.js", "swagger-ui-bundle.js", "swagger-ui.css")
"""The files ``scripts/fetch_assets.py`` puts in ``static/vendor`` (its ``PINS``)."""
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
HASH_LENGTH = 12


class MissingAssets(RuntimeError):
    """The vendored front-end files are not installed (message says how to get them)."""


def require_vendored(static_dir: Path = STATIC_DIR) -> None:
    """Refuse to serve without htmx and Chart.js: filters, charts and uploads would silently fail."""
    missing = [name for name in VENDORED if not (static_dir / "vendor" / name).is_file()]
    if missing:
        raise MissingAssets(
            f"mel cannot serve: the front-end files {', '.join(missing)} are missing from {static_dir / 'vendor'}.\n"
            "They are fetched from npm, not kept in git. In the clone, run `python scripts/fetch_assets.py`\n"
            "(needs npm), or `make setup`, then install again (`pip install .`): the package then carries them."
        )


@dataclass(frozen=True, slots=True)
class Asset:
    """One file as it is served: its bytes, gzipped bytes (when smaller), type and content hash."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    digest: str

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


def _media_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if guessed == "text/javascript":
        guessed = "application/javascript"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("javascript") else guessed


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    media_type = _media_type(path)
    packed = None
    if media_type.startswith(COMPRESSIBLE) and len(body) > 256:
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        if len(packed) >= len(body):
            packed = None
    return Asset(body, packed, media_type, hashlib.sha256(body).hexdigest()[:HASH_LENGTH])


class Assets:
    """The files under one folder, read once (a file added later is read at its first request)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[str, Asset | None] = {}

    def get(self, relative: str) -> Asset | None:
        if relative in self._files:
            return self._files[relative]
        found: Asset | None = None
        if relative and not relative.startswith(("/", "\\")) and "\\" not in relative:
            path = (self.root / relative).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                found = _load(path)
        if found is not None or len(self._files) < 10_000:  # remember misses, within reason
            self._files[relative] = found
        return found

    def versioned(self, relative: str) -> str:
        """The path under ``/static`` that carries the file's hash (the plain path when unknown)."""
        asset = self.get(relative)
        return f"{VERSION_PREFIX}{asset.digest}/{relative}" if asset is not None else relative


@cache
def assets(root: Path = STATIC_DIR) -> Assets:
    return Assets(root)


class StaticAssets:
    """ASGI app mounted at ``/static``: GET and HEAD, ETag revalidation, gzip when accepted."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        self.files = assets(root)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        relative = path[len(root_path) :] if root_path and path.startswith(root_path) else path
        relative = relative.lstrip("/")
        cache_control = REVALIDATE
        wanted_digest = None
        if relative.startswith(VERSION_PREFIX):
            wanted_digest, _, relative = relative[len(VERSION_PREFIX) :].partition("/")
        asset = self.files.get(relative) if scope["method"] in ("GET", "HEAD") else None
        if asset is None:
            status = 404 if scope["method"] in ("GET", "HEAD") else 405
            await _send(send, status, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found")
            return
        if wanted_digest == asset.digest:
            cache_control = IMMUTABLE
        request_headers = Headers(scope=scope)
        headers = [
            (b"cache-control", cache_control.encode()),
            (b"etag", asset.etag.encode()),
            (b"vary", b"Accept-Encoding"),
        ]
        if asset.etag in _etags(request_headers.get("if-none-match", "")):
            await _send(send, 304, headers, b"")
            return
        body = asset.body
        if asset.gzipped is not None and _accepts_gzip(request_headers.get("accept-encoding", "")):
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers += [(b"content-type", asset.media_type.encode()), (b"content-length", str(len(body)).encode())]
        await _send(send, 200, headers, b"" if scope["method"] == "HEAD" else body)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_PATHS: dict[tuple[int, str, tuple[tuple[str, str], ...]], URLPath] = {}
_MAX_PATHS = 50_000


@pass_context
def url_for(context: Any, name: str, /, **params: Any) -> URL:
    """Jinja's ``url_for`` with versioned static files (``url_for('static', path=...)``).

    Route paths are remembered (the router matches each name against every route, and a quarterly
    IPTT asks for hundreds of links): only the absolute URL is made per request."""
    request = context["request"]
    if name == "static" and "path" in params:
        params["path"] = assets().versioned(str(params["path"]))
    router = request.scope["router"]
    key = (id(router), name, tuple(sorted((k, str(v)) for k, v in params.items())))
    path = _PATHS.get(key)
    if path is None:
        path = router.url_path_for(name, **params)
        if len(_PATHS) < _MAX_PATHS:
            _PATHS[key] = path
    return path.make_absolute_url(base_url=request.base_url)
