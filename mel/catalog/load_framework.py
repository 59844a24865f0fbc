"""Loading a catalog's results framework: results, their indicators and the indicators' targets.

A definition that stored values depend on (unit, aggregation, dimensions, levels) never changes in
place: a changed definition is a new indicator.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog import dhis2, stages
from mel.catalog.calendar import stored_quarters
from mel.catalog.catalog_file import LineDict, Problems
from mel.catalog.load_shared import LoadSummary, TargetReason, catalog_tables, set_changed
from mel.catalog.models import SHEET_TEXTS, Dimension, Indicator, Partner, Partnership, Result
from mel.catalog.target_spec import plan
from mel.catalog.targets import apply_plan
from mel.core.db import referring_rows


def _indicator_use(session: Session, indicator_id: int) -> int:
    """Stored rows (values, measurements, queries) that refer to the indicator."""
    return referring_rows(session, "indicator", indicator_id, skip=catalog_tables())


def _target_line(item: LineDict) -> int:
    return int(item.lines.get("target", item.line))


def load_results(
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
        set_changed(
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


def load_indicators(
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
        set_changed(
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
