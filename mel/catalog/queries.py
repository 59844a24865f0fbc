"""Read models of the catalog: the portfolio and the results framework as an outline."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner, Partnership, Result
from mel.core.i18n import Bilingual


@dataclass
class OutlineNode:
    """A result in the outline; ``repeat`` marks a result already expanded under another parent."""

    result: Result
    children: list[OutlineNode] = field(default_factory=list)
    repeat: bool = False


@dataclass
class PartnershipView:
    partnership: Partnership
    partners: list[tuple[Partner, list[Partner]]]
    outline: list[OutlineNode]
    indicator_count: int


def framework_outline(results: list[Result]) -> list[OutlineNode]:
    """Nest results under what they contribute to, impact first.

    The theory of change is a graph, not a tree: a result that feeds several others is expanded
    under the first and shown as a reference under the rest.
    """
    feeders: dict[int, list[Result]] = {r.id: [] for r in results}
    for res in results:
        for target in res.contributes_to:
            feeders.setdefault(target.id, []).append(res)
    expanded: set[int] = set()

    def build(res: Result) -> OutlineNode:
        if res.id in expanded:
            return OutlineNode(res, repeat=True)
        expanded.add(res.id)
        node = OutlineNode(res)
        node.children = [build(child) for child in feeders.get(res.id, [])]
        return node

    roots = [r for r in results if not r.contributes_to]
    roots.sort(key=lambda r: (r.level != "impact", r.position))
    outline = [build(r) for r in roots]
    outline += [build(r) for r in results if r.id not in expanded]
    return outline


def portfolio_codes(session: Session) -> list[tuple[int, str]]:
    """Every partnership's id and code, in the portfolio's order (oldest first)."""
    rows = session.execute(select(Partnership.id, Partnership.code).order_by(Partnership.starts_on, Partnership.code))
    return [(pid, code) for pid, code in rows]


def partnership_view(partnership: Partnership) -> PartnershipView:
    """One partnership's portfolio entry, from its loaded framework: its partners (primes with their
    sub-partners), its outline and its number of indicators."""
    children: dict[int, list[Partner]] = {}
    for p in partnership.partners:
        if p.parent_id is not None:
            children.setdefault(p.parent_id, []).append(p)
    return PartnershipView(
        partnership=partnership,
        partners=[(p, children.get(p.id, [])) for p in partnership.partners if p.parent_id is None],
        outline=framework_outline(list(partnership.results)),
        indicator_count=sum(len(r.indicators) for r in partnership.results),
    )


def partnerships_by_start(session: Session) -> list[Partnership]:
    """Every partnership, oldest first (choosers and listings)."""
    return list(session.scalars(select(Partnership).order_by(Partnership.starts_on, Partnership.code)))


def organization_of(session: Session, partner_id: int) -> Bilingual | None:
    """ "Partner · Partnership" for a partner user's account page, in both languages (a partner's
    name is the same in both)."""
    row = session.execute(
        select(Partner.name, Partnership.name, Partnership.name_es)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .where(Partner.id == partner_id)
    ).first()
    if row is None:
        return None
    name, partnership, partnership_es = row
    return Bilingual(partnership, partnership_es).after(f"{name} · ")


def partner_ids_of(session: Session, partnership_id: int, partner: str | None) -> list[int] | None:
    """A partner filter: None for all; an unknown code selects nothing rather than everything."""
    if not partner:
        return None
    found = session.scalar(select(Partner.id).where(Partner.code == partner, Partner.partnership_id == partnership_id))
    return [found] if found is not None else []
