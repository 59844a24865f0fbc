"""Checking a workbook against REPORT-FORMAT.md and the catalog: every error at once, nothing stored.

``parse_workbook`` tells the two kinds apart (a Measurements sheet and no Cover is a measurement
workbook; anything else is a quarterly report), reads every sheet it knows and returns a
``ParsedWorkbook``: what was read, resolved to catalog ids, plus every error with its stable code,
sheet, cell and a message in the user's language. Storing is the import service's job.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from mel.core.i18n import LANGUAGES, t
from mel.core.text import norm
from mel.reports.matching import CatalogIndex
from mel.reports.parse_context import Context
from mel.reports.parse_cover import cover_partner, cover_period, cover_prepared, read_cover
from mel.reports.parse_followup import parse_followup
from mel.reports.parse_indicators import parse_indicators
from mel.reports.parse_measurements import parse_measurements, unknown_partnership
from mel.reports.parse_results import Issue, ParsedWorkbook
from mel.reports.parse_trainings import parse_narrative, parse_trainings
from mel.reports.tables import Issues, scan_personal_data
from mel.reports.vocab import SHEETS
from mel.workbooks.book import Sheet, Workbook, WorkbookError
from mel.workbooks.labels import sheet_names
from mel.workbooks.reader import read_workbook


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
    cover = read_cover(roles["cover"]) if "cover" in roles else None
    partner = cover_partner(issues, index, cover, roles.get("cover"), partner_code)
    quarter = cover_period(issues, cover, roles.get("cover"), period)
    if cover is not None:
        result.prepared_by, result.report_date = cover_prepared(issues, cover, roles["cover"])

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
