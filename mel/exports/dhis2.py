"""``mel export dhis2``: approved values as a DHIS2 data value set (JSON) or as ADX XML.

Identifiers come from the catalog's optional ``dhis2:`` blocks (``mel.catalog.dhis2``): a data
element per indicator, a category option combo per combination of categories, an org unit per
partner (or per region, for indicators mapped ``org_unit: region``) and the data set of the
partnership. Nothing is guessed: a value whose indicator, org unit or combination has no
identifier is left out and listed (``Dhis2Export.unmapped``). Periods are calendar quarters, which
DHIS2 writes as ``2021Q3`` and ADX as ``2021-07-01/P3M``. Values of several partners that land on
one org unit, period and combination are added up (counts); for other units that would be a
guess, so they are left out and listed too. Small cells are withheld unless ``--no-suppress``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, Dimension, Indicator, Partner, Partnership
from mel.core.periods import quarter_start
from mel.exports.options import ExportOptions
from mel.exports.values import combination_categories, value_query
from mel.results.counting import Scope
from mel.results.disclosure.values import hidden_values

ADX_NS = "urn:ihe:qrph:adx:2015"
FORMATS = ("json", "adx")
Key = tuple[str, str, str, str]
"""data element, period, org unit, category option combo"""


class Dhis2Error(ValueError):
    """An export that cannot be made (ADX needs the partnership's data set)."""


@dataclass
class Dhis2Export:
    """The data values, and everything left out with the reason, in a stable order."""

    data_set: str | None
    attribute_option_combo: str | None
    values: dict[Key, float] = field(default_factory=dict)
    unmapped: set[str] = field(default_factory=set)

    def notes(self) -> list[str]:
        return sorted(self.unmapped)


def combination_key(categories: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(categories.items())


def _parse_combo(text: str) -> frozenset[tuple[str, str]]:
    """``sex=female;region=cusco`` (any order, spaces allowed); ``""`` is the total."""
    pairs = [part.split("=", 1) for part in text.replace(",", ";").split(";") if part.strip()]
    return frozenset((d.strip(), c.strip()) for d, c in pairs if c)


def _text(key: frozenset[tuple[str, str]]) -> str:
    return ";".join(f"{d}={c}" for d, c in sorted(key)) or "(total)"


def collect(session: Session, partnership: Partnership, options: ExportOptions) -> Dhis2Export:
    """The data values of ``partnership``'s approved reports (with provisional ones when asked)."""
    block = partnership.dhis2 or {}
    out = Dhis2Export(block.get("data_set"), block.get("attribute_option_combo"))
    indicators = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.partnership_id == partnership.id))}
    partners = {p.id: p for p in session.scalars(select(Partner).where(Partner.partnership_id == partnership.id))}
    regions = {
        c.code: (c.dhis2 or {}).get("org_unit")
        for c in session.scalars(
            select(Category)
            .join(Dimension)
            .where(Dimension.partnership_id == partnership.id, Dimension.code == "region")
        )
    }
    combos = combination_categories(session, partnership)
    viewer = options.viewer()
    hide = hidden_values(session, partnership, viewer, viewer.scope())
    sums: dict[Key, list[float]] = defaultdict(list)
    units: dict[Key, str] = {}
    for iid, pid, period, combo, value, *_rest in session.execute(
        value_query(partnership, Scope(include_provisional=options.include_provisional))
    ):
        ind = indicators[iid]
        mapping = ind.dhis2 or {}
        if not mapping.get("data_element"):
            out.unmapped.add(f"indicator {ind.code}: no dhis2 data_element in the catalog")
            continue
        if (iid, pid, period, combo) in hide:
            out.unmapped.add(f"indicator {ind.code}: small counts withheld (--no-suppress to include them)")
            continue
        categories = dict(combos.get(combo, {}))
        if mapping.get("org_unit") == "region":
            region = categories.pop("region", None)
            if region is None:
                continue  # a value not by region has no region org unit: its regions carry it
            org_unit = regions.get(region)
            if not org_unit:
                out.unmapped.add(f"region {region}: no dhis2 org_unit in the catalog")
                continue
        else:
            org_unit = (partners[pid].dhis2 or {}).get("org_unit")
            if not org_unit:
                out.unmapped.add(f"partner {partners[pid].code}: no dhis2 org_unit in the catalog")
                continue
        known = {_parse_combo(k): v for k, v in (mapping.get("category_option_combos") or {}).items()}
        key = combination_key(categories)
        coc = known.get(key)
        if coc is None:
            out.unmapped.add(f"indicator {ind.code}: no dhis2 category option combo for {_text(key)}")
            continue
        where = (mapping["data_element"], period, org_unit, coc)
        sums[where].append(value)
        units[where] = ind.unit
    for where, parts in sums.items():
        if len(parts) > 1 and units[where] != "count":
            out.unmapped.add(
                f"{where[0]} {where[1]} {where[2]}: {len(parts)} {units[where]} values on one org unit are not added up"
            )
            continue
        out.values[where] = sum(parts)
    return out


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))


def data_value_set(found: Dhis2Export) -> dict[str, Any]:
    """The DHIS2 ``dataValueSets`` import payload."""
    rows = []
    for (element, period, org_unit, coc), value in sorted(found.values.items()):
        row = {"dataElement": element, "period": period, "orgUnit": org_unit, "categoryOptionCombo": coc}
        if found.attribute_option_combo:
            row["attributeOptionCombo"] = found.attribute_option_combo
        row["value"] = _number(value)
        rows.append(row)
    body: dict[str, Any] = {"dataSet": found.data_set} if found.data_set else {}
    body["dataValues"] = rows
    return body


def adx_period(period: str) -> str:
    """A calendar quarter in ADX (ISO 8601 start and duration): 2021Q3 -> 2021-07-01/P3M."""
    return f"{quarter_start(period).isoformat()}/P3M"


def adx(found: Dhis2Export) -> bytes:
    """ADX XML: one ``<group>`` per org unit, period and data set, one ``<dataValue>`` per value."""
    if not found.data_set:
        raise Dhis2Error("ADX needs the partnership's data set: add dhis2: {data_set: ...} to the catalog")
    ET.register_namespace("", ADX_NS)
    root = ET.Element(f"{{{ADX_NS}}}adx")
    groups: dict[tuple[str, str], list[tuple[str, str, float]]] = defaultdict(list)
    for (element, period, org_unit, coc), value in sorted(found.values.items()):
        groups[(org_unit, period)].append((element, coc, value))
    for (org_unit, period), values in sorted(groups.items()):
        attrs = {"orgUnit": org_unit, "period": adx_period(period), "dataSet": found.data_set}
        if found.attribute_option_combo:
            attrs["attributeOptionCombo"] = found.attribute_option_combo
        group = ET.SubElement(root, f"{{{ADX_NS}}}group", attrs)
        for element, coc, value in values:
            ET.SubElement(
                group,
                f"{{{ADX_NS}}}dataValue",
                {"dataElement": element, "categoryOptionCombo": coc, "value": _number(value)},
            )
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def write(session: Session, partnership: Partnership, fmt: str, options: ExportOptions, out: IO[Any]) -> list[str]:
    """Write the export (text for json, bytes for adx); returns what was left out, one line each."""
    found = collect(session, partnership, options)
    if fmt == "adx":
        out.write(adx(found))
    else:
        out.write(json.dumps(data_value_set(found), indent=2, ensure_ascii=False) + "\n")
    return found.notes()
