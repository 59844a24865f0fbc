"""Loading catalogs into the database, idempotently, without ever losing reported data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog import dhis2, stages
from mel.catalog.calendar import stored_quarters
from mel.catalog.catalog_file import CatalogError, LineDict, Problems
from mel.catalog.models import (
    SHEET_TEXTS,
    Category,
    ContextEvent,
    Dimension,
    Indicator,
    Partner,
    Partnership,
    Result,
)
from mel.catalog.schema import parse_catalog
from mel.catalog.target_spec import plan
from mel.catalog.targets import apply_plan
from mel.core.audit import CLI, Actor, record
from mel.core.db import Base, referring_rows


@dataclass
class LoadSummary:
    partnership: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def _set(obj: Any, summary: LoadSummary, label: str, **values: Any) -> None:
    """Assign only what differs, so a reload of the same file reports (and writes) nothing.

    What this load created is not also reported as updated (autoflush may already have given it an id).
    """
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for key in changed:
        setattr(obj, key, values[key])
    if changed and obj.id is not None and label not in summary.created:
        summary.updated.append(f"{label} ({', '.join(changed)})")


def _catalog_tables() -> frozenset[str]:
    """The catalog's own tables: rows there (targets, links, levels) go with what they describe."""
    return frozenset(
        m.persist_selectable.description or ""
        for m in Base.registry.mappers
        if m.class_.__module__ == "mel.catalog.models"
    )


def _indicator_use(session: Session, indicator_id: int) -> int:
    """Stored rows (values, measurements, queries) that refer to the indicator."""
    return referring_rows(session, "indicator", indicator_id, skip=_catalog_tables())


def _category_in_use(session: Session, category_id: int) -> bool:
    """Whether a stored value's combination or a training row names the category."""
    skip = _catalog_tables() - {"combination_member"}
    return referring_rows(session, "category", category_id, skip=skip) > 0


@dataclass(frozen=True)
class TargetReason:
    """Why targets change in this load when the file has no revision entry for it (``--reason``)."""

    reason: str | None = None
    effective: str | None = None  # the quarter the change applies from; default: the current one
    today: dt.date = field(default_factory=dt.date.today)


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
    _set(
        partnership,
        summary,
        f"partnership {partnership.code}",
        name=partnership_data["name"],
        name_es=partnership_data.get("name_es"),
        country=partnership_data["country"],
        description=partnership_data.get("description"),
        signed_on=_as_date(partnership_data.get("signed_on")),
        starts_on=_as_date(partnership_data["starts_on"]),
        ends_on=_as_date(partnership_data["ends_on"]),
        fiscal_year_start=int(partnership_data.get("fiscal_year_starts", 10)),
        pillars=list(partnership_data.get("pillars") or []),
        source_file=path.name,
        dhis2=dhis2.stored(partnership_data),
    )
    session.flush()

    partners = _load_partners(session, problems, partnership, data, summary)
    _load_dimensions(session, problems, partnership, data, summary)
    results = _load_results(session, problems, partnership, data, summary)
    _load_indicators(session, problems, partnership, data, summary, partners, results, target_reason or TargetReason())
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


def _target_line(item: LineDict) -> int:
    return int(item.lines.get("target", item.line))


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _load_partners(
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
        _set(
            partner,
            summary,
            f"partner {code}",
            name=item["name"],
            pillars=list(item.get("pillars") or []),
            aliases=[str(a) for a in item.get("aliases") or []],
            contact_name=contact.get("name"),
            contact_email=contact.get("email"),
            starts_on=_as_date(item.get("starts_on")),
            ends_on=_as_date(item.get("ends_on")),
            dhis2=dhis2.stored(item),
        )
        by_code[code] = partner
    for item in wanted:
        code = str(item["code"])
        if code in by_code:
            parent = by_code.get(str(item["parent"])) if item.get("parent") is not None else None
            _set(by_code[code], summary, f"partner {code}", parent=parent)
    session.flush()
    for code, partner in existing.items():
        if code in by_code:
            continue
        if referring_rows(session, "partner", partner.id, skip=_catalog_tables()):
            problems.add(
                data.lines.get("partners", 1),
                f"partners.{code}",
                "this partner has submissions or accounts and cannot be removed from the catalog",
            )
        else:
            session.delete(partner)
            summary.removed.append(f"partner {code}")
    return by_code


def _load_dimensions(
    session: Session, problems: Problems, partnership: Partnership, data: LineDict, summary: LoadSummary
) -> None:
    existing = {d.code: d for d in session.scalars(select(Dimension).where(Dimension.partnership_id == partnership.id))}
    dims: LineDict = data.get("dimensions") or LineDict()
    for position, (code, item) in enumerate(dims.items()):
        dim = existing.get(code)
        if dim is None:
            dim = Dimension(code=code, partnership=partnership)
            session.add(dim)
            summary.created.append(f"dimension {code}")
        _set(
            dim,
            summary,
            f"dimension {code}",
            label_en=item["label"]["en"],
            label_es=item["label"]["es"],
            aliases=[str(a) for a in item.get("aliases") or []],
            position=position,
        )
        session.flush()
        old = {c.code: c for c in dim.categories}
        seen: set[str] = set()
        for cpos, cat_item in enumerate(item.get("categories") or []):
            ccode = str(cat_item["code"])
            seen.add(ccode)
            cat = old.get(ccode)
            if cat is None:
                cat = Category(code=ccode, dimension=dim)
                session.add(cat)
                summary.created.append(f"category {code}.{ccode}")
            _set(
                cat,
                summary,
                f"category {code}.{ccode}",
                label_en=str(cat_item["en"]),
                label_es=str(cat_item["es"]),
                aliases=[str(a) for a in cat_item.get("aliases") or []],
                position=cpos,
                dhis2=dhis2.stored(cat_item),
            )
        for ccode, cat in old.items():
            if ccode in seen:
                continue
            if _category_in_use(session, cat.id):
                problems.add(
                    dims.lines[code],
                    f"dimensions.{code}.categories.{ccode}",
                    "this category has stored values and cannot be removed",
                )
            else:
                session.delete(cat)
                summary.removed.append(f"category {code}.{ccode}")
    for code, dim in existing.items():
        if code in dims:
            continue
        if any(_category_in_use(session, c.id) for c in dim.categories):
            problems.add(
                data.lines.get("dimensions", 1),
                f"dimensions.{code}",
                "this dimension has stored values and cannot be removed",
            )
        else:
            session.delete(dim)
            summary.removed.append(f"dimension {code}")
    session.flush()


def _load_results(
    session: Session, problems: Problems, partnership: Partnership, data: LineDict, summary: LoadSummary
) -> dict[str, Result]:
    existing = {r.code: r for r in session.scalars(select(Result).where(Result.partnership_id == partnership.id))}
    by_code: dict[str, Result] = {}
    items: list[LineDict] = data.get("results") or []
    for position, item in enumerate(items):
        code = str(item["code"])
        res = existing.get(code)
        if res is None:
            res = Result(code=code, partnership=partnership)
            session.add(res)
            summary.created.append(f"result {code}")
        _set(
            res,
            summary,
            f"result {code}",
            level=item["level"],
            pillar=item.get("pillar"),
            statement=item["statement"],
            statement_es=item.get("statement_es"),
            position=position,
        )
        by_code[code] = res
    session.flush()
    for item in items:
        res = by_code[str(item["code"])]
        targets = [by_code[str(t)] for t in item.get("contributes_to") or []]
        if [t.code for t in res.contributes_to] != [t.code for t in targets]:
            if res.id in {r.id for r in existing.values()}:
                summary.updated.append(f"result {res.code} (contributes_to)")
            res.contributes_to = targets
    for code, res in existing.items():
        if code not in by_code:
            session.delete(res)
            summary.removed.append(f"result {code}")
    return by_code


def _load_indicators(
    session: Session,
    problems: Problems,
    partnership: Partnership,
    data: LineDict,
    summary: LoadSummary,
    partners: dict[str, Partner],
    results: dict[str, Result],
    target_reason: TargetReason,
) -> None:
    existing = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.partnership_id == partnership.id))}
    dims = {d.code: d for d in session.scalars(select(Dimension).where(Dimension.partnership_id == partnership.id))}
    categories = {f"{d.code}.{c.code}": c for d in dims.values() for c in d.categories}
    items: list[LineDict] = data.get("indicators") or []
    seen: set[str] = set()
    for position, item in enumerate(items):
        code = str(item["code"])
        seen.add(code)
        ind = existing.get(code)
        dim_codes = [str(d) for d in item.get("dimensions") or []]
        if ind is None:
            ind = Indicator(code=code, partnership=partnership)
            session.add(ind)
            summary.created.append(f"indicator {code}")
        else:
            old_dims = sorted(d.code for d in ind.dimensions)
            fixed = {
                "unit": (ind.unit, item["unit"]),
                "aggregation": (ind.aggregation, item["aggregation"]),
                "dimensions": (old_dims, sorted(dim_codes)),
                "levels": (
                    [lv["code"] for lv in ind.levels or []],
                    [lv["code"] for lv in stages.stored_levels(item) or []],
                ),
            }
            changed = [k for k, (old, new) in fixed.items() if old != new]
            if changed and _indicator_use(session, ind.id):
                problems.add(
                    item.line,
                    f"indicators.{code}",
                    f"{', '.join(changed)} cannot change: this indicator already has stored values. "
                    "A changed definition is a new indicator: give it a new code",
                )
                continue
        baseline = item.get("baseline") or {}
        _set(
            ind,
            summary,
            f"indicator {code}",
            result_id=results[str(item["result"])].id,
            name=item["name"],
            name_es=item.get("name_es"),
            definition=item.get("definition"),
            rationale=item.get("rationale"),
            data_source=item.get("data_source"),
            collection_method=item.get("collection_method"),
            frequency=item.get("frequency"),
            reported_in=stored_quarters(item.get("reported_in")),
            limitations=item.get("limitations"),
            **{f"{key}_es": item.get(f"{key}_es") for key in SHEET_TEXTS},
            unit=item["unit"],
            aggregation=item["aggregation"],
            direction=item["direction"],
            denominator=None if item.get("denominator") is None else float(item["denominator"]),
            numerator_label=(item.get("rate") or {}).get("numerator"),
            denominator_label=(item.get("rate") or {}).get("denominator"),
            sensitive=bool(item.get("sensitive", False)),
            cumulative=bool(item.get("cumulative", False)),
            baseline_value=None if baseline.get("value") is None else float(baseline["value"]),
            baseline_year=baseline.get("year"),
            baseline_source=baseline.get("source"),
            baseline_quarters=baseline.get("quarters"),
            position=position,
            dhis2=dhis2.stored(item),
            levels=stages.stored_levels(item),
            new_participants_only=bool(item.get("new_participants_only", False)),
            people_trained=bool(item.get("people_trained", False)),
        )
        new_dims = [dims[d] for d in dim_codes]
        if [d.id for d in ind.dimensions] != [d.id for d in new_dims]:
            ind.dimensions = new_dims
        new_partners = [partners[str(p)] for p in item.get("partners") or [] if str(p) in partners]
        if sorted(p.code for p in ind.partners) != sorted(p.code for p in new_partners):
            if f"indicator {code}" not in summary.created:
                summary.updated.append(f"indicator {code} (partners)")
            ind.partners = new_partners
        changes, refusals = apply_plan(
            ind,
            plan(item.get("target")),
            partners=partners,
            categories=categories,
            reason=target_reason.reason,
            effective=target_reason.effective,
            today=target_reason.today,
        )
        for refusal in refusals:
            problems.add(_target_line(item), f"indicators.{code}.target", refusal.message)
        if changes and f"indicator {code}" not in summary.created:
            summary.updated += [f"indicator {code} ({change})" for change in changes]
    for code, ind in existing.items():
        if code in seen:
            continue
        used = _indicator_use(session, ind.id)
        if used:
            problems.add(
                data.lines.get("indicators", 1),
                f"indicators.{code}",
                f"indicator {code} has {used} stored values and cannot be removed or re-coded; keep it in the catalog",
            )
        else:
            session.delete(ind)
            summary.removed.append(f"indicator {code}")


def _load_context_events(session: Session, partnership: Partnership, data: LineDict, summary: LoadSummary) -> None:
    """Catalog events are added once (by title and start); officers edit them in the app afterwards."""
    existing = {
        (e.title, e.starts_on): e
        for e in session.scalars(select(ContextEvent).where(ContextEvent.partnership_id == partnership.id))
    }
    for item in data.get("context_events") or []:
        starts = _as_date(item["starts_on"])
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
                ends_on=_as_date(item.get("ends_on")),
                regions=[str(r) for r in item.get("regions") or []],
                pillars=list(item.get("pillars") or []),
            )
        )
        summary.created.append(f"context event {item['title']}")
