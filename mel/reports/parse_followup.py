"""The Follow-up (Seguimiento) sheet of a quarterly report: trained people met again months later.

One row per earlier training event (title and start date, as reported on its Trainings sheet) or
per institution and training quarter: how many participants were reached N months later, how many
are still in post and how many report applying what they learned. Counts only: names and
documents are personal data and refused like on every sheet.
"""

from __future__ import annotations

from typing import Any

from mel.core.i18n import t
from mel.core.periods import parse_quarter, quarter_end
from mel.core.text import norm
from mel.reports.messages import report_specials, report_value
from mel.reports.numbers import NOT_REPORTED, display, read_count, read_date
from mel.reports.parse_context import Context, unknown_category
from mel.reports.parse_results import ParsedFollowUp
from mel.reports.parse_trainings import _date_error
from mel.reports.tables import blank, empty_row, locate, missing_column
from mel.reports.vocab import FOLLOWUP_COLUMNS, REQUIRED_FOLLOWUP
from mel.workbooks.book import Sheet, cell_name
from mel.workbooks.labels import followup_headers

_COUNTS = ("months", "participants", "reached", "in_post", "applying")


def parse_followup(ctx: Context, sheet: Sheet) -> list[ParsedFollowUp]:
    """Every valid row; each problem is an error in the contract's style (sheet, cell, what to change)."""
    issues, lang = ctx.issues, ctx.lang
    table = locate(sheet, FOLLOWUP_COLUMNS, "reached", issues)
    heads = followup_headers(lang)
    missing = [f for f in REQUIRED_FOLLOWUP if f not in table.columns]
    if "title" not in table.columns and "training_period" not in table.columns:
        missing.append("title")
    for name in missing:
        missing_column(issues, table, heads[name])
    if missing:
        return []
    cols, name, specials = table.columns, sheet.name, sheet.special
    start = table.header_row + 1
    checked = {cols[f] for f in (*_COUNTS, "start_date") if f in cols}
    bad_rows = report_specials(issues, name, specials, start, set(cols.values()) - checked) if specials else set()
    institutions = ctx.framework.dimension("institution") if ctx.framework else None
    last_day = quarter_end(ctx.period) if ctx.period else None
    out: list[ParsedFollowUp] = []
    for offset, row in enumerate(table.data_rows()):
        r = start + offset
        if empty_row(row, list(cols.values()), r, specials):
            continue
        ok = r not in bad_rows

        def get(field_: str) -> Any:
            return row[cols[field_]] if field_ in cols else ""  # noqa: B023

        def cell(field_: str) -> str:
            return cell_name(r, cols[field_])  # noqa: B023

        def special(field_: str) -> Any:
            return specials.get((r, cols[field_])) if specials and field_ in cols else None  # noqa: B023

        title = None if blank(get("title")) else str(get("title")).strip()
        start_date = None
        if "start_date" in cols:
            start_date, code = read_date(get("start_date"), special("start_date"))
            if code:
                _date_error(ctx, name, cell("start_date"), code, get("start_date"), special("start_date"))
                ok = False
            elif start_date is not None and last_day is not None and start_date > last_day:
                issues.error(
                    "date_outside_period",
                    name,
                    cell("start_date"),
                    t(
                        lang,
                        "The training started on {date}, after this report's quarter {period}: a follow-up "
                        "comes after the training; correct the date.",
                        date=start_date.isoformat(),
                        period=ctx.period,
                    ),
                )
                ok = False
        training_period = None
        if not blank(get("training_period")):
            training_period = parse_quarter(display(get("training_period")))
            if training_period is None or (ctx.period is not None and training_period > ctx.period):
                issues.error(
                    "bad_period",
                    name,
                    cell("training_period"),
                    t(
                        lang,
                        "{value} is not a quarter before this report's: write the training's quarter, such as 2020Q3.",
                        value=display(get("training_period")),
                    ),
                )
                ok = False
        if title is None and training_period is None and ok:
            where = cell("title") if "title" in cols else cell("training_period")
            issues.error(
                "missing_value",
                name,
                where,
                t(lang, "Write the title and start date of the training, or the quarter and institution trained."),
            )
            ok = False
        institution = None
        if not blank(get("institution")):
            institution = institutions.categories.get(norm(display(get("institution")))) if institutions else None
            if institution is None:
                label = institutions.label(lang) if institutions else heads["institution"]
                choices = institutions.choices(lang) if institutions else "-"
                unknown_category(ctx, name, cell("institution"), get("institution"), label, choices)
                ok = False
        counts: dict[str, int | None] = {}
        for field_ in _COUNTS:
            counts[field_] = None
            if field_ not in cols:
                continue
            number, code = read_count(get(field_), special(field_))
            if code and code != NOT_REPORTED:
                report_value(issues, code, name, cell(field_), get(field_), special=special(field_))
                ok = False
            elif number is None and field_ != "participants" and ok:
                issues.error(
                    "missing_value",
                    name,
                    cell(field_),
                    t(lang, "Write a whole number here (0 when there were none)."),
                )
                ok = False
            counts[field_] = int(number) if number is not None else None
        if not ok:
            continue
        months, reached, in_post, applying = (counts[f] or 0 for f in ("months", "reached", "in_post", "applying"))
        participants = counts["participants"]
        if months <= 0:
            issues.error(
                "out_of_range",
                name,
                cell("months"),
                t(lang, "Write how many months after the training the follow-up was made: 1 or more."),
            )
            continue
        limits = [("in_post", in_post, reached), ("applying", applying, reached)]
        if participants is not None:
            limits.append(("reached", reached, participants))
        for field_, number, ceiling in limits:
            if number > ceiling:
                issues.error(
                    "out_of_range",
                    name,
                    cell(field_),
                    t(
                        lang,
                        "{value} is more than {limit} ({what}): correct one of the two numbers.",
                        value=number,
                        limit=ceiling,
                        what=heads["participants"] if field_ == "reached" else heads["reached"],
                    ),
                )
                ok = False
        if not ok:
            continue
        out.append(
            ParsedFollowUp(
                title=title,
                start_date=start_date,
                training_period=training_period,
                institution=institution.code if institution else None,
                institution_id=institution.id if institution else None,
                months=months,
                participants=participants,
                reached=reached,
                in_post=in_post,
                applying=applying,
                sheet=name,
                row=r + 1,
            )
        )
    return out
