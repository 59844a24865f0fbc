"""Who is asking: the roles and the logged-in person as services see them (no ORM object, no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC = "public"
ROLES = ("admin", "officer", "partner", "evaluator")
STAFF = ("admin", "officer")
READERS = ("admin", "officer", "evaluator", "partner")


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in person as routes and services see them (no ORM object leaves the request)."""

    id: int
    email: str
    role: str
    lang: str
    partner_id: int | None = None
    visible_partner_ids: frozenset[int] = frozenset()
    """For partner users: their own organization and, for a prime, its sub-recipients."""

    @property
    def is_partner(self) -> bool:
        return self.role == "partner"

    def sees_partner(self, partner_id: int) -> bool:
        """Whether this user may see the submissions and files of ``partner_id``."""
        return not self.is_partner or partner_id in self.visible_partner_ids
