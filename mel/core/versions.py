"""Data versions: every committed change to what a partnership's figures are made of bumps its version.

Stored figures (``mel.results.store``) are keyed by the partnership's version, so they must never
outlive a change. No write path calls anything here: ``track(factory)`` (``mel.core.db.make_sessionmaker``)
listens to the sessions themselves, so an approval, an import, a catalog load, a target revision
or a table added tomorrow bumps the version in the transaction that makes the change:

* what a flush writes (new, changed and deleted objects) and what ``session.execute`` runs
  (bulk inserts, updates and deletes) is noted as (table, column, values): the column on the
  table's shortest foreign-key route to ``partnership`` (a value's ``partner_id``, an attendance
  row's ``event_id``); for an update or delete, the rows it will touch are read first;
* just before the commit, those values are followed to their partnerships, whose versions are
  bumped (a new random stamp) by the same transaction: committed together or not at all;
* a write that cannot be traced (a table with no route, an update without a condition, raw SQL)
  bumps every partnership: never stale, at worst recomputed once.

Tables that hold no figures (accounts, sessions, the audit log, tokens, the import queue, stored
files, combinations) are ``NEUTRAL``. Writes that bypass the session (``COPY`` on PostgreSQL) are
noted with ``note_rows`` by the code that makes them (``mel.reports.report_rows.bulk_insert``).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Table, TextClause, event, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    mapped_column,
    sessionmaker,
)

from mel.core.db import Base, utcnow

NEUTRAL = frozenset(
    {
        "alembic_version",
        "api_token",
        "audit_log",
        "combination",
        "combination_member",
        "figure_version",
        "import_job",
        "login_attempt",
        "login_session",
        "stored_file",
        "user_account",
    }
)
"""Tables whose rows are in no figure (a combination only names categories; values use it)."""
PARTNERSHIP = "partnership"
CHANGES = "mel.figures.changes"
STAMPS = "mel.figures.stamps"
_CHUNK = 5000
_WRITE = re.compile(r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|replace\s+into)\s+\"?(\w+)", re.I)


@dataclass(frozen=True)
class Route:
    """How a table's rows reach their partnership: ``column`` holds ids of the first referred table
    (``target``), then ``hops`` (foreign keys) lead to ``partnership``; no hops: ``column`` is the id."""

    column: str
    target: Any  # the referred column of ``column`` (a Column)
    hops: tuple[ForeignKey, ...]


@dataclass
class Changes:
    """What one transaction changed so far: values per (table, route column), partnerships, or all."""

    values: dict[str, set[Any]] = field(default_factory=dict)
    everything: bool = False

    def add(self, table: str, values: Iterable[Any]) -> None:
        self.values.setdefault(table, set()).update(v for v in values if v is not None)

    def __bool__(self) -> bool:
        return self.everything or any(self.values.values())


def _tables() -> dict[str, Table]:
    """The tables mapped so far: a table can only be written once its module is loaded, and the
    tables on its route with it (its foreign keys name them)."""
    return dict(Base.metadata.tables)


def _referred(fk: ForeignKey) -> Table | None:
    try:
        table: Table = fk.column.table
        return table
    except Exception:  # a table whose module is not loaded in this process: not on any route here
        return None


@cache
def route(table: str) -> Route | None:
    """The shortest foreign-key route from ``table`` to ``partnership`` through columns that are
    never null (a row always has a partnership), else through any (None: the table has none)."""
    tables = _tables()
    if table == PARTNERSHIP:
        return Route("id", tables[PARTNERSHIP].c.id, ())
    if table not in tables:
        return None
    return _search(tables[table], strict=True) or _search(tables[table], strict=False)


def _search(start: Table, *, strict: bool) -> Route | None:
    queue: deque[tuple[Table, str | None, Any, tuple[ForeignKey, ...]]] = deque([(start, None, None, ())])
    seen = {start.name}
    while queue:
        current, first, target, hops = queue.popleft()
        for fk in sorted(current.foreign_keys, key=lambda f: (bool(f.parent.nullable), f.parent.name)):
            referred = _referred(fk)
            if referred is None or referred.name in NEUTRAL or (strict and fk.parent.nullable):
                continue
            column, into, path = (fk.parent.name, fk.column, ()) if first is None else (first, target, (*hops, fk))
            if referred.name == PARTNERSHIP:
                return Route(column, into, path)
            if referred.name not in seen:
                seen.add(referred.name)
                queue.append((referred, column, into, path))
    return None


def changes(session: Session) -> Changes:
    found = session.info.get(CHANGES)
    if found is None:
        found = session.info[CHANGES] = Changes()
    return found


def pending(session: Session) -> bool:
    """Whether the session holds changes not yet committed (figures read now may not last)."""
    return bool(session.info.get(CHANGES)) or bool(session.new or session.dirty or session.deleted)


def note(session: Session, table: str, values: Iterable[Any] | None) -> None:
    """Note a write to ``table`` whose rows have these values in their route column (None: unknown)."""
    if table in NEUTRAL:
        return
    found = route(table)
    if found is None or values is None:
        changes(session).everything = True
        return
    changes(session).add(table, values)


def note_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Note rows written outside the session's statements (a driver-level bulk insert)."""
    found = route(table)
    if table in NEUTRAL:
        return
    if found is None or found.column not in columns:
        note(session, table, None)
        return
    at = list(columns).index(found.column)
    note(session, table, {row[at] for row in rows})


# -- listeners ---------------------------------------------------------------------------------


def track(factory: sessionmaker[Session]) -> None:
    """Bump data versions in every transaction of ``factory``'s sessions that changes figures."""
    if getattr(factory, "_mel_tracked", False):
        return
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _on_execute)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_transaction_end", _after_transaction_end)
    factory._mel_tracked = True  # type: ignore[attr-defined]


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    for obj in [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]:
        state = sa_inspect(obj)
        table = state.mapper.local_table
        name = getattr(table, "name", "")
        if name in NEUTRAL:
            continue
        found = route(name)
        if found is None:
            note(session, name, None)
            continue
        prop = state.mapper.get_property_by_column(table.c[found.column])
        if prop.key not in state.dict:  # not loaded (an expired object deleted): loading it now could fail
            note(session, name, None)
            continue
        history = state.attrs[prop.key].history  # passive: loads nothing
        note(session, name, [state.dict[prop.key], *history.deleted])


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, TextClause):
        match = _WRITE.match(statement.text)
        if match and match.group(1).lower() not in NEUTRAL:
            note(state.session, match.group(1).lower(), None)
        return
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if table is None or name is None or name in NEUTRAL:
        return
    found = route(name)
    if found is None:
        note(state.session, name, None)
        return
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    if state.is_insert:
        values = _from_rows(rows, found.column)
        if values is None:  # insert(...).values(...): the statement carries them
            given = {getattr(k, "key", k): getattr(v, "value", v) for k, v in (_values(statement) or {}).items()}
            values = _from_rows([given], found.column)
        note(state.session, name, values)
        return
    sets = {getattr(k, "key", k) for k in (_values(statement) or {})}
    where = getattr(statement, "whereclause", None)
    if found.column in sets or where is None:
        note(state.session, name, _from_rows(rows, found.column) if where is None and rows else None)
        return
    try:  # the rows the statement is about to touch, read before it runs (in a savepoint: a
        # failed read must not abort the caller's transaction on PostgreSQL)
        with state.session.begin_nested():
            touched = list(
                state.session.execute(
                    select(table.c[found.column]).where(where).distinct(),
                    params if isinstance(params, dict) else {},
                ).scalars()
            )
        note(state.session, name, touched)
    except Exception:  # an unusual statement: assume it touches everything
        note(state.session, name, None)


def _values(statement: Any) -> dict[Any, Any] | None:
    """The ``.values(...)`` of an insert or update statement (SQLAlchemy keeps them privately)."""
    found = getattr(statement, "_values", None)
    return dict(found) if found else None


def _from_rows(rows: Sequence[Any], column: str) -> set[Any] | None:
    """The values of ``column`` in executemany parameters, None when a row does not say."""
    out = set()
    for row in rows:
        if not isinstance(row, dict) or column not in row:
            return None
        out.add(row[column])
    return out or None


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer transaction commits later
        return
    session.flush()  # the commit's own flush comes after this event: see everything now
    found = session.info.get(CHANGES)
    if not found:
        return
    ids = None if found.everything else partnerships_of(session, found)
    bump(session, ids)
    session.info.pop(CHANGES, None)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed (bumped) or rolled back
        session.info.pop(CHANGES, None)
        session.info.pop(STAMPS, None)


# -- resolution and bump -----------------------------------------------------------------------


def partnerships_of(session: Session, found: Changes) -> set[int]:
    """The partnerships the noted values belong to."""
    out: set[int] = set()
    for table, values in found.values.items():
        way = route(table)
        if way is None or not values:
            continue
        if not way.hops:
            out.update(int(v) for v in values)
            continue
        first = way.hops[0].parent.table
        query = select(way.hops[-1].parent).select_from(first)
        previous = way.hops[0]
        for hop in way.hops[1:]:
            query = query.join(hop.parent.table, previous.column == previous.parent)
            previous = hop
        ordered = sorted(values)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            out.update(int(v) for v in session.execute(query.where(way.target.in_(chunk)).distinct()).scalars())
    return out


def bump(session: Session, partnership_ids: set[int] | None) -> None:
    """New version and stamp for these partnerships (None: all of them), in the session's transaction."""
    FV = FigureVersion
    partnership = _tables()["partnership"]

    if partnership_ids is not None and not partnership_ids:
        return
    now = utcnow()
    stamp = uuid.uuid4().hex
    values = {"version": FV.version + 1, "stamp": stamp, "changed_at": now}
    if partnership_ids is None:
        session.execute(update(FV).values(**values))
        have = select(FV.partnership_id)
        missing = set(session.scalars(select(partnership.c.id).where(partnership.c.id.not_in(have))))
    else:
        ids = sorted(partnership_ids)
        session.execute(update(FV).where(FV.partnership_id.in_(ids)).values(**values))
        have_ids = set(session.scalars(select(FV.partnership_id).where(FV.partnership_id.in_(ids))))
        missing = set(session.scalars(select(partnership.c.id).where(partnership.c.id.in_(set(ids) - have_ids))))
    for pid in sorted(missing):
        session.add(FV(partnership_id=pid, version=1, stamp=stamp, changed_at=now))
    if missing:
        session.flush()


def stamps(session: Session, partnership_ids: Iterable[int]) -> dict[int, str]:
    """The current stamp of each partnership (read once per transaction; absent: no row yet)."""
    FV = FigureVersion
    memo: dict[int, str | None] = session.info.setdefault(STAMPS, {})
    wanted = [pid for pid in partnership_ids if pid not in memo]
    if wanted:
        found = dict(session.execute(select(FV.partnership_id, FV.stamp).where(FV.partnership_id.in_(wanted))).all())
        for pid in wanted:
            memo[pid] = found.get(pid)
    return {pid: s for pid in partnership_ids if (s := memo.get(pid)) is not None}


def all_stamps(session: Session) -> tuple[tuple[int, str], ...]:
    """Every partnership's stamp, by partnership: the version of all the data (one short read; the
    session's ``stamps`` then answer from memory)."""
    FV = FigureVersion
    rows = session.execute(select(FV.partnership_id, FV.stamp).order_by(FV.partnership_id))
    found = tuple((pid, stamp) for pid, stamp in rows)
    memo: dict[int, str | None] = session.info.setdefault(STAMPS, {})
    memo.update(found)
    return found


class FigureVersion(Base):
    """One row per partnership: ``version`` counts the committed changes to its figures and
    ``stamp`` (random, new at each change) names the current state, so that a figure computed
    before a change, or on another copy of the database, is never taken for a current one."""

    __tablename__ = "figure_version"

    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    stamp: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
