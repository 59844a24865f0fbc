"""Partner isolation in SQL: the one condition every query over partner data adds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true

from mel.auth.identity import CurrentUser


def visible_partner_filter(user: CurrentUser, column: Any) -> ColumnElement[bool]:
    """``column`` (a partner id column) restricted to what ``user`` may see: everything for staff and
    evaluators, their own organization (plus a prime's sub-recipients) for partner users.

    Use it in the WHERE of every query that loads a submission, file or unapproved value by id, so a
    guessed id of another partner finds nothing and the route answers 404.
    """
    if not user.is_partner:
        return true()
    allowed: ColumnElement[bool] = column.in_(sorted(user.visible_partner_ids))
    return allowed
