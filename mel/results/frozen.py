"""The shared framework graph is read-only: changing one of its objects raises at once.

Every request and thread reads the same detached objects (``mel.results.store.partnership_graph``):
one request's change (a filtered list of partners, a relabelled indicator) would reach every later
reader, another organization's users included. Routes that change data take ``PartnershipDep``, a
copy in their own session; this guard makes a slip on the shared graph fail loudly instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, RelationshipProperty, Session

from mel.catalog.models import Category, Dimension, Indicator, Partner, Partnership, Result, Target, TargetRevision

SHARED = "mel.shared"
GRAPH_CLASSES = (Partnership, Partner, Dimension, Category, Result, Indicator, Target, TargetRevision)


class SharedGraphChanged(RuntimeError):
    """A change to the shared graph (a bug: the route should take a copy of its own session)."""


def freeze(objects: Iterable[object]) -> None:
    """Mark the objects of a graph about to be shared."""
    for obj in objects:
        inspect(obj).info[SHARED] = True


def is_frozen(obj: object) -> bool:
    return bool(inspect(obj).info.get(SHARED))


def _refuse(target: object, *_args: Any, **_kwargs: Any) -> None:
    if is_frozen(target):
        _drop_stored()
        raise SharedGraphChanged(
            f"{type(target).__name__} belongs to the shared partnership graph: read it, never change it "
            "(a route that changes data takes PartnershipDep, a copy of its own session)"
        )


def _drop_stored() -> None:
    """A value set, an append or an attach is refused before it happens, but a collection's removal is seen
    only once the list lost the item: the stored answers are dropped, so no request reads a damaged graph."""
    from mel.results.store import STORE  # the store keeps the graphs this module guards

    STORE.clear()


def _listen() -> None:
    for cls in GRAPH_CLASSES:
        mapper: Mapper[Any] = inspect(cls)
        for prop in mapper.attrs:
            attribute = getattr(cls, prop.key)
            collection = isinstance(prop, RelationshipProperty) and prop.uselist
            for name in ("append", "remove", "bulk_replace") if collection else ("set",):
                event.listen(attribute, name, _refuse)
    event.listen(Session, "before_attach", lambda _session, obj: _refuse(obj))


_listen()
