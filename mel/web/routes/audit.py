"""The audit log page (admins only): browse and filter, never edit. There is no write route here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from mel.core.audit import AuditFilter, audit_choices, audit_entries
from mel.web.deps import AdminUser, SessionDep
from mel.web.render import render
from mel.web.sessions import csrf_router

router = csrf_router()
PER_PAGE = 50


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/admin/audit", response_class=HTMLResponse, name="admin_audit")
def audit_page(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    action: str | None = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    filt = AuditFilter(
        action=_blank(action),
        actor=_blank(actor),
        entity=_blank(entity),
        entity_id=_blank(entity_id),
        date_from=_date(first),
        date_to=_date(last),
    )
    params = {
        "action": filt.action or "",
        "actor": filt.actor or "",
        "entity": filt.entity or "",
        "entity_id": filt.entity_id or "",
        "from": filt.date_from.isoformat() if filt.date_from else "",
        "to": filt.date_to.isoformat() if filt.date_to else "",
    }
    actions, entities = audit_choices(session)
    context = {
        "result": audit_entries(session, filt, page=page, per_page=PER_PAGE),
        "params": params,
        "query": urlencode({k: v for k, v in params.items() if v}),
        "actions": actions,
        "entities": entities,
    }
    return render(request, "admin_audit.html", context, block="entries")
