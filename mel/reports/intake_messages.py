"""What users read when intake refuses or changes a file: limits, macros, external links, a failed worker.

One place for these sentences so that the importer, the worker process and the queue say the same
thing in English and Spanish (``mel/locale/es/LC_MESSAGES/intake.po``).
"""

from __future__ import annotations

from mel.core.i18n import t
from mel.reports.parse_results import Issue


def too_large_issue(lang: str, sheet: str, max_cells: int) -> Issue:
    """``too_large`` (REPORT-FORMAT v1.1): a sheet whose real extent or cell count passes the limit."""
    if sheet:
        message = t(
            lang,
            "The sheet {sheet} is too large to read (more than {limit} cells from A1 to its last used cell): "
            "delete unused rows and columns, including far-away cells that hold only a stray value or "
            "formatting, and upload it again.",
            sheet=sheet,
            limit=f"{max_cells:,}",
        )
    else:
        message = t(
            lang,
            "The workbook is too large to read (more than {limit} cells in a sheet, or too much data): "
            "delete unused rows, columns and sheets and upload it again.",
            limit=f"{max_cells:,}",
        )
    return Issue("too_large", sheet, "", message)


def could_not_read_issue(lang: str, *, timed_out: bool) -> Issue:
    """``could_not_read``: the import worker ran out of time or memory, or died, on this file."""
    if timed_out:
        message = t(
            lang,
            "Reading this file took longer than the server allows: remove unneeded sheets, rows and "
            "formatting and upload it again, or send the file to your program officer.",
        )
    else:
        message = t(
            lang,
            "This file could not be read within the server's memory limit: remove unneeded sheets, rows "
            "and formatting and upload it again, or send the file to your program officer.",
        )
    return Issue("could_not_read", "", "", message)


def interrupted_issue(lang: str) -> Issue:
    """A job whose server stopped while it ran (a restart, a crash): nothing was stored."""
    return Issue(
        "could_not_read",
        "",
        "",
        t(lang, "The import was interrupted (the server restarted) and nothing was stored: upload the file again."),
    )


def macros_message(lang: str) -> str:
    return t(
        lang,
        "This workbook contains macros (a macro-enabled workbook, .xlsm): macros are not accepted. "
        "Save it as an Excel Workbook (.xlsx) and upload it again.",
    )


def external_links_warning(lang: str, count: int) -> Issue:
    """External links are removed from the stored copy; the values shown in the cells are kept."""
    return Issue(
        "external_links_removed",
        "",
        "",
        t(
            lang,
            "The workbook linked to other files ({count}): the links were removed from the stored copy; "
            "the values shown in the cells were kept.",
            count=count,
        ),
    )
