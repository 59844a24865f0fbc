"""Targets with a history: the original value and each revision, and the target in force for a period.

A revision never rewrites the past: it is in force from its ``effective_from`` quarter on, so a
status judged for an earlier period keeps the target that was in force then. ``Target.value`` is
the latest value (what the catalog says today); figures ask ``in_force`` for a period.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mel.catalog.models import Category, Indicator, Partner, Target, TargetRevision
from mel.catalog.target_spec import TargetKey, TargetPlan
from mel.core.audit import Actor, record
from mel.core.periods import parse_quarter, quarter_of


class TargetChangeRefused(ValueError):
    """An officer's revision is not valid: ``code`` is reason_required, bad_quarter or bad_value."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def target_of(session: Session, target_id: int, partnership_id: int) -> Target | None:
    """The target ``target_id`` if it belongs to an indicator of the partnership (else None: a 404)."""
    target = session.get(Target, target_id)
    if target is None or target.indicator.partnership_id != partnership_id:
        return None
    return target


def _eff(rev: TargetRevision) -> str:
    return rev.effective_from or ""


def value_at(target: Target, at: str | None) -> float | None:
    """The value of ``target`` in force in quarter ``at`` (None: the latest); None before its first revision."""
    if not target.revisions:
        return target.value
    chosen: TargetRevision | None = None
    for rev in target.revisions:  # ordered by id: a later record of the same quarter wins
        if (at is None or _eff(rev) <= at) and (chosen is None or _eff(rev) >= _eff(chosen)):
            chosen = rev
    return None if chosen is None else chosen.value


def original(target: Target) -> float | None:
    """The value the target started with (its first revision's)."""
    return target.revisions[0].value if target.revisions else target.value


def _mine(target: Target, partner_id: int | None, category_id: int | None) -> bool:
    return target.partner_id == partner_id and target.category_id == category_id


def targets_at(
    indicator: Indicator, at: str | None, *, partner_id: int | None = None, category_id: int | None = None
) -> dict[str, float]:
    """Period key ('', 'FY2021', '2021Q3') -> the target in force at ``at`` for one scope."""
    out = {}
    for t in indicator.targets:
        if _mine(t, partner_id, category_id):
            value = value_at(t, at)
            if value is not None:
                out[t.period] = value
    return out


def in_force(
    indicator: Indicator,
    period: str,
    at: str | None,
    *,
    partner_id: int | None = None,
    category_id: int | None = None,
) -> float | None:
    """The target of one period key ('' for the life of the partnership) in force at quarter ``at``."""
    return targets_at(indicator, at, partner_id=partner_id, category_id=category_id).get(period)


def originals(
    indicator: Indicator, *, partner_id: int | None = None, category_id: int | None = None
) -> dict[str, float]:
    """Period key -> the original target, where a target has been revised since."""
    out = {}
    for t in indicator.targets:
        first = original(t)
        if _mine(t, partner_id, category_id) and first is not None and len(t.revisions) > 1:
            out[t.period] = first
    return out


def has_partner_targets(indicator: Indicator) -> bool:
    return any(t.partner_id is not None for t in indicator.targets)


# -- recording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    key: TargetKey
    message: str


def _key(target: Target, partners: dict[int, str], categories: dict[int, str]) -> TargetKey:
    return (
        target.period,
        partners.get(target.partner_id, "") if target.partner_id else "",
        categories.get(target.category_id, "") if target.category_id else "",
    )


def label(key: TargetKey) -> str:
    """'FY2021 target of partner ilo' style, for messages."""
    period, partner, category = key
    text = f"{period or 'life-of-partnership'} target"
    if partner:
        text += f" of partner {partner}"
    if category:
        text += f" of category {category}"
    return text


def apply_plan(
    indicator: Indicator,
    plan: TargetPlan,
    *,
    partners: dict[str, Partner],
    categories: dict[str, Category],
    reason: str | None,
    effective: str | None,
    today: dt.date,
) -> tuple[list[str], list[Refusal]]:
    """Bring an indicator's targets in line with its catalog block, keeping their history.

    New targets take the catalog's original value and revisions; revision entries not yet recorded
    are added; any other change to a stored target needs ``reason`` (``mel catalog load --reason``),
    in force from ``effective`` (default: the current quarter). Returns (changes, refusals).
    """
    by_pid = {p.id: code for code, p in partners.items()}
    by_cid = {c.id: code for code, c in categories.items()}
    current = {_key(t, by_pid, by_cid): t for t in indicator.targets}
    final = plan.final()
    changes: list[str] = []
    refusals: list[Refusal] = []
    from_quarter = effective or quarter_of(today)
    for key in final:
        target = current.get(key)
        if target is None:
            target = Target(
                period=key[0],
                value=final[key],
                partner_id=partners[key[1]].id if key[1] else None,
                category_id=categories[key[2]].id if key[2] else None,
            )
            indicator.targets.append(target)
            if key in plan.original:
                target.revisions.append(TargetRevision(value=plan.original[key]))
            changes.append(f"{label(key)} set")
        recorded = {(r.effective_from, r.reason) for r in target.revisions}
        for rev in plan.revisions:
            if key in rev.values and (rev.effective, rev.reason) not in recorded:
                target.revisions.append(
                    TargetRevision(
                        value=rev.values[key],
                        effective_from=rev.effective,
                        decided_on=rev.decided_on,
                        reason=rev.reason,
                        approved_by=rev.approved_by,
                    )
                )
                if target.id is not None:
                    changes.append(f"{label(key)} revised from {rev.effective}: {rev.reason}")
        latest = value_at(target, None)
        if latest != final[key]:
            if not reason:
                refusals.append(Refusal(key, _refusal(key, latest, final[key])))
                continue
            target.revisions.append(
                TargetRevision(value=final[key], effective_from=from_quarter, decided_on=today, reason=reason)
            )
            changes.append(f"{label(key)} revised from {from_quarter}: {reason}")
        target.value = final[key]
    for key, target in current.items():
        if key in final:
            continue
        if not reason:
            refusals.append(Refusal(key, f"the {label(key)} ({target.value:g}) is removed: {_ASK}"))
            continue
        indicator.targets.remove(target)
        changes.append(f"{label(key)} removed: {reason}")
    return changes, refusals


_ASK = (
    "say why in a revisions entry (effective, date, reason, approved_by) or with "
    "`mel catalog load --reason TEXT [--effective 2021Q3]`"
)


def _refusal(key: TargetKey, old: float | None, new: float) -> str:
    was = "none" if old is None else f"{old:g}"
    return f"the {label(key)} changes from {was} to {new:g} without a recorded reason: {_ASK}"


def revise_target(
    session: Session,
    *,
    target: Target,
    value: float,
    effective: str,
    reason: str,
    approved_by: str | None,
    decided_on: dt.date | None,
    actor: Actor,
) -> TargetRevision:
    """An officer's revision of one target, in force from ``effective``; audited."""
    reason = reason.strip()
    if not reason:
        raise TargetChangeRefused("reason_required")
    if parse_quarter(effective) != effective:
        raise TargetChangeRefused("bad_quarter")
    if not math.isfinite(value) or value < 0:
        raise TargetChangeRefused("bad_value")
    before = target.value
    rev = TargetRevision(
        value=float(value),
        effective_from=effective,
        decided_on=decided_on,
        reason=reason,
        approved_by=approved_by or None,
        source="officer",
        recorded_by_id=actor.user_id,
    )
    target.revisions.append(rev)
    latest = value_at(target, None)
    target.value = latest if latest is not None else float(value)
    session.flush()
    record(
        session,
        actor=actor,
        action="target.revise",
        entity="target",
        entity_id=target.id,
        summary=f"{target.indicator.code} {target.period or 'LOP'}: {before:g} -> {value:g} from {effective}",
        before={"value": before},
        after={"value": value, "effective_from": effective, "reason": reason, "approved_by": approved_by},
    )
    return rev


def revisions_of(targets: Iterable[Target]) -> list[tuple[Target, TargetRevision, float | None]]:
    """Every recorded value of ``targets`` with the value it replaced (None for an original)."""
    out = []
    for t in targets:
        previous: float | None = None
        for rev in sorted(t.revisions, key=lambda r: (_eff(r), r.id)):
            out.append((t, rev, previous))
            previous = rev.value
    return out
