"""Stored pages: a read-only page rendered once per user, request and data version.

The figure store (``mel.results.store``) already keeps what a page computes; building the page's view
and rendering it again for every request was then the larger part of its cost (a demo page: 16-35 ms
of CPU rendered, 8-12 ms stored, most of that the HTTP stack, the session and the policy checks).
A page that opts in with ``@stored_page`` keeps its rendered HTML under a key that holds everything
its answer can depend on:

* the request: host and path, query string, interface language and the htmx headers that pick a
  block (``HX-Request``, ``HX-Boosted``, ``HX-Target``);
* the logged-in user (``CurrentUser``: id, email, role, language and visible partners): a stored
  page only ever goes back to the user it was rendered for, after the route's dependencies (its
  role policy, and for ``SharedPartnership`` the partnership's visibility) ran again for this
  request. What a route decides in its body from the user and the data (which partnerships a
  partner sees on the portfolio) is a function of the user and the stamps, so of the key;
* the data: every partnership's stamp (``mel.core.versions``: bumped in the transaction of any
  change to any table that reaches a partnership), the figure store's generation (cleared when the
  shared graph refused a change) and the day (targets and due dates follow the calendar).

Tables outside the stamps (accounts, sessions, tokens, the import queue, stored files, the audit
log) must not show on a stored page: ``@stored_page`` is for the progress pages, which read none.
The session's CSRF token is not in the key: the page is rendered with a placeholder that each
answer replaces with the requesting session's own token. Only a 200 HTML answer that sets no cookie
is kept; a session with uncommitted changes never reads or fills the store. Each server process
keeps its own pages, least recently used dropped first beyond ``Settings.page_store_mb``.
"""

from __future__ import annotations

import functools
import inspect
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import ParamSpec

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.core import periods
from mel.core.versions import all_stamps, pending
from mel.results.store import STORE

P = ParamSpec("P")

CSRF_PLACEHOLDER = secrets.token_hex(32)
"""Stands for the CSRF token in a stored page (as long as a real one; random per process, so no page
text can contain it by chance): each answer carries its own session's token in its place."""
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()
KEY_HEADERS = ("hx-request", "hx-boosted", "hx-target")
"""The request headers a page may render differently for (``mel.web.render`` and the routes)."""
NOT_KEPT_HEADERS = frozenset({"content-length", "set-cookie"})
STORED_ROUTES: list[Callable[..., Response]] = []
"""Every route that opted in (the tests compare each with its fresh rendering)."""


@dataclass(frozen=True)
class Page:
    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    """With ``CSRF_PLACEHOLDER`` where the token goes."""


class PageStore:
    """A thread-safe LRU of rendered pages, bounded by the bytes of their bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: Hashable, page: Page) -> None:
        if len(page.body) > self.max_bytes // 4:  # one huge table must not empty the store
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._pages[key] = page
            self._bytes += len(page.body)
            while self._bytes > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size(self) -> int:
        return self._bytes


def page_key(request: Request, session: Session, user: CurrentUser) -> Hashable:
    """Everything a stored page's HTML may depend on but the CSRF token (see the module's docstring)."""
    headers = request.headers
    return (
        str(request.base_url),
        request.url.path,
        request.url.query,
        request.state.lang,
        tuple(headers.get(name) for name in KEY_HEADERS),
        user,
        all_stamps(session),
        STORE.generation,
        periods.today(),
    )


def stored_page(route: Callable[P, Response]) -> Callable[P, Response]:
    """Keep the route's page (see the module's docstring). The route takes ``request``, ``session`` and
    ``user`` parameters; its dependencies (policy, partnership) still run for every request."""
    names = inspect.signature(route).parameters
    missing = {"request", "session", "user"} - set(names)
    if missing:
        raise TypeError(f"@stored_page needs the route's {sorted(missing)} parameters: {route.__qualname__}")

    @functools.wraps(route)
    def answer(*args: P.args, **kwargs: P.kwargs) -> Response:
        request, session, user = kwargs["request"], kwargs["session"], kwargs["user"]
        assert isinstance(request, Request) and isinstance(session, Session) and isinstance(user, CurrentUser)
        store: PageStore | None = getattr(request.app.state, "page_store", None)
        if store is None or pending(session):
            return route(*args, **kwargs)
        token: str = getattr(request.state, "csrf_token", "")
        key = page_key(request, session, user)
        page = store.get(key)
        if page is None:
            request.state.csrf_token = CSRF_PLACEHOLDER
            try:
                response = route(*args, **kwargs)
            finally:
                request.state.csrf_token = token
            page = _page_of(response)
            if page is None:  # not a page to keep: as it is, with the session's token back in place
                return _with_token(response, token)
            if not pending(session):
                store.put(key, page)
        return HTMLResponse(_fill(page.body, token), status_code=page.status_code, headers=dict(page.headers))

    STORED_ROUTES.append(answer)
    return answer


def _page_of(response: Response) -> Page | None:
    headers = response.headers
    if (
        response.status_code != 200
        or "set-cookie" in headers
        or not headers.get("content-type", "").startswith("text/html")
        or not isinstance(body := getattr(response, "body", None), bytes)
    ):
        return None
    kept = tuple((k, v) for k, v in headers.items() if k not in NOT_KEPT_HEADERS)
    return Page(response.status_code, kept, body)


def _fill(body: bytes, token: str) -> bytes:
    return body.replace(_PLACEHOLDER, token.encode())


def _with_token(response: Response, token: str) -> Response:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or _PLACEHOLDER not in body:
        return response
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    fixed = Response(_fill(body, token), status_code=response.status_code, headers=headers)
    fixed.background = response.background
    return fixed


def make_page_store(megabytes: int) -> PageStore | None:
    return PageStore(megabytes * 1024 * 1024) if megabytes > 0 else None
