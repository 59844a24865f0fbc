"""The Cover sheet: its labels' values, and the partner, quarter and preparer they state.

A label's value is the next non-empty cell to its right; what the Cover says is checked against
the partner and quarter stated with the upload, and every error names its cell.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mel.core.i18n import t
from mel.core.periods import parse_quarter
from mel.core.text import norm
from mel.reports.matching import CatalogIndex, PartnerInfo
from mel.reports.messages import report_value
from mel.reports.numbers import display, read_date, special_code
from mel.reports.tables import Issues, blank
from mel.reports.vocab import COVER_LABELS
from mel.workbooks.book import Sheet, cell_name

COVER_ROWS = 20
COVER_COLUMNS = 10

Found = tuple[Any, int, int]
"""(value, row, column) of a label's value; column -1 when the label has no value to its right."""


def read_cover(sheet: Sheet) -> dict[str, Found]:
    """Each label's value: the next non-empty cell to its right."""
    found: dict[str, Found] = {}
    for r, row in enumerate(sheet.rows[:COVER_ROWS]):
        for c, value in enumerate(row[:COVER_COLUMNS]):
            if type(value) is not str:
                continue
            label = COVER_LABELS.get(norm(value))
            if label is None or label in found:
                continue
            found[label] = (None, r, -(c + 2))
            for c2 in range(c + 1, len(row)):
                if not blank(row[c2]) or (r, c2) in sheet.special:
                    found[label] = (row[c2], r, c2)
                    break
    return found


def _value_cell(found: Found) -> str:
    _value, r, c = found
    return cell_name(r, c) if c >= 0 else cell_name(r, -c - 1)


def cover_partner(
    issues: Issues, index: CatalogIndex, cover: dict[str, Found] | None, sheet: Sheet | None, stated_code: str | None
) -> PartnerInfo | None:
    """The partner the Cover names, checked against the one stated with the upload (else that one)."""
    lang = issues.lang
    stated = index.find_partner(stated_code) if stated_code else None
    if stated_code and stated is None:
        issues.error(
            "unknown_partner",
            "",
            "",
            t(
                lang,
                "The partner {value} stated for this upload is not known: use one of {codes}.",
                value=stated_code,
                codes=", ".join(index.partner_codes),
            ),
        )
    if cover is None or sheet is None:
        return stated
    entry = cover.get("partner")
    if entry is None:
        issues.error(
            "unknown_partner",
            sheet.name,
            "",
            t(
                lang,
                "The Cover has no Partner label: write Partner in a cell and the partner code in the cell "
                "to its right.",
            ),
        )
        return stated
    raw, r, c = entry
    cell = _value_cell(entry)
    if c >= 0 and special_code(sheet.special.get((r, c))):
        report_value(
            issues,
            special_code(sheet.special.get((r, c))) or "",
            sheet.name,
            cell,
            raw,
            special=sheet.special.get((r, c)),
        )
        return stated
    found = index.find_partner(raw) if not blank(raw) else None
    if found is None:
        issues.error(
            "unknown_partner",
            sheet.name,
            cell,
            t(
                lang,
                "{value} is not a known partner: write your partner code (one of {codes}).",
                value=display(raw) if not blank(raw) else "''",
                codes=", ".join(index.partner_codes),
            ),
        )
        return stated
    if stated is not None and stated.id != found.id:
        issues.error(
            "partner_mismatch",
            sheet.name,
            cell,
            t(
                lang,
                "The Cover names the partner {found}, but this upload is for {expected}: upload the report of "
                "{expected}, or correct the Cover.",
                found=found.code,
                expected=stated.code,
            ),
        )
    return found


def cover_period(
    issues: Issues, cover: dict[str, Found] | None, sheet: Sheet | None, stated_text: str | None
) -> str | None:
    """The quarter the Cover states, checked against the one stated with the upload (else that one)."""
    lang = issues.lang
    stated = parse_quarter(stated_text) if stated_text else None
    if stated_text and stated is None:
        issues.error(
            "bad_period",
            "",
            "",
            t(lang, "The period {value} stated for this upload is not a quarter such as 2021Q3.", value=stated_text),
        )
    if cover is None or sheet is None:
        return stated
    entry = cover.get("period")
    if entry is None:
        issues.error(
            "bad_period",
            sheet.name,
            "",
            t(
                lang,
                "The Cover has no Period label: write Period in a cell and the quarter, such as 2021Q3, to its right.",
            ),
        )
        return stated
    raw, r, c = entry
    cell = _value_cell(entry)
    special = sheet.special.get((r, c)) if c >= 0 else None
    if special_code(special):
        report_value(issues, special_code(special) or "", sheet.name, cell, raw, special=special)
        return stated
    found = parse_quarter(raw) if isinstance(raw, str) else None
    if found is None:
        issues.error(
            "bad_period",
            sheet.name,
            cell,
            t(
                lang,
                "{value} is not a quarter: write the calendar quarter as 2021Q3 (or 2021-Q3, Q3 2021, T3 2021).",
                value=display(raw) if not blank(raw) else "''",
            ),
        )
        return stated
    if stated is not None and stated != found:
        issues.error(
            "period_mismatch",
            sheet.name,
            cell,
            t(
                lang,
                "The Cover says {found}, but this upload is for {expected}: check that this is the report of "
                "{expected} and correct the Cover, or upload it for {found}.",
                found=found,
                expected=stated,
            ),
        )
    return found


def cover_prepared(issues: Issues, cover: dict[str, Found], sheet: Sheet) -> tuple[str | None, dt.date | None]:
    """Who prepared the report and on which date, as the Cover says."""
    prepared = None
    if "prepared_by" in cover and not blank(cover["prepared_by"][0]):
        prepared = display(cover["prepared_by"][0])
    day = None
    if "date" in cover and cover["date"][2] >= 0:
        raw, r, c = cover["date"]
        special = sheet.special.get((r, c))
        day, code = read_date(raw, special)
        if code == "bad_date":
            issues.error(
                "bad_date",
                sheet.name,
                cell_name(r, c),
                t(
                    issues.lang,
                    "{value} is not a date: write it as 2021-08-12 or 12/08/2021 (day first).",
                    value=display(raw),
                ),
            )
        elif code:
            report_value(issues, code, sheet.name, cell_name(r, c), raw, special=special)
    return prepared, day
