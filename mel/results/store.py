"""Stored figures: what the figures engine computed for a partnership, kept until its data changes.

A page asks ``stored(session, partnership_id, view, viewer, params, compute)``: the answer is
keyed by the partnership's data stamp (``mel.core.versions``, bumped in the transaction of any
change to its figures), the day (targets are pro-rated by date), the view, the viewer and the
view's parameters. While the stamp holds, a page is one indexed read of ``figure_version`` plus
rendering; the first request after a change computes and keeps the new answer.

The store keeps whatever the engine and the view return, so changes to the engine flow through
without touching this module. Its rules:

* ``viewer`` is part of the key: figures that went through the disclosure gate are stored per
  viewer (role, own partners, provisional, suppression) and never reach another one. ``None``
  is only for results that reach no reader as numbers (a count of indicators on track, statuses);
* a session with uncommitted changes computes without storing (its figures may never commit);
* what is stored is shared by every later request: callers must not change it afterwards, and
  it must not need its session (plain data, or ORM objects whose attributes were already loaded);
* each server process keeps its own store (at most ``MAX_ENTRIES`` answers, least recently used
  dropped first); the stamps live in the database, so several processes or machines agree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mel.catalog.models import Dimension, Partnership
from mel.core import periods
from mel.core.versions import FigureVersion, pending, stamps
from mel.results.disclosure import Viewer
from mel.results.frozen import freeze

T = TypeVar("T")

MAX_ENTRIES = 512
"""Answers kept per process (a portfolio of 60 partnerships alone keeps 120 small ones); the largest,
a quarterly IPTT at a million values, are a few MB."""


class FigureStore:
    """A thread-safe LRU of computed answers."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.generation = 0
        """Counts the clears: what was built from stored answers (``mel.web.page_store``) keys on it."""

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return True, self._entries[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)


STORE = FigureStore()


def prefetch(session: Session, partnership_ids: Iterable[int]) -> None:
    """Read several partnerships' stamps in one query (a page about many partnerships)."""
    stamps(session, list(partnership_ids))


def stored(
    session: Session,
    partnership_id: int,
    view: str,
    viewer: Viewer | None,
    params: Hashable,
    compute: Callable[[], T],
    *,
    store: FigureStore = STORE,
) -> T:
    """``compute()``, or what it returned for the same partnership data, day, view, viewer and params."""
    if pending(session):
        return compute()
    stamp = stamps(session, [partnership_id]).get(partnership_id)
    if stamp is None:  # a partnership without a version row yet: nothing can be trusted to last
        return compute()
    key = (partnership_id, stamp, periods.today(), view, viewer, params)
    found, value = store.get(key)
    if found:
        return cast(T, value)
    value = compute()
    store.put(key, value)
    return value


def framework(session: Session, code: str) -> Partnership | None:
    """``load_partnership`` with every relationship inside the graph loaded as well (the partnership's
    own dimensions and indicators, each object's way back to its parent): a detached copy can be read
    anywhere without a lazy load, which would raise. The way back costs no SQL (the identity map)."""
    from mel.results.progress import load_partnership

    graph = load_partnership(session, code)
    if graph is None:
        return None
    session.scalars(
        select(Partnership)
        .where(Partnership.id == graph.id)
        .options(selectinload(Partnership.dimensions).selectinload(Dimension.categories))
        .options(selectinload(Partnership.indicators))
    ).one()
    for partner in graph.partners:
        _ = partner.partnership, partner.parent
    for dim in graph.dimensions:
        _ = dim.partnership, [c.dimension for c in dim.categories]
    for result in graph.results:
        _ = result.partnership
    for ind in graph.indicators:
        _ = ind.partnership, ind.result, [rev.target.indicator for t in ind.targets for rev in t.revisions]
        _ = [t.indicator for t in ind.targets], [d.categories for d in ind.dimensions]
    return graph


def partnership_graph(session: Session, code: str, *, store: FigureStore = STORE) -> Partnership | None:
    """The partnership's framework (results, indicators, targets, partners, dimensions) as loaded once
    per data version in a session of its own and kept detached (``framework``): shared by every request
    and thread, so read it and never change it; ``stored_partnership`` gives a copy of the caller's own
    session, for code that changes data or needs more than the graph holds."""
    from mel.results.progress import load_partnership

    if pending(session):
        return load_partnership(session, code)
    found = session.execute(
        select(Partnership.id, FigureVersion.stamp)
        .join(FigureVersion, FigureVersion.partnership_id == Partnership.id)
        .where(Partnership.code == code)
    ).first()
    if found is None:  # no such partnership (or no version yet): as the query itself answers
        return load_partnership(session, code)
    key = (found.id, found.stamp, "partnership.graph")
    hit, graph = store.get(key)
    if not hit:
        with Session(session.get_bind()) as own:
            graph = framework(own, code)
            freeze(own.identity_map.values())  # everything the graph holds was loaded in ``own``
        if graph is None:
            return None
        store.put(key, graph)
    return cast(Partnership, graph)


def stored_partnership(session: Session, code: str, *, store: FigureStore = STORE) -> Partnership | None:
    """``load_partnership(session, code)``, from a graph loaded once per data version.

    Every page starts by loading its partnership's framework: with the ORM's bookkeeping, the
    costliest part of a stored page. The stored graph (``partnership_graph``) is merged into
    ``session`` without SQL (``merge(load=False)``): the caller gets objects of its own session, as
    from a query, whose further lazy loads work as usual.
    """
    graph = partnership_graph(session, code, store=store)
    if graph is None or graph in session:  # not found, or loaded in this session (uncommitted changes)
        return graph
    merged: Partnership = session.merge(graph, load=False)
    return merged
