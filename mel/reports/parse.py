"""Checking a workbook against REPORT-FORMAT.md and the catalog: every error at once, nothing stored.

``parse_workbook`` tells the two kinds apart (a Measurements sheet and no Cover is a measurement
workbook; anything else is a quarterly report), reads every sheet it knows and returns a
``ParsedWorkbook``: what was read, resolved to catalog ids, plus every error with its stable code,
sheet, cell and a message in the user's language. Storing is the import service's job.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from mel.core.i18n import LANGUAGES, t
from mel.core.periods import parse_quarter
from mel.core.text import norm
from mel.reports.matching import CatalogIndex, PartnerInfo
from mel.reports.messages import report_value
from mel.reports.numbers import display, read_date, special_code
from mel.reports.parse_followup import parse_followup
from mel.reports.parse_indicators import Context, parse_indicators
from mel.reports.parse_measurements import parse_measurements, unknown_partnership
from mel.reports.parse_trainings import parse_narrative, parse_trainings
from mel.reports.parsed import Issue, ParsedWorkbook
from mel.reports.tables import Issues, blank, scan_personal_data
from mel.reports.vocab import COVER_LABELS, SHEETS
from mel.workbooks.labels import sheet_names
from mel.workbooks.reader import Sheet, Workbook, WorkbookError, cell_name, read_workbook

COVER_ROWS = 20
COVER_COLUMNS = 10


def parse_bytes(
    session: Session,
    data: bytes,
    *,
    max_bytes: int,
    lang: str = "en",
    partner_code: str | None = None,
    period: str | None = None,
    partnership_code: str | None = None,
) -> ParsedWorkbook:
    """Read and check an uploaded file; an unreadable or oversized file is one error, not an exception."""
    try:
        workbook = read_workbook(data, max_bytes=max_bytes)
    except WorkbookError as exc:
        lang = lang if lang in LANGUAGES else "en"
        if exc.code == "file_too_large":
            message = t(
                lang,
                "The file is larger than the upload limit of {limit} MB: delete unused sheets and rows, or split "
                "the report, and upload it again.",
                limit=max(1, round(max_bytes / (1024 * 1024))),
            )
        else:
            message = t(
                lang,
                "The file cannot be read as an .xlsx workbook ({detail}): open it in Excel or LibreOffice, save it "
                "as Excel Workbook (.xlsx) and upload it again.",
                detail=exc.detail,
            )
        return ParsedWorkbook(kind="quarterly_report", lang=lang, errors=[Issue(exc.code, "", "", message)])
    return parse_workbook(
        session, workbook, lang=lang, partner_code=partner_code, period=period, partnership_code=partnership_code
    )


def parse_workbook(
    session: Session,
    workbook: Workbook,
    *,
    lang: str = "en",
    partner_code: str | None = None,
    period: str | None = None,
    partnership_code: str | None = None,
) -> ParsedWorkbook:
    """Everything ``workbook`` holds, checked; ``errors`` empty means it may be stored.

    ``partner_code``, ``period`` and ``partnership_code`` are what the uploader stated (form, CLI):
    a quarterly report's Cover must agree with them; a measurement workbook takes its partnership
    from ``partnership_code`` unless a row names one.
    """
    with _collector_paused():
        return _parse(session, workbook, lang, partner_code, period, partnership_code)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while 100,000s of small objects are made.

    The rows and results hold no reference cycles; without the pause, full collections keep
    re-walking the whole workbook and double the time a large report takes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(
    session: Session,
    workbook: Workbook,
    lang: str,
    partner_code: str | None,
    period: str | None,
    partnership_code: str | None,
) -> ParsedWorkbook:
    lang = lang if lang in LANGUAGES else "en"
    issues = Issues(lang)
    index = CatalogIndex(session)
    roles: dict[str, Sheet] = {}
    others: list[Sheet] = []
    for sheet in workbook.sheets:
        role = SHEETS.get(norm(sheet.name))
        if role is not None and role not in roles:
            roles[role] = sheet
        else:
            others.append(sheet)

    if "measurements" in roles and "cover" not in roles:
        result = ParsedWorkbook(kind="measurements", lang=lang)
        stated = _stated_partnership(issues, index, partnership_code)
        for role in ("indicators", "trainings", "narrative", "followup"):
            if role in roles:
                others.insert(0, roles.pop(role))
        _ignore(issues, others, workbook)
        if partnership_code is None or stated is not None:
            result.measurements, result.partnership_id = parse_measurements(
                issues, index, roles["measurements"], stated=stated
            )
        return _finish(result, issues)

    result = ParsedWorkbook(kind="quarterly_report", lang=lang)
    if "measurements" in roles:
        others.insert(0, roles.pop("measurements"))
    _ignore(issues, others, workbook)
    names = sheet_names(lang)
    for role in ("cover", "indicators"):
        if role not in roles:
            issues.error(
                "missing_sheet",
                names[role],
                "",
                t(
                    lang,
                    "The workbook has no {sheet} sheet: add it, or rename the sheet that holds it to {sheet}.",
                    sheet=names[role],
                ),
            )
    cover = _read_cover(roles["cover"]) if "cover" in roles else None
    partner = _partner(issues, index, cover, roles.get("cover"), partner_code)
    quarter = _period(issues, cover, roles.get("cover"), period)
    if cover is not None:
        result.prepared_by, result.report_date = _prepared(issues, cover, roles["cover"])

    partnership_id = partner.partnership_id if partner is not None else None
    if partnership_id is None and partnership_code is not None:
        partnership_id = index.find_partnership(partnership_code)
    if partnership_id is None and len(index.partnership_codes) == 1:
        partnership_id = next(iter(index.partnership_codes))
    framework = index.framework(partnership_id) if partnership_id is not None else None
    result.partnership_id = partnership_id
    if partner is not None:
        result.partner_id, result.partner, result.partner_name = partner.id, partner.code, partner.name
    result.period = quarter
    ctx = Context(lang, issues, framework, partner, quarter)
    if "indicators" in roles:
        result.values = parse_indicators(ctx, roles["indicators"])
    if "trainings" in roles:
        result.trainings = parse_trainings(ctx, roles["trainings"])
    if "narrative" in roles:
        result.narrative = parse_narrative(ctx, roles["narrative"])
    if "followup" in roles:
        result.followups = parse_followup(ctx, roles["followup"])
    return _finish(result, issues)


def _finish(result: ParsedWorkbook, issues: Issues) -> ParsedWorkbook:
    result.errors = issues.errors
    result.infos = issues.infos
    return result


def _ignore(issues: Issues, others: list[Sheet], workbook: Workbook) -> None:
    """Sheets that are not part of this kind of workbook: listed, and checked for personal data."""
    order = {id(s): i for i, s in enumerate(workbook.sheets)}
    for sheet in sorted(others, key=lambda s: order[id(s)]):
        issues.info(
            "ignored_sheet",
            sheet.name,
            "",
            t(issues.lang, "The sheet {sheet} is not part of the report and was ignored.", sheet=sheet.name),
        )
        scan_personal_data(sheet, issues)


def _stated_partnership(issues: Issues, index: CatalogIndex, code: str | None) -> int | None:
    if code is None:
        return None
    found = index.find_partnership(code)
    if found is None:
        unknown_partnership(issues, "", "", code, index)
    return found


# ---------------------------------------------------------------------------------------------
# Cover

Found = tuple[Any, int, int]
"""(value, row, column) of a label's value; column -1 when the label has no value to its right."""


def _read_cover(sheet: Sheet) -> dict[str, Found]:
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


def _partner(
    issues: Issues, index: CatalogIndex, cover: dict[str, Found] | None, sheet: Sheet | None, stated_code: str | None
) -> PartnerInfo | None:
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


def _period(issues: Issues, cover: dict[str, Found] | None, sheet: Sheet | None, stated_text: str | None) -> str | None:
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


def _prepared(issues: Issues, cover: dict[str, Found], sheet: Sheet) -> tuple[str | None, dt.date | None]:
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
