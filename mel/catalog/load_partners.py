"""Loading a catalog's partners (and their prime/sub-recipient links) without losing reported data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog import dhis2
from mel.catalog.catalog_file import LineDict, Problems
from mel.catalog.load_shared import LoadSummary, as_date, catalog_tables, set_changed
from mel.catalog.models import Partner, Partnership
from mel.core.db import referring_rows


def load_partners(
    session: Session, problems: Problems, partnership: Partnership, data: LineDict, summary: LoadSummary
) -> dict[str, Partner]:
    existing = {p.code: p for p in session.scalars(select(Partner).where(Partner.partnership_id == partnership.id))}
    wanted: list[LineDict] = data.get("partners") or []
    by_code: dict[str, Partner] = {}
    for item in wanted:
        code = str(item["code"])
        partner = existing.get(code)
        if partner is None:
            other = session.scalar(select(Partner).where(Partner.code == code))
            if other is not None:
                problems.add(
                    item.lines["code"],
                    f"partners.{code}",
                    "partner codes are unique across partnerships; this one is already used",
                )
                continue
            partner = Partner(code=code, partnership=partnership)
            session.add(partner)
            summary.created.append(f"partner {code}")
        contact = item.get("contact") or {}
        set_changed(
            partner,
            summary,
            f"partner {code}",
            name=item["name"],
            pillars=list(item.get("pillars") or []),
            aliases=[str(a) for a in item.get("aliases") or []],
            contact_name=contact.get("name"),
            contact_email=contact.get("email"),
            starts_on=as_date(item.get("starts_on")),
            ends_on=as_date(item.get("ends_on")),
            dhis2=dhis2.stored(item),
        )
        by_code[code] = partner
    for item in wanted:
        code = str(item["code"])
        if code in by_code:
            parent = by_code.get(str(item["parent"])) if item.get("parent") is not None else None
            set_changed(by_code[code], summary, f"partner {code}", parent=parent)
    session.flush()
    for code, partner in existing.items():
        if code in by_code:
            continue
        if referring_rows(session, "partner", partner.id, skip=catalog_tables()):
            problems.add(
                data.lines.get("partners", 1),
                f"partners.{code}",
                "this partner has submissions or accounts and cannot be removed from the catalog",
            )
        else:
            session.delete(partner)
            summary.removed.append(f"partner {code}")
    return by_code
