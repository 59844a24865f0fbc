"""The ``target:`` block of a catalog indicator: what it may hold and the values it sets.

```yaml
target:
  value: 120                      # life of partnership
  fiscal_years: {FY2021: 40}      # per fiscal year
  quarters: {2021Q3: 10}          # per quarter
  partners: {ilo: {value: 80, fiscal_years: {FY2021: 30}}}
  categories: {sex.female: {value: 60}}
  revisions:                      # each later change, oldest first, in force from its quarter on
    - effective: 2020Q2
      date: 2020-03-02
      reason: Partnership extended to June 2022 (modification 3)
      approved_by: TIP Office
      value: 150                  # any key above: the values it revises
```

``value`` and the rest are the original targets; each revision overrides the keys it names. A
reload that changes a target without a new revision entry is refused unless ``mel catalog load
--reason`` gives the reason (``mel.catalog.targets``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mel.core.periods import parse_quarter

Add = Callable[[int, str, str], None]
TargetKey = tuple[str, str, str]
"""(period: '' | 'FY2021' | '2021Q3', partner code or '', category 'dimension.category' or '')."""

SCOPE_KEYS = {"value", "fiscal_years", "quarters"}
TARGET_KEYS = SCOPE_KEYS | {"partners", "categories", "revisions"}
REVISION_KEYS = (SCOPE_KEYS | {"partners", "categories"}) | {"effective", "date", "reason", "approved_by"}


@dataclass
class Revision:
    """A revision entry of the catalog: the values it sets and why."""

    effective: str
    decided_on: dt.date | None
    reason: str
    approved_by: str | None
    values: dict[TargetKey, float] = field(default_factory=dict)


@dataclass
class TargetPlan:
    original: dict[TargetKey, float] = field(default_factory=dict)
    revisions: list[Revision] = field(default_factory=list)

    def final(self) -> dict[TargetKey, float]:
        """The values in force once every revision applies."""
        out = dict(self.original)
        for rev in self.revisions:
            out.update(rev.values)
        return out


def _line(obj: Any, key: str, default: int) -> int:
    lines = getattr(obj, "lines", None)
    return int(lines.get(key, default)) if isinstance(lines, dict) else default


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _fiscal_year(key: Any) -> bool:
    text = str(key)
    return text.startswith("FY") and text[2:].isdigit() and len(text) == 6


def _scope(add: Add, block: Any, where: str, line: int, allowed: set[str]) -> bool:
    if not isinstance(block, Mapping):
        add(line, where, "expected a mapping of keys")
        return False
    for key in block:
        if key not in allowed:
            add(_line(block, key, line), f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    if "value" in block and block["value"] is not None and not _number(block["value"]):
        add(_line(block, "value", line), f"{where}.value", f"{block['value']!r} is not a number")
    for key, check, hint in (
        ("fiscal_years", _fiscal_year, "write the fiscal year as FY2021"),
        ("quarters", lambda k: parse_quarter(k) == str(k), "write the quarter as 2021Q3"),
    ):
        periods = block.get(key) or {}
        if not isinstance(periods, Mapping):
            add(_line(block, key, line), f"{where}.{key}", f"expected {hint.split()[-1]}: value pairs")
            continue
        for period, value in periods.items():
            at = _line(periods, str(period), _line(block, key, line))
            if not check(period):
                add(at, f"{where}.{key}.{period}", hint)
            if not _number(value):
                add(at, f"{where}.{key}.{period}", f"{value!r} is not a number")
    return True


def check_target(add: Add, target: Any, where: str, line: int, *, partners: set[str], categories: set[str]) -> None:
    """Problems of one indicator's ``target:`` block; ``partners`` and ``categories`` ('sex.female')
    are those the indicator may have targets for."""
    if not _scope(add, target, where, line, TARGET_KEYS):
        return
    _children(add, target, where, line, partners=partners, categories=categories)
    revisions = target.get("revisions") or []
    if not isinstance(revisions, list):
        add(_line(target, "revisions", line), f"{where}.revisions", "expected a list of revisions")
        return
    seen: dict[tuple[str, str], int] = {}
    for n, rev in enumerate(revisions, start=1):
        at = int(getattr(rev, "line", 0) or _line(target, "revisions", line))
        rwhere = f"{where}.revisions[{n}]"
        if not _scope(add, rev, rwhere, at, REVISION_KEYS):
            continue
        _children(add, rev, rwhere, at, partners=partners, categories=categories)
        if not str(rev.get("reason") or "").strip():
            add(at, f"{rwhere}.reason", "a revised target needs the reason of the change")
        effective = rev.get("effective")
        if parse_quarter(effective) != str(effective):
            add(_line(rev, "effective", at), f"{rwhere}.effective", "write the quarter it applies from, as 2020Q2")
        decided = rev.get("date")
        if decided is not None and not isinstance(decided, dt.date):
            add(_line(rev, "date", at), f"{rwhere}.date", f"{decided!r} is not a date (write YYYY-MM-DD)")
        if not flatten(rev):
            add(at, rwhere, "a revision sets at least one value")
        key = (str(effective), str(rev.get("reason")))
        if key in seen:
            add(at, rwhere, f"the same effective quarter and reason as revision {seen[key]}")
        seen[key] = n


def _children(add: Add, block: Mapping[str, Any], where: str, line: int, **known: set[str]) -> None:
    for kind in ("partners", "categories"):
        children = block.get(kind) or {}
        if not isinstance(children, Mapping):
            add(_line(block, kind, line), f"{where}.{kind}", "expected code: {value: ...} pairs")
            continue
        for code, sub in children.items():
            at = _line(children, str(code), _line(block, kind, line))
            if str(code) not in known[kind]:
                what = "partner of this indicator" if kind == "partners" else "category (dimension.category)"
                add(at, f"{where}.{kind}.{code}", f"not a {what} of this indicator")
            _scope(add, sub, f"{where}.{kind}.{code}", at, SCOPE_KEYS)


def _values(block: Mapping[str, Any], partner: str = "", category: str = "") -> dict[TargetKey, float]:
    out: dict[TargetKey, float] = {}
    if _number(block.get("value")):
        out[("", partner, category)] = float(block["value"])
    for key in ("fiscal_years", "quarters"):
        periods = block.get(key) or {}
        if isinstance(periods, Mapping):
            out.update({(str(k), partner, category): float(v) for k, v in periods.items() if _number(v)})
    return out


def flatten(block: Any) -> dict[TargetKey, float]:
    """Every value a target block (or a revision) sets, by key."""
    if not isinstance(block, Mapping):
        return {}
    out = _values(block)
    for code, sub in (block.get("partners") or {}).items():
        if isinstance(sub, Mapping):
            out.update(_values(sub, partner=str(code)))
    for code, sub in (block.get("categories") or {}).items():
        if isinstance(sub, Mapping):
            out.update(_values(sub, category=str(code)))
    return out


def plan(block: Any) -> TargetPlan:
    """The original targets and the revisions of a validated ``target:`` block."""
    if not isinstance(block, Mapping):
        return TargetPlan()
    revisions = [
        Revision(
            effective=str(rev["effective"]),
            decided_on=rev.get("date"),
            reason=str(rev["reason"]).strip(),
            approved_by=None if rev.get("approved_by") is None else str(rev["approved_by"]),
            values=flatten(rev),
        )
        for rev in block.get("revisions") or []
    ]
    return TargetPlan(original=flatten(block), revisions=revisions)
