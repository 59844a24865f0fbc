"""The Indicators sheet: one value per row, resolved against the catalog, then totals checked against breakdowns.

Per-row work is plain Python over lists with memo dicts (a code or a category label is looked up
once per distinct spelling), so a 100,000-row sheet costs a fraction of reading it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from mel.core.i18n import t
from mel.reports.matching import Framework, IndicatorInfo
from mel.reports.messages import report_specials, report_value
from mel.reports.numbers import NOT_REPORTED, display, plain, read_any, read_value
from mel.reports.parse_context import CategoryColumns, Context, find_indicator, unknown_indicator
from mel.reports.parse_rates import Rate, read_rate
from mel.reports.parse_results import Issue, ParsedValue
from mel.reports.stage_cells import UNKNOWN_STAGE, read_stage, report_unknown_stage
from mel.reports.tables import blank, empty_row, locate, missing_column
from mel.reports.vocab import INDICATOR_COLUMNS, REFERENCE_COLUMNS
from mel.workbooks.book import Sheet, column_letter
from mel.workbooks.labels import indicator_headers


def parse_indicators(ctx: Context, sheet: Sheet) -> list[ParsedValue]:
    issues = ctx.issues
    fw = ctx.framework
    table = locate(
        sheet, INDICATOR_COLUMNS, "indicator", issues, extra=CategoryColumns.extra(fw), silent=REFERENCE_COLUMNS
    )
    heads = indicator_headers(ctx.lang)
    missing = [f for f in ("indicator", "value") if f not in table.columns]
    for name in missing:
        missing_column(issues, table, heads[name])
    if missing:
        return []
    name = sheet.name
    ic, vc = table.columns["indicator"], table.columns["value"]
    cc = table.columns.get("comment")
    counts = (table.columns.get("numerator"), table.columns.get("denominator"))
    dims = CategoryColumns(fw, table) if fw is not None else None
    dim_cols = [col for _, col in dims.columns] if dims else []
    recognized = [ic, vc, *dim_cols] + ([cc] if cc is not None else []) + [c for c in counts if c is not None]
    start = table.header_row + 1
    specials = sheet.special
    bad_rows = report_specials(issues, name, specials, start, set(recognized) - {vc}) if specials else set()
    assigned = fw.assigned.get(ctx.partner.id, set()) if fw is not None and ctx.partner is not None else None
    mine = [c for c in fw.codes if assigned and fw.indicators[c.casefold()].id in assigned] if fw else []
    memo: dict[Any, IndicatorInfo | None] = {}
    v_letter, i_letter = column_letter(vc), column_letter(ic)
    values: list[ParsedValue] = []
    seen: dict[tuple[int, frozenset[int]], str] = {}
    tainted: set[tuple[int, frozenset[str]]] = set()
    row_indicator: dict[int, int] = {}
    first_error = len(issues.errors)

    for offset, row in enumerate(table.data_rows()):
        r = start + offset
        raw_ind, raw_val = row[ic], row[vc]
        if (raw_ind == "" or raw_ind is None) and empty_row(row, recognized, r, specials):
            continue
        ok = r not in bad_rows
        ind = find_indicator(fw, memo, raw_ind)
        if ind is not None:
            row_indicator[r + 1] = ind.id
        if ind is None:
            if not (r in bad_rows and blank(raw_ind)):
                unknown_indicator(ctx, name, f"{i_letter}{r + 1}", raw_ind, mine)
            ok = False
        elif assigned is not None and ind.id not in assigned and ctx.partner is not None:
            issues.error(
                "indicator_not_assigned",
                name,
                f"{i_letter}{r + 1}",
                t(
                    ctx.lang,
                    "{partner} does not report indicator {code}: remove this row or correct the code "
                    "(your indicators: {codes}).",
                    partner=ctx.partner.code,
                    code=ind.code,
                    codes=", ".join(mine) or "-",
                ),
            )
            ok = False
        if dims is not None:
            categories, ids, cats_ok = dims.read(ctx, name, r, row, ind)
        else:
            categories, ids, cats_ok = {}, [], True
        ok = ok and cats_ok
        cell = f"{v_letter}{r + 1}"
        special = specials.get((r, vc)) if specials else None
        if ind is not None and special is None and type(raw_val) is float and raw_val >= 0 and ind.unit == "count":
            number, code = (raw_val, None) if raw_val.is_integer() else (None, "not_an_integer")
        elif ind is not None and ind.unit == "stage":
            number, code = read_stage(raw_val, special, ind.scale)
        elif ind is not None:
            number, code = read_value(raw_val, special, ind.unit)
        else:
            number, code = read_any(raw_val, special)
        rate = Rate(None, None, True)
        if ind is not None and ind.pooled and code is None:
            rate = read_rate(ctx, name, r, row, counts, number, cell)
            if rate.value is not None and number is None:
                number = rate.value
            ok = ok and rate.ok
        if code == UNKNOWN_STAGE and ind is not None:
            report_unknown_stage(issues, name, cell, raw_val, ind.code, ind.scale)
            tainted.add((ind.id, frozenset(categories)))
            ok = False
        elif code is not None:
            report_value(issues, code, name, cell, raw_val, unit=ind.unit if ind else "count", special=special)
            if code == NOT_REPORTED:
                continue
            tainted.add((ind.id if ind else -1, frozenset(categories)))
            ok = False
        elif number is None:
            continue  # an empty value: nothing reported for this row
        if ind is None or not cats_ok:
            continue
        combination = frozenset(ids)
        key = (ind.id, combination)
        first = seen.get(key)
        if first is not None:
            issues.error(
                "duplicate_row",
                name,
                cell,
                t(
                    ctx.lang,
                    "Indicator {code} with the same categories is already in {first}: keep only one of the two "
                    "rows ({first} and {cell}).",
                    code=ind.code,
                    first=first,
                    cell=cell,
                ),
            )
            tainted.add((ind.id, frozenset(categories)))
            continue
        seen[key] = cell
        if not ok or number is None:
            continue
        comment = None
        if cc is not None:
            raw_comment = row[cc]
            if raw_comment != "" and raw_comment is not None and not blank(raw_comment):
                comment = raw_comment.strip() if type(raw_comment) is str else display(raw_comment)
        values.append(
            ParsedValue(
                ind.id, ind.code, categories, combination, number, comment, name, cell, rate.numerator, rate.denominator
            )
        )
    if fw is not None:
        check_breakdowns(ctx, name, fw, values, tainted)
    issues.errors[first_error:] = name_rows(issues.errors[first_error:], name, row_indicator)
    return values


def name_rows(found: list[Issue], sheet: str, row_indicator: dict[int, int]) -> list[Issue]:
    """Each issue of this sheet with the indicator of its row, so the upload page can name it."""
    named = []
    for issue in found:
        digits = issue.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if issue.sheet == sheet else ""
        indicator = row_indicator.get(int(digits)) if digits.isdigit() else None
        named.append(replace(issue, indicator_id=indicator) if indicator is not None else issue)
    return named


def check_breakdowns(
    ctx: Context, sheet: str, fw: Framework, values: list[ParsedValue], tainted: set[tuple[int, frozenset[str]]]
) -> None:
    """Count indicators: a complete breakdown sums to the total, a partial one does not exceed it."""
    units = {info.id: info.unit for info in fw.indicators.values()}
    totals: dict[int, ParsedValue] = {}
    groups: dict[tuple[int, frozenset[str]], list[ParsedValue]] = defaultdict(list)
    for v in values:
        if units.get(v.indicator_id) != "count":
            continue
        if v.categories:
            groups[(v.indicator_id, frozenset(v.categories))].append(v)
        else:
            totals[v.indicator_id] = v
    for (indicator_id, dim_codes), rows in groups.items():
        total = totals.get(indicator_id)
        if total is None or (indicator_id, dim_codes) in tainted:
            continue
        dimensions = [d for d in fw.dimensions.values() if d.code in dim_codes]
        complete = len(rows) == fw.combinations(frozenset(d.id for d in dimensions))
        added = sum(v.value for v in rows)
        if complete and added == total.value:
            continue
        if not complete and added <= total.value:
            continue
        cells = ", ".join(v.cell for v in rows[:8]) + (", ..." if len(rows) > 8 else "")
        params = {
            "code": total.indicator,
            "dimensions": " × ".join(d.label(ctx.lang) for d in dimensions),
            "sum": plain(added),
            "cells": cells,
            "total": plain(total.value),
            "cell": total.cell,
        }
        if complete:
            code = "total_mismatch"
            message = t(
                ctx.lang,
                "The values of {code} by {dimensions} ({cells}) cover every category and add up to {sum}, "
                "but the total in {cell} is {total}: correct the total or the rows.",
                **params,
            )
        else:
            code = "breakdown_exceeds_total"
            message = t(
                ctx.lang,
                "The values of {code} by {dimensions} ({cells}) add up to {sum}, more than the total {total} "
                "in {cell}: correct the total or the rows.",
                **params,
            )
        ctx.issues.error(code, sheet, total.cell, message)
