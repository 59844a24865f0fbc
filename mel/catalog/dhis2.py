"""Optional DHIS2 identifiers in a catalog (``dhis2:`` blocks), for ``mel export dhis2``.

```yaml
partnership: {..., dhis2: {data_set: lyLU2wR22tC, attribute_option_combo: HllvX50cXC0}}
partners:    [{code: ilo, ..., dhis2: {org_unit: ImspTQPwCqd}}]
dimensions:  {region: {..., categories: [{code: cusco, ..., dhis2: {org_unit: O6uvpzGd5pu}}]}}
indicators:
  - code: 1.1.a
    dhis2:
      data_element: fbfJHSPpUQD
      org_unit: partner          # or region: values by region go to the region's org unit
      category_option_combos:    # the combination (dimension=category; ...) -> DHIS2 id; "" is the total
        "": HllvX50cXC0
        "sex=female": Prlt0C1RF0s
```
Only these keys are accepted; what is not mapped is listed by the export, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
"""A DHIS2 identifier: 11 characters, a letter first."""
KEYS = {
    "partnership": {"data_set", "attribute_option_combo"},
    "partner": {"org_unit"},
    "category": {"org_unit"},
    "indicator": {"data_element", "org_unit", "category_option_combos"},
}


def _line(obj: Any, key: str, default: int) -> int:
    lines = getattr(obj, "lines", None)
    return int(lines.get(key, default)) if isinstance(lines, dict) else default


def check(add: Any, block: Any, kind: str, where: str, line: int) -> None:
    """Problems of one ``dhis2:`` block, reported through ``add(line, key, message)``."""
    if not isinstance(block, dict):
        add(line, f"{where}.dhis2", "expected a mapping of DHIS2 identifiers")
        return
    for key, value in block.items():
        at = _line(block, key, line)
        if key not in KEYS[kind]:
            add(at, f"{where}.dhis2.{key}", f"unknown key (one of {', '.join(sorted(KEYS[kind]))})")
        elif key == "org_unit" and kind == "indicator":
            if value not in ("partner", "region"):
                add(at, f"{where}.dhis2.org_unit", "partner or region")
        elif key == "category_option_combos":
            if not isinstance(value, dict):
                add(at, f"{where}.dhis2.{key}", "expected combination: identifier pairs")
                continue
            for combo, uid in value.items():
                if not UID.match(str(uid)):
                    add(_line(value, combo, at), f"{where}.dhis2.{key}.{combo}", f"{uid!r} is not a DHIS2 identifier")
        elif not UID.match(str(value)):
            add(at, f"{where}.dhis2.{key}", f"{value!r} is not a DHIS2 identifier (11 letters and digits)")


def check_catalog(add: Any, data: dict[str, Any]) -> None:
    """Every ``dhis2:`` block of a parsed catalog."""
    partnership = data.get("partnership")
    if isinstance(partnership, dict) and "dhis2" in partnership:
        check(add, partnership["dhis2"], "partnership", "partnership", _line(partnership, "dhis2", 1))
    for partner in data.get("partners") or []:
        if isinstance(partner, dict) and "dhis2" in partner:
            check(add, partner["dhis2"], "partner", f"partners.{partner.get('code')}", _line(partner, "dhis2", 1))
    for dim_code, dim in (data.get("dimensions") or {}).items() if isinstance(data.get("dimensions"), dict) else []:
        for cat in (dim or {}).get("categories") or [] if isinstance(dim, dict) else []:
            if isinstance(cat, dict) and "dhis2" in cat:
                where = f"dimensions.{dim_code}.categories.{cat.get('code')}"
                check(add, cat["dhis2"], "category", where, _line(cat, "dhis2", 1))
    for ind in data.get("indicators") or []:
        if isinstance(ind, dict) and "dhis2" in ind:
            check(add, ind["dhis2"], "indicator", f"indicators.{ind.get('code')}", _line(ind, "dhis2", 1))


def stored(item: Any) -> dict[str, Any] | None:
    """The ``dhis2`` block of a catalog item as stored (plain JSON), or None."""
    block = item.get("dhis2") if isinstance(item, dict) else None
    if not isinstance(block, dict):
        return None
    return {
        str(k): ({str(c): str(u) for c, u in v.items()} if isinstance(v, dict) else str(v)) for k, v in block.items()
    }
