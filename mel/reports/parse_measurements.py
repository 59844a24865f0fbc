"""The measurement workbook: an evaluator's baseline, midline and endline values, one sheet.

The partnership is stated on upload or in a ``partnership``/``alianza`` column (a cell there wins
for its row); with one partnership in the catalog, that one is meant.
"""

from __future__ import annotations

from typing import Any

from mel.core.i18n import t
from mel.core.text import norm
from mel.reports.matching import CatalogIndex, CategoryInfo, IndicatorInfo
from mel.reports.messages import report_specials, report_value
from mel.reports.numbers import NOT_REPORTED, display, read_date_or_year, read_value, read_yes_no
from mel.reports.parse_context import Context, find_indicator, unknown_category, unknown_indicator
from mel.reports.parse_results import ParsedMeasurement
from mel.reports.tables import Issues, blank, empty_row, locate, missing_column
from mel.reports.vocab import MEASUREMENT_COLUMNS, REQUIRED_MEASUREMENT, ROUNDS
from mel.workbooks.book import Sheet, cell_name
from mel.workbooks.labels import measurement_headers, round_labels

_SELF_CHECKED = ("date", "value", "comparable")


def unknown_partnership(issues: Issues, sheet: str, cell: str, raw: Any, index: CatalogIndex) -> None:
    issues.error(
        "unknown_partner",
        sheet,
        cell,
        t(
            issues.lang,
            "{value} is not a known partnership: write the partnership code (one of {codes}).",
            value=display(raw),
            codes=", ".join(sorted(index.partnership_codes.values())) or "-",
        ),
    )


def parse_measurements(
    issues: Issues, index: CatalogIndex, sheet: Sheet, *, stated: int | None
) -> tuple[list[ParsedMeasurement], int | None]:
    """The measurements of ``sheet`` and the partnership they belong to (None when several)."""
    lang = issues.lang
    candidates = [stated] if stated is not None else list(index.partnership_codes)
    frameworks = {pid: index.framework(pid) for pid in candidates}
    extra: dict[str, str] = {}
    for fw in frameworks.values():
        for key, did in fw.dimension_keys.items():
            extra.setdefault(key, f"dim:{fw.dimensions[did].code}")
    table = locate(sheet, MEASUREMENT_COLUMNS, "indicator", issues, extra=extra)
    heads = measurement_headers(lang)
    missing = [f for f in REQUIRED_MEASUREMENT if f not in table.columns]
    for field_ in missing:
        missing_column(issues, table, heads[field_])
    cols = table.columns
    default = stated if stated is not None else (candidates[0] if len(candidates) == 1 else None)
    if default is None and "partnership" not in cols:
        missing_column(issues, table, t(lang, "Partnership"))
        return [], None
    if missing:
        return [], default
    name = sheet.name
    start = table.header_row + 1
    specials = sheet.special
    self_checked = {cols[f] for f in _SELF_CHECKED if f in cols}
    bad_rows = report_specials(issues, name, specials, start, set(cols.values()) - self_checked) if specials else set()
    dim_cols = sorted((col, key[4:]) for key, col in cols.items() if key.startswith("dim:"))
    recognized = list(cols.values())
    rounds = round_labels(lang)
    ctx_of: dict[int, Context] = {}
    memo: dict[int, dict[Any, IndicatorInfo | None]] = {}
    partnership_memo: dict[Any, int | None] = {}
    seen: dict[tuple[Any, ...], str] = {}
    used: set[int] = set()
    found: list[ParsedMeasurement] = []

    for offset, row in enumerate(table.data_rows()):
        r = start + offset
        if empty_row(row, recognized, r, specials):
            continue
        ok = r not in bad_rows
        chosen = default
        if "partnership" in cols and not blank(row[cols["partnership"]]):
            raw = row[cols["partnership"]]
            if raw not in partnership_memo:
                partnership_memo[raw] = index.find_partnership(raw)
            chosen = partnership_memo[raw]
            if chosen is None:
                unknown_partnership(issues, name, cell_name(r, cols["partnership"]), raw, index)
                continue
        if chosen is None:
            unknown_partnership(issues, name, cell_name(r, cols["partnership"]), "''", index)
            continue
        fw = frameworks.get(chosen) or frameworks.setdefault(chosen, index.framework(chosen))
        ctx = ctx_of.setdefault(chosen, Context(lang, issues, fw, None, None))

        raw_ind = row[cols["indicator"]]
        ind = find_indicator(fw, memo.setdefault(chosen, {}), raw_ind)
        if ind is None:
            if r not in bad_rows:
                unknown_indicator(ctx, name, cell_name(r, cols["indicator"]), raw_ind, None)
            ok = False

        raw_round = row[cols["round"]]
        round_ = ROUNDS.get(norm(raw_round)) if not blank(raw_round) else None
        if round_ is None and r not in bad_rows:
            unknown_category(
                ctx, name, cell_name(r, cols["round"]), raw_round, t(lang, "round"), ", ".join(rounds.values())
            )
            ok = False

        date_cell = cell_name(r, cols["date"])
        date, code = read_date_or_year(row[cols["date"]], specials.get((r, cols["date"])) if specials else None)
        if code or date is None:
            if code in ("formula_without_value", "cell_error"):
                report_value(issues, code, name, date_cell, "", special=specials.get((r, cols["date"])))
            else:
                issues.error(
                    "bad_date",
                    name,
                    date_cell,
                    t(
                        lang,
                        "{value} is neither a year nor a date: write a year such as 2022 or a date such as 2022-05-31.",
                        value=display(row[cols["date"]]) if not blank(row[cols["date"]]) else "''",
                    ),
                )
            ok = False

        categories: dict[str, str] = {}
        ids: list[int] = []
        cats_ok = True
        for col, dim_code in dim_cols:
            raw = row[col]
            if blank(raw):
                continue
            dim = fw.dimension(dim_code)
            if ind is not None and (dim is None or dim.id not in ind.dimension_ids):
                ctx.issues.error(
                    "dimension_not_used",
                    name,
                    cell_name(r, col),
                    t(
                        lang,
                        "Indicator {code} is not broken down by {dimension}: leave this cell empty.",
                        code=ind.code,
                        dimension=dim.label(lang) if dim else dim_code,
                    ),
                )
                ok = cats_ok = False
                continue
            category: CategoryInfo | None = dim.categories.get(norm(display(raw))) if dim else None
            if category is None or dim is None:
                unknown_category(
                    ctx,
                    name,
                    cell_name(r, col),
                    raw,
                    dim.label(lang) if dim else dim_code,
                    dim.choices(lang) if dim else "-",
                )
                ok = cats_ok = False
                continue
            categories[dim.code] = category.code
            ids.append(category.id)

        value_col = cols["value"]
        special = specials.get((r, value_col)) if specials else None
        number, code = read_value(row[value_col], special, ind.unit if ind else "count")
        if code:
            report_value(
                issues,
                code,
                name,
                cell_name(r, value_col),
                row[value_col],
                unit=ind.unit if ind else "count",
                special=special,
            )
            if code == NOT_REPORTED:
                continue
            ok = False
        elif number is None:
            continue

        comparable = True
        if "comparable" in cols:
            raw = row[cols["comparable"]]
            flag, code = read_yes_no(raw, specials.get((r, cols["comparable"])) if specials else None)
            if code and code != NOT_REPORTED:
                report_value(issues, code, name, cell_name(r, cols["comparable"]), raw, unit="yes_no")
                ok = False
            elif flag is not None:
                comparable = bool(flag)

        survey, survey_ok = _survey(ctx, name, r, row, cols, specials)
        ok = ok and survey_ok
        if ind is None or round_ is None or date is None or not cats_ok:
            continue
        cell = cell_name(r, value_col)
        row_key = (ind.id, round_, date, frozenset(ids))
        if row_key in seen:
            issues.error(
                "duplicate_row",
                name,
                cell,
                t(
                    lang,
                    "Indicator {code} with the same round, date and categories is already in {first}: keep only "
                    "one of the two rows ({first} and {cell}).",
                    code=ind.code,
                    first=seen[row_key],
                    cell=cell,
                ),
            )
            continue
        seen[row_key] = cell
        if not ok or number is None:
            continue
        used.add(chosen)
        found.append(
            ParsedMeasurement(
                indicator_id=ind.id,
                indicator=ind.code,
                round=round_,
                date=date,
                categories=categories,
                category_ids=frozenset(ids),
                value=number,
                source=_text(row, cols.get("source")),
                comparable=comparable,
                note=_text(row, cols.get("note")),
                sheet=name,
                cell=cell,
                sample_size=survey[0],
                margin_of_error=survey[1],
            )
        )
    partnership = default if default is not None else (next(iter(used)) if len(used) == 1 else None)
    return found, partnership


def _text(row: list[Any], col: int | None) -> str | None:
    if col is None or blank(row[col]):
        return None
    raw = row[col]
    return raw.strip() if isinstance(raw, str) else display(raw)


def _survey(
    ctx: Context, sheet: str, r: int, row: list[Any], cols: dict[str, int], specials: Any
) -> tuple[tuple[int | None, float | None], bool]:
    """A survey's sample size (a whole number above zero) and margin of error (percentage points)."""
    size: int | None = None
    margin: float | None = None
    ok = True
    if "sample_size" in cols:
        col = cols["sample_size"]
        raw = row[col]
        number, code = read_value(raw, specials.get((r, col)) if specials else None, "count")
        if code and code != NOT_REPORTED:
            report_value(ctx.issues, code, sheet, cell_name(r, col), raw, unit="count")
            ok = False
        elif number is not None and number <= 0:
            ctx.issues.error(
                "out_of_range",
                sheet,
                cell_name(r, col),
                t(ctx.lang, "A sample size is a whole number above zero."),
            )
            ok = False
        elif number is not None:
            size = int(number)
    if "margin_of_error" in cols:
        col = cols["margin_of_error"]
        raw = row[col]
        number, code = read_value(raw, specials.get((r, col)) if specials else None, "percent")
        if code and code != NOT_REPORTED:
            report_value(ctx.issues, code, sheet, cell_name(r, col), raw, unit="percent")
            ok = False
        elif number is not None:
            margin = number
    return (size, margin), ok
