"""What every API answer shares: long-form JSON pages, opaque cursors and ETags.

A list answers ``{"data": [...], "next_cursor": "..." | null}``; the cursor is an opaque token that
the next request passes back as ``?cursor=``. Bodies carry a strong ``ETag`` (a digest of the exact
bytes) and ``Cache-Control: private, no-cache``: a client that sends ``If-None-Match`` with the same
tag gets ``304 Not Modified`` and no body. The tag is of what *this* caller may see, so two callers
never share one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from fastapi import Request, Response

from mel.core.i18n import t
from mel.web.api.auth import ApiError, lang_of

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
T = TypeVar("T")


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(request: Request, cursor: str | None) -> Any:
    """The position a cursor stands for (None for the first page); a damaged cursor is a 400."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, "bad_cursor", t(lang_of(request), "This cursor is not one the API gave: start again without it.")
        ) from exc


def page_of(request: Request, items: Sequence[T], cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    """One page of a list computed whole (figures, trainings): the cursor holds the offset."""
    start = decode_cursor(request, cursor) or 0
    if not isinstance(start, int) or start < 0:
        raise ApiError(
            400, "bad_cursor", t(lang_of(request), "This cursor is not one the API gave: start again without it.")
        )
    end = start + limit
    return list(items[start:end]), encode_cursor(end) if end < len(items) else None


def keyset_page(rows: Iterable[T], limit: int, key: Callable[[T], Any]) -> tuple[list[T], str | None]:
    """One page of rows read in key order with one extra row: the cursor holds the last key."""
    taken = list(rows)
    if len(taken) > limit:
        taken = taken[:limit]
        return taken, encode_cursor(key(taken[-1]))
    return taken, None


def json_answer(request: Request, body: Any, *, status_code: int = 200) -> Response:
    """``body`` as JSON with its ETag; ``304`` when the caller already holds these exact bytes."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    sent = request.headers.get("if-none-match", "")
    if status_code == 200 and tag in [s.strip().removeprefix("W/") for s in sent.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, status_code=status_code, media_type="application/json", headers=headers)


def listing(request: Request, data: list[Any], next_cursor: str | None, **extra: Any) -> Response:
    return json_answer(request, {"data": data, "next_cursor": next_cursor, **extra})
