"""Reading one cell of a stage indicator: a level's number, code, name or alias, or a refusal.

The refusal (``unknown_stage``) lists every level with its number, so whoever fills the sheet sees
what to write, in English or Spanish like every other message of the import.
"""

from __future__ import annotations

from mel.catalog.stages import Scale
from mel.core.i18n import t
from mel.reports.numbers import NOT_REPORTED, Read, display, special_code
from mel.reports.tables import Issues
from mel.reports.vocab import not_reported
from mel.workbooks.book import Special

UNKNOWN_STAGE = "unknown_stage"
"""Error code: a stage indicator's cell names no level (REPORT-FORMAT.md extended in the README)."""


def read_stage(raw: object, special: Special | None, scale: Scale | None) -> Read:
    """The level number a cell names; an empty cell is nothing reported."""
    code = special_code(special)
    if code:
        return None, code
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if isinstance(raw, str) and not_reported(raw):
        return None, NOT_REPORTED
    level = scale.find(raw) if scale is not None else None
    if level is None:
        return None, UNKNOWN_STAGE
    return float(level.number), None


def report_unknown_stage(issues: Issues, sheet: str, cell: str, raw: object, code: str, scale: Scale | None) -> None:
    """The refusal of a cell that names no level of indicator ``code``."""
    issues.error(
        UNKNOWN_STAGE,
        sheet,
        cell,
        t(
            issues.lang,
            "{value} is not a stage of indicator {code}: write one of the stages by name or number ({choices}).",
            value=display(raw),
            code=code,
            choices=scale.choices(issues.lang) if scale is not None else "-",
        ),
    )
