"""Downloads of every export for evaluators and staff; small-cell suppression is always on here."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, Any

from fastapi import HTTPException, Query
from fastapi.responses import StreamingResponse

from mel.exports.options import ExportOptions
from mel.exports.service import BINARY, FORMATS, export, file_name
from mel.exports.writer import MEDIA_TYPES
from mel.results.disclosure import viewer_of
from mel.web.deps import EvaluatorOrStaff, LangDep, SessionDep, SharedPartnership
from mel.web.sessions import csrf_router

router = csrf_router()
CHUNK = 1 << 16
SPOOL = 16 << 20  # kept in memory up to 16 MB, then in a temporary file


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


@router.get("/p/{code}/exports/{kind}.{fmt}", name="export_download")
def export_download(
    session: SessionDep,
    user: EvaluatorOrStaff,
    lang: LangDep,
    partnership: SharedPartnership,
    kind: str,
    fmt: str,
    pillar: str | None = None,
    level: str | None = None,
    dimension: str | None = None,
    partner: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    granularity: str = "fy",
    provisional: str | None = None,
) -> StreamingResponse:
    """The file is written to a spooled temporary file first, so the database session closes
    before the download streams and a failure is a clean error, not half a file."""
    if fmt not in FORMATS.get(kind, ()):
        raise HTTPException(status_code=404)
    options = ExportOptions(
        include_provisional=viewer_of(user, provisional=provisional).provisional,
        suppress=True,
        lang=lang,  # the language the page was read in: yes/no cells, names
        dimension=dimension or None,
        pillar=pillar or None,
        level=level or None,
        partner=partner or None,
        first_period=first or None,
        last_period=last or None,
        granularity=granularity,
    )
    spool: Any = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 (closed by _chunks)
    if fmt in BINARY:
        export(session=session, kind=kind, partnership=partnership, fmt=fmt, options=options, out=spool)
    else:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
        # a download is opened in a spreadsheet: the byte-order mark makes Excel read UTF-8 ("Evaluación")
        export(
            session=session, kind=kind, partnership=partnership, fmt=fmt, options=options, out=text, bom=fmt == "csv"
        )
        text.flush()
        text.detach()
    spool.seek(0)
    return StreamingResponse(
        _chunks(spool),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{file_name(partnership, kind, fmt)}"'},
    )
