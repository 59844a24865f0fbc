"""The Trainings and Narrative sheets of a quarterly report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mel.core.i18n import t
from mel.core.periods import quarter_end, quarter_start
from mel.core.text import norm
from mel.reports.matching import DimensionInfo
from mel.reports.messages import report_specials, report_value
from mel.reports.numbers import NOT_REPORTED, display, plain, read_count, read_date, read_number, read_percent
from mel.reports.parse_context import Context, unknown_category
from mel.reports.parse_results import ParsedNarrative, ParsedTraining
from mel.reports.tables import blank, empty_row, locate, missing_column
from mel.reports.vocab import NARRATIVE_COLUMNS, PILLARS, REQUIRED_TRAINING, SECTIONS, TRAINING_COLUMNS
from mel.workbooks.book import Sheet, cell_name
from mel.workbooks.labels import narrative_headers, pillar_labels, section_labels, training_headers

_SELF_CHECKED = (
    "start_date",
    "end_date",
    "female",
    "male",
    "other",
    "under_18",
    "hours",
    "pre_score",
    "post_score",
    "repeat",
)
"""Columns whose readers report formula-without-value and error cells themselves."""


def parse_trainings(ctx: Context, sheet: Sheet) -> list[ParsedTraining]:
    issues, lang = ctx.issues, ctx.lang
    table = locate(sheet, TRAINING_COLUMNS, "title", issues)
    heads = training_headers(lang)
    missing = [f for f in REQUIRED_TRAINING if f not in table.columns]
    for field_ in missing:
        missing_column(issues, table, heads[field_])
    if missing:
        return []
    name = sheet.name
    cols = table.columns
    start = table.header_row + 1
    specials = sheet.special
    self_checked = {cols[f] for f in _SELF_CHECKED if f in cols}
    bad_rows = report_specials(issues, name, specials, start, set(cols.values()) - self_checked) if specials else set()
    fw = ctx.framework
    dims: dict[str, DimensionInfo | None] = {
        d: fw.dimension(d) if fw else None for d in ("region", "modality", "institution")
    }
    pillar_names = pillar_labels(lang)
    allowed_pillars = fw.pillars if fw and fw.pillars else list(pillar_names)
    period = ctx.period
    first_day, last_day = (quarter_start(period), quarter_end(period)) if period else (None, None)
    recognized = list(cols.values())
    trainings: list[ParsedTraining] = []

    for offset, row in enumerate(table.data_rows()):
        r = start + offset
        if empty_row(row, recognized, r, specials):
            continue
        ok = r not in bad_rows

        def cell(field_: str) -> str:
            return cell_name(r, cols[field_])  # noqa: B023

        def special(field_: str) -> Any:
            return specials.get((r, cols[field_])) if specials and field_ in cols else None  # noqa: B023

        def get(field_: str) -> Any:
            return row[cols[field_]] if field_ in cols else ""  # noqa: B023

        title = get("title")
        if blank(title):
            if r not in bad_rows:
                issues.error(
                    "missing_value",
                    name,
                    cell("title"),
                    t(lang, "The training has no title: write the title of the event in this cell."),
                )
            ok = False

        start_date, code = read_date(get("start_date"), special("start_date"))
        if code:
            _date_error(ctx, name, cell("start_date"), code, get("start_date"), special("start_date"))
            ok = False
        elif start_date is None:
            issues.error(
                "bad_date",
                name,
                cell("start_date"),
                t(lang, "Write the start date of the training, such as 2021-08-12."),
            )
            ok = False
        elif first_day is not None and last_day is not None and not first_day <= start_date <= last_day:
            issues.error(
                "date_outside_period",
                name,
                cell("start_date"),
                t(
                    lang,
                    "The training started on {date}, outside {period} ({first} to {last}): report it in the "
                    "quarter in which it started, or correct the date.",
                    date=start_date.isoformat(),
                    period=period,
                    first=first_day.isoformat(),
                    last=last_day.isoformat(),
                ),
            )
            ok = False
        end_date: dt.date | None = None
        if "end_date" in cols:
            end_date, code = read_date(get("end_date"), special("end_date"))
            if code:
                _date_error(ctx, name, cell("end_date"), code, get("end_date"), special("end_date"))
                ok = False
            elif end_date is not None and start_date is not None and end_date < start_date:
                issues.error(
                    "bad_date",
                    name,
                    cell("end_date"),
                    t(
                        lang,
                        "The end date {end} is before the start date {start}: correct one of them.",
                        end=end_date.isoformat(),
                        start=start_date.isoformat(),
                    ),
                )
                ok = False

        pillar = PILLARS.get(norm(get("pillar")))
        if pillar is None or pillar not in allowed_pillars:
            if r not in bad_rows:
                choices = ", ".join(pillar_names[p] for p in allowed_pillars)
                unknown_category(ctx, name, cell("pillar"), get("pillar"), t(lang, "pillar"), choices)
            ok = False
        found: dict[str, tuple[str, int]] = {}
        for dim_code in ("region", "modality", "institution"):
            dim = dims[dim_code]
            category = dim.categories.get(norm(display(get(dim_code)))) if dim and not blank(get(dim_code)) else None
            if category is None:
                if r not in bad_rows:
                    label = dim.label(lang) if dim else heads[dim_code]
                    unknown_category(ctx, name, cell(dim_code), get(dim_code), label, dim.choices(lang) if dim else "-")
                ok = False
            else:
                found[dim_code] = (category.code, category.id)

        counts: dict[str, int | None] = {}
        for field_ in ("female", "male", "other", "under_18", "repeat"):
            if field_ not in cols:
                counts[field_] = None
                continue
            raw = get(field_)
            number, code = read_count(raw, special(field_))
            if code and code != NOT_REPORTED:
                report_value(issues, code, name, cell(field_), raw, special=special(field_))
                ok = False
            counts[field_] = int(number) if number is not None else None
        if all(counts[f] is None for f in ("female", "male", "other")) and ok:
            issues.error(
                "missing_value",
                name,
                cell("female"),
                t(lang, "Write the number of participants of this row (women and men; 0 when there were none)."),
            )
            ok = False
        female, male, other = (counts[f] or 0 for f in ("female", "male", "other"))
        under_18 = counts["under_18"]
        if under_18 is not None and under_18 > female + male + other:
            issues.error(
                "out_of_range",
                name,
                cell("under_18"),
                t(
                    lang,
                    "{value} participants under 18 are more than the {people} participants of this row: correct "
                    "the number.",
                    value=under_18,
                    people=female + male + other,
                ),
            )
            ok = False
        repeat = counts["repeat"]
        if repeat is not None and repeat > female + male + other:
            issues.error(
                "out_of_range",
                name,
                cell("repeat"),
                t(
                    lang,
                    "{value} repeat participants are more than the {people} participants of this row: write how "
                    "many of them the project had trained before.",
                    value=repeat,
                    people=female + male + other,
                ),
            )
            ok = False

        hours: float | None = None
        if "hours" in cols:
            hours, code, _percent = read_number(get("hours"), special("hours"), scale_percent=False)
            if code and code != NOT_REPORTED:
                report_value(issues, code, name, cell("hours"), get("hours"), special=special("hours"))
                ok = False
            elif hours is not None and hours <= 0:
                issues.error(
                    "negative_value" if hours < 0 else "out_of_range",
                    name,
                    cell("hours"),
                    t(lang, "{value} hours: write the duration in hours, a number greater than 0.", value=plain(hours)),
                )
                ok = False
            if code:
                hours = None
        scores: dict[str, float | None] = {}
        for field_ in ("pre_score", "post_score"):
            scores[field_] = None
            if field_ in cols:
                score, code = read_percent(get(field_), special(field_))
                if code and code != NOT_REPORTED:
                    report_value(issues, code, name, cell(field_), get(field_), unit="percent", special=special(field_))
                    ok = False
                scores[field_] = score

        if not ok or start_date is None or pillar is None or len(found) < 3:
            continue
        trainings.append(
            ParsedTraining(
                title=str(title).strip(),
                start_date=start_date,
                end_date=end_date,
                pillar=pillar,
                region=found["region"][0],
                region_id=found["region"][1],
                modality=found["modality"][0],
                modality_id=found["modality"][1],
                institution=found["institution"][0],
                institution_id=found["institution"][1],
                female=female,
                male=male,
                other=other,
                under_18=under_18,
                hours=hours,
                pre_score=scores["pre_score"],
                post_score=scores["post_score"],
                repeat=repeat,
                sheet=name,
                row=r + 1,
            )
        )
    return trainings


def _date_error(ctx: Context, sheet: str, cell: str, code: str, raw: Any, special: Any) -> None:
    if code == "bad_date":
        ctx.issues.error(
            "bad_date",
            sheet,
            cell,
            t(ctx.lang, "{value} is not a date: write it as 2021-08-12 or 12/08/2021 (day first).", value=display(raw)),
        )
    else:
        report_value(ctx.issues, code, sheet, cell, raw, special=special)


def parse_narrative(ctx: Context, sheet: Sheet) -> list[ParsedNarrative]:
    issues, lang = ctx.issues, ctx.lang
    table = locate(sheet, NARRATIVE_COLUMNS, "section", issues)
    heads = narrative_headers(lang)
    missing = [f for f in ("section", "text") if f not in table.columns]
    for field_ in missing:
        missing_column(issues, table, heads[field_])
    if missing:
        return []
    sc, tc = table.columns["section"], table.columns["text"]
    start = table.header_row + 1
    bad_rows = report_specials(issues, sheet.name, sheet.special, start, {sc, tc}) if sheet.special else set()
    labels = section_labels(lang)
    entries: list[ParsedNarrative] = []
    for offset, row in enumerate(table.data_rows()):
        r = start + offset
        raw_section, raw_text = row[sc], row[tc]
        if r in bad_rows or empty_row(row, [sc, tc], r, sheet.special):
            continue
        section = SECTIONS.get(norm(raw_section)) if not blank(raw_section) else None
        if section is None:
            unknown_category(
                ctx, sheet.name, cell_name(r, sc), raw_section, t(lang, "section"), ", ".join(labels.values())
            )
            continue
        if blank(raw_text):
            issues.info(
                "ignored_row",
                sheet.name,
                cell_name(r, tc),
                t(lang, "The row has a section but no text and was ignored."),
            )
            continue
        entries.append(ParsedNarrative(section, str(raw_text).strip()))
    return entries
