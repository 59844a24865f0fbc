"""Disclosure: the one gate that decides, for a viewer, which rows and cells exist and which are hidden.

Staff (officers, admins) see everything, provisional figures included when they ask. Partner users
see only their own partnership, per-partner rows of their own organization (a prime also its
sub-recipients) and other partners only inside partnership totals. Evaluators see approved data of
every partner. For everyone but staff, and in every export unless the operator says otherwise,
values 1 to 4 of a sensitive indicator are hidden (``small``), and so is whatever would let a
reader work them out again from the same table (``secondary``): a total minus the other
categories, the partnership minus the other partners, a sum of quarters minus the other quarters.

Views build their table, describe its sums to ``protect`` (cells and the relations "this cell is
the sum of those"), and print what comes back: templates receive figures that already passed here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.auth.identity import STAFF, CurrentUser
from mel.catalog.models import Partner, Partnership
from mel.results.counting import Scope
from mel.results.disclosure.solver import (
    SECONDARY,
    SMALL,
    SUPPRESS_BELOW,
    Relation,
    breakdown_relations,
    is_small,
    protect,
)

__all__ = [
    "SECONDARY",
    "SMALL",
    "SUPPRESS_BELOW",
    "Relation",
    "Viewer",
    "breakdown_relations",
    "is_small",
    "mark",
    "operator",
    "partnership_visible",
    "protect",
    "viewer_of",
    "visible_partners",
]

SMALL_MARK = "<5"
SECONDARY_MARK = "x"


def truthy(flag: str | bool | None) -> bool:
    if isinstance(flag, bool):
        return flag
    return bool(flag) and flag not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Viewer:
    """Who is looking, reduced to what decides disclosure.

    ``partner_ids`` None means every partner's rows; a set means only those partners' rows (the
    others exist only inside totals). ``suppress`` turns on small-cell and complementary suppression.
    """

    role: str
    partner_ids: frozenset[int] | None = None
    provisional: bool = False
    suppress: bool = True

    @property
    def staff(self) -> bool:
        return self.role in STAFF

    def sees_rows_of(self, partner_id: int) -> bool:
        return self.partner_ids is None or partner_id in self.partner_ids

    def scope(
        self, *, partner_ids: Collection[int] | None = None, first: str | None = None, last: str | None = None
    ) -> Scope:
        return Scope(
            include_provisional=self.provisional, partner_ids=partner_ids, first_period=first, last_period=last
        )

    def hides(self, sensitive: bool | None) -> bool:
        """Whether this viewer's tables of an indicator go through small-cell suppression."""
        return self.suppress and bool(sensitive)


def viewer_of(user: CurrentUser, *, provisional: str | bool | None = None) -> Viewer:
    """The viewer of a web request: provisional figures are for staff only, suppression for all but staff."""
    staff = user.role in STAFF
    return Viewer(
        role=user.role,
        partner_ids=frozenset(user.visible_partner_ids) if user.is_partner else None,
        provisional=staff and truthy(provisional),
        suppress=not staff,
    )


def operator(*, provisional: bool = False, suppress: bool = True) -> Viewer:
    """The command line's viewer: the operator holds the database, so raw values are theirs to ask for."""
    return Viewer(role="operator", provisional=provisional, suppress=suppress)


def partnership_visible(session: Session, user: CurrentUser, partnership: Partnership) -> bool:
    """Partner users see only the partnerships their organization belongs to."""
    if not user.is_partner or user.partner_id is None:
        return True
    found = session.execute(
        select(Partner.id).where(Partner.id == user.partner_id, Partner.partnership_id == partnership.id)
    ).first()
    return found is not None


def visible_partners(viewer: Viewer, partners: Iterable[Partner]) -> list[Partner]:
    """The partners whose own rows ``viewer`` may see."""
    return [p for p in partners if viewer.sees_rows_of(p.id)]


def mark(reason: str | None) -> str:
    """What a hidden cell prints: '<5' for a small count, 'x' for a cell hidden to protect one."""
    return SMALL_MARK if reason == SMALL else SECONDARY_MARK if reason == SECONDARY else ""
