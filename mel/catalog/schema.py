"""Validates a results-framework catalog: its keys, references, causal chain and indicator fields.

Every refusal reads ``file:line: key: what is wrong`` so that whoever edits the catalog
can go straight to the line (``mel.catalog.catalog_file`` keeps the lines). Validation is complete
(all problems at once) and happens before anything touches the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard

from mel.catalog import dhis2, stages
from mel.catalog.calendar import check_frequency
from mel.catalog.catalog_file import (
    CatalogError,
    LineDict,
    Problems,
    _as_list,
    _codes,
    _date,
    _enum,
    _line,
    _number,
    read_catalog_yaml,
)
from mel.catalog.models import AGGREGATIONS, DIRECTIONS, LEVELS, PILLARS, UNITS
from mel.catalog.target_spec import check_target
from mel.core.text import norm

ALLOWED = {
    "top": {"partnership", "partners", "dimensions", "results", "indicators", "context_events"},
    "partnership": {
        "code",
        "name",
        "name_es",
        "country",
        "description",
        "signed_on",
        "starts_on",
        "ends_on",
        "fiscal_year_starts",
        "pillars",
        "dhis2",
    },
    "partner": {"code", "name", "parent", "pillars", "aliases", "contact", "dhis2", "starts_on", "ends_on"},
    "contact": {"name", "email"},
    "dimension": {"label", "aliases", "categories"},
    "label": {"en", "es"},
    "category": {"code", "en", "es", "aliases", "dhis2"},
    "result": {"code", "level", "pillar", "statement", "statement_es", "contributes_to"},
    "indicator": {
        "code",
        "result",
        "unit",
        "aggregation",
        "direction",
        "frequency",
        "reported_in",
        "name",
        "name_es",
        "definition",
        "rationale",
        "data_source",
        "collection_method",
        "limitations",
        "definition_es",
        "rationale_es",
        "data_source_es",
        "collection_method_es",
        "limitations_es",
        "denominator",
        "rate",
        "dimensions",
        "partners",
        "sensitive",
        "cumulative",
        "baseline",
        "target",
        "dhis2",
        "levels",  # stage indicators (mel.catalog.stages)
        "new_participants_only",
        "people_trained",  # counts people trained (mel.quality.training_consistency)
    },
    "baseline": {"value", "year", "source", "quarters"},
    "rate": {"numerator", "denominator"},
    "context_event": {
        "title",
        "title_es",
        "description",
        "description_es",
        "starts_on",
        "ends_on",
        "regions",
        "pillars",
    },
}
REQUIRED = {
    "top": {"partnership", "partners", "results", "indicators"},
    "partnership": {"code", "name", "country", "starts_on", "ends_on"},
    "partner": {"code", "name"},
    "dimension": {"label", "categories"},
    "label": {"en", "es"},
    "category": {"code", "en", "es"},
    "result": {"code", "level", "statement"},
    "indicator": {"code", "result", "unit", "aggregation", "direction", "name"},
    "baseline": {"value"},
    "rate": {"numerator", "denominator"},
    "context_event": {"title", "starts_on"},
}


def _check_keys(obj: Any, p: Problems, kind: str, where: str, line: int) -> TypeGuard[LineDict]:
    if not isinstance(obj, LineDict):
        p.add(line, where, f"expected a mapping of keys, found {type(obj).__name__}")
        return False
    for key in obj:
        if key not in ALLOWED[kind]:
            p.add(obj.lines[key], f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(ALLOWED[kind]))})")
    for key in sorted(REQUIRED.get(kind, set()) - set(obj)):
        p.add(obj.line, f"{where}.{key}", "required key is missing")
    return True


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A cycle in a directed graph as a list of nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def parse_catalog(path: Path) -> LineDict:
    """Parse and validate one catalog file; raise CatalogError with every problem found."""
    p = Problems(str(path))
    data = read_catalog_yaml(path, p)
    if not _check_keys(data, p, "top", "catalog", 1):
        raise CatalogError(p.items)
    validate(p, data)
    dhis2.check_catalog(p.add, data)
    stages.check_catalog(p.add, data)
    if p.items:
        raise CatalogError(p.items)
    return data


def validate(p: Problems, data: LineDict) -> None:
    partnership = data.get("partnership")
    if _check_keys(partnership, p, "partnership", "partnership", _line(data, "partnership")):
        start, end = _date(p, partnership, "starts_on", "partnership"), _date(p, partnership, "ends_on", "partnership")
        _date(p, partnership, "signed_on", "partnership")
        if start and end and end < start:
            p.add(_line(partnership, "ends_on"), "partnership.ends_on", "ends before the partnership starts")
        fy = partnership.get("fiscal_year_starts", 10)
        if not isinstance(fy, int) or not 1 <= fy <= 12:
            p.add(
                _line(partnership, "fiscal_year_starts"), "partnership.fiscal_year_starts", "must be a month, 1 to 12"
            )
        for pillar in _as_list(p, partnership, "pillars", "partnership"):
            if pillar not in PILLARS:
                p.add(
                    _line(partnership, "pillars"),
                    "partnership.pillars",
                    f"{pillar!r} is not one of {', '.join(PILLARS)}",
                )
        if not isinstance(partnership.get("country"), str) or len(partnership["country"]) != 2:
            p.add(_line(partnership, "country"), "partnership.country", "write the two-letter ISO country code")

    partners = [
        x
        for x in _as_list(p, data, "partners", "catalog")
        if _check_keys(x, p, "partner", "partners", _line(data, "partners"))
    ]
    partner_codes = _codes(p, partners, "partners")
    for partner in partners:
        where = f"partners.{partner.get('code')}"
        parent = partner.get("parent")
        if parent is not None and str(parent) not in partner_codes:
            p.add(_line(partner, "parent"), f"{where}.parent", f"unknown partner {parent!r}")
        if parent is not None and str(parent) == str(partner.get("code")):
            p.add(_line(partner, "parent"), f"{where}.parent", "a partner cannot be its own parent")
        p_start, p_end = _date(p, partner, "starts_on", where), _date(p, partner, "ends_on", where)
        if p_start and p_end and p_end < p_start:
            p.add(_line(partner, "ends_on"), f"{where}.ends_on", "the agreement ends before it starts")
        if "contact" in partner:
            _check_keys(partner["contact"], p, "contact", f"{where}.contact", _line(partner, "contact"))
        for pillar in _as_list(p, partner, "pillars", where):
            if pillar not in PILLARS:
                p.add(_line(partner, "pillars"), f"{where}.pillars", f"{pillar!r} is not a pillar")

    dimensions = data.get("dimensions") or LineDict()
    if not isinstance(dimensions, LineDict):
        p.add(_line(data, "dimensions"), "dimensions", "expected a mapping of dimension code to definition")
        dimensions = LineDict()
    dim_categories: dict[str, set[str]] = {}
    dim_names: dict[str, str] = {}
    for code, dim in dimensions.items():
        where = f"dimensions.{code}"
        if not _check_keys(dim, p, "dimension", where, dimensions.lines[code]):
            continue
        if "label" in dim:
            _check_keys(dim["label"], p, "label", f"{where}.label", _line(dim, "label"))
        names = [code, *(dim.get("label") or {}).values(), *_as_list(p, dim, "aliases", where)]
        for n in {norm(x) for x in names}:
            if n in dim_names and dim_names[n] != code:
                p.add(dimensions.lines[code], where, f"name {n!r} is also used by dimension {dim_names[n]!r}")
            dim_names[n] = code
        cats = [
            c
            for c in _as_list(p, dim, "categories", where)
            if _check_keys(c, p, "category", f"{where}.categories", _line(dim, "categories"))
        ]
        cat_codes = _codes(p, cats, f"{where}.categories")
        dim_categories[code] = set(cat_codes)
        owner: dict[str, str] = {}
        for cat in cats:
            ccode = str(cat.get("code"))
            for n in {norm(x) for x in [cat.get("code"), cat.get("en"), cat.get("es")] if x is not None}:
                owner.setdefault(n, ccode)
        for cat in cats:
            ccode = str(cat.get("code"))
            for alias in _as_list(p, cat, "aliases", f"{where}.{ccode}"):
                n = norm(alias)
                if owner.get(n, ccode) != ccode:
                    p.add(
                        _line(cat, "aliases"),
                        f"{where}.categories.{ccode}.aliases",
                        f"alias {alias!r} collides with the code, label or alias of category {owner[n]!r}",
                    )
                owner.setdefault(n, ccode)

    results = [
        x
        for x in _as_list(p, data, "results", "catalog")
        if _check_keys(x, p, "result", "results", _line(data, "results"))
    ]
    result_codes = _codes(p, results, "results")
    edges: dict[str, list[str]] = {}
    for res in results:
        code = str(res.get("code"))
        where = f"results.{code}"
        _enum(p, res, "level", where, LEVELS)
        _enum(p, res, "pillar", where, PILLARS)
        targets = [str(t) for t in _as_list(p, res, "contributes_to", where)]
        edges[code] = targets
        for target in targets:
            other = result_codes.get(target)
            if other is None:
                p.add(_line(res, "contributes_to"), f"{where}.contributes_to", f"unknown result {target!r}")
            elif res.get("level") == "output" and other.get("level") == "impact":
                p.add(
                    _line(res, "contributes_to"),
                    f"{where}.contributes_to",
                    f"output contributes directly to impact {target!r}: a broken causal chain; "
                    "link it to the outcome it serves",
                )
            elif res.get("level") == "impact":
                p.add(_line(res, "contributes_to"), f"{where}.contributes_to", "the impact contributes to nothing")
    cycle = find_cycle(edges)
    if cycle:
        first = result_codes[cycle[0]]
        p.add(
            _line(first, "contributes_to"),
            f"results.{cycle[0]}.contributes_to",
            "contribution links form a cycle: " + " -> ".join(cycle),
        )

    indicators = [
        x
        for x in _as_list(p, data, "indicators", "catalog")
        if _check_keys(x, p, "indicator", "indicators", _line(data, "indicators"))
    ]
    _codes(p, indicators, "indicators")
    for ind in indicators:
        where = f"indicators.{ind.get('code')}"
        if ind.get("result") is not None and str(ind["result"]) not in result_codes:
            p.add(_line(ind, "result"), f"{where}.result", f"unknown result {ind['result']!r}")
        _enum(p, ind, "unit", where, UNITS)
        _enum(p, ind, "aggregation", where, AGGREGATIONS)
        _enum(p, ind, "direction", where, DIRECTIONS)
        if ind.get("unit") in ("percent", "yes_no") and ind.get("aggregation") == "sum":
            p.add(
                _line(ind, "aggregation"),
                f"{where}.aggregation",
                f"a {ind['unit']} indicator cannot be summed over periods; use aggregation: latest",
            )
        for dim in _as_list(p, ind, "dimensions", where):
            if str(dim) not in dim_categories:
                p.add(_line(ind, "dimensions"), f"{where}.dimensions", f"unknown dimension {dim!r}")
        for partner in _as_list(p, ind, "partners", where):
            if str(partner) not in partner_codes:
                p.add(_line(ind, "partners"), f"{where}.partners", f"unknown partner {partner!r}")
        _number(p, ind, "denominator", where)
        rate_ok = "rate" in ind and _check_keys(ind["rate"], p, "rate", f"{where}.rate", _line(ind, "rate"))
        if rate_ok and ind.get("unit") != "percent":
            p.add(_line(ind, "rate"), f"{where}.rate", "only a percent indicator has a numerator and a denominator")
        for key in ("sensitive", "cumulative", "people_trained"):
            if key in ind and not isinstance(ind[key], bool):
                p.add(_line(ind, key), f"{where}.{key}", "write true or false")
        if "baseline" in ind and _check_keys(
            ind["baseline"], p, "baseline", f"{where}.baseline", _line(ind, "baseline")
        ):
            _number(p, ind["baseline"], "value", f"{where}.baseline")
            quarters = ind["baseline"].get("quarters")
            if quarters is not None and (not isinstance(quarters, int) or isinstance(quarters, bool) or quarters < 1):
                p.add(
                    _line(ind["baseline"], "quarters"), f"{where}.baseline.quarters", "write a whole number of quarters"
                )
            year = ind["baseline"].get("year")
            if year is not None and not (isinstance(year, int) and 1900 < year < 2200):
                p.add(_line(ind["baseline"], "year"), f"{where}.baseline.year", "write a four-digit year")
        if "target" in ind:
            ind_dims = [str(d) for d in _as_list(p, ind, "dimensions", where)]
            check_target(
                p.add,
                ind["target"],
                f"{where}.target",
                _line(ind, "target"),
                partners={str(x) for x in _as_list(p, ind, "partners", where)},
                categories={f"{d}.{c}" for d in ind_dims for c in dim_categories.get(d, set())},
            )
        check_frequency(p.add, ind, where, _line(ind, "frequency", ind.line))

    regions = dim_categories.get("region", set())
    for event in _as_list(p, data, "context_events", "catalog"):
        if not _check_keys(event, p, "context_event", "context_events", _line(data, "context_events")):
            continue
        where = f"context_events.{event.get('title')}"
        start, end = _date(p, event, "starts_on", where), _date(p, event, "ends_on", where)
        if start and end and end < start:
            p.add(_line(event, "ends_on"), f"{where}.ends_on", "ends before it starts")
        for region in _as_list(p, event, "regions", where):
            if str(region) not in regions:
                p.add(_line(event, "regions"), f"{where}.regions", f"unknown region {region!r}")
        for pillar in _as_list(p, event, "pillars", where):
            if pillar not in PILLARS:
                p.add(_line(event, "pillars"), f"{where}.pillars", f"{pillar!r} is not a pillar")
