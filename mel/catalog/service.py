"""Loading catalogs into the database, idempotently, without ever losing reported data.

``load_catalog`` is the entry point: the partnership and its context events here, partners
(``load_partners``), dimensions (``load_dimensions``) and the results framework with its targets
(``load_framework``) in their own modules.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog import dhis2
from mel.catalog.catalog_file import CatalogError, LineDict, Problems
from mel.catalog.load_dimensions import load_dimensions
from mel.catalog.load_framework import load_indicators, load_results
from mel.catalog.load_partners import load_partners
from mel.catalog.load_shared import LoadSummary, TargetReason, as_date, set_changed
from mel.catalog.models import ContextEvent, Partnership
from mel.catalog.schema import parse_catalog
from mel.core.audit import CLI, Actor, record


def load_catalog(
    *, session: Session, path: Path, actor: Actor = CLI, target_reason: TargetReason | None = None
) -> LoadSummary:
    """Validate ``path`` and bring the database in line with it, in the caller's transaction.

    Refuses (CatalogError, nothing written) to drop or redefine what stored data depends on:
    a changed definition is a new indicator; a changed target needs its reason (``TargetReason`` or
    a revision entry of the file).
    """
    data = parse_catalog(path)
    problems = Problems(str(path))
    partnership_data: LineDict = data["partnership"]
    summary = LoadSummary(partnership=str(partnership_data["code"]))

    partnership = session.scalar(select(Partnership).where(Partnership.code == str(partnership_data["code"])))
    if partnership is None:
        partnership = Partnership(code=str(partnership_data["code"]))
        session.add(partnership)
        summary.created.append(f"partnership {partnership.code}")
    set_changed(
        partnership,
        summary,
        f"partnership {partnership.code}",
        name=partnership_data["name"],
        name_es=partnership_data.get("name_es"),
        country=partnership_data["country"],
        description=partnership_data.get("description"),
        signed_on=as_date(partnership_data.get("signed_on")),
        starts_on=as_date(partnership_data["starts_on"]),
        ends_on=as_date(partnership_data["ends_on"]),
        fiscal_year_start=int(partnership_data.get("fiscal_year_starts", 10)),
        pillars=list(partnership_data.get("pillars") or []),
        source_file=path.name,
        dhis2=dhis2.stored(partnership_data),
    )
    session.flush()

    partners = load_partners(session, problems, partnership, data, summary)
    load_dimensions(session, problems, partnership, data, summary)
    results = load_results(session, problems, partnership, data, summary)
    load_indicators(session, problems, partnership, data, summary, partners, results, target_reason or TargetReason())
    _load_context_events(session, partnership, data, summary)
    if problems.items:
        raise CatalogError(problems.items)
    session.flush()
    if summary.changed:
        record(
            session,
            actor=actor,
            action="catalog.load",
            entity="partnership",
            entity_id=partnership.code,
            summary=f"{path.name}: {len(summary.created)} created, {len(summary.updated)} updated, "
            f"{len(summary.removed)} removed",
            after={"created": summary.created, "updated": summary.updated, "removed": summary.removed},
        )
    return summary


def _load_context_events(session: Session, partnership: Partnership, data: LineDict, summary: LoadSummary) -> None:
    """Catalog events are added once (by title and start); officers edit them in the app afterwards."""
    existing = {
        (e.title, e.starts_on): e
        for e in session.scalars(select(ContextEvent).where(ContextEvent.partnership_id == partnership.id))
    }
    for item in data.get("context_events") or []:
        starts = as_date(item["starts_on"])
        assert starts is not None
        if (item["title"], starts) in existing:
            event = existing[(item["title"], starts)]
            for key in ("title_es", "description_es"):  # a translation added later reaches stored events
                if item.get(key) and not getattr(event, key):
                    setattr(event, key, item[key])
            continue
        session.add(
            ContextEvent(
                partnership_id=partnership.id,
                title=item["title"],
                title_es=item.get("title_es"),
                description=item.get("description"),
                description_es=item.get("description_es"),
                starts_on=starts,
                ends_on=as_date(item.get("ends_on")),
                regions=[str(r) for r in item.get("regions") or []],
                pillars=list(item.get("pillars") or []),
            )
        )
        summary.created.append(f"context event {item['title']}")
