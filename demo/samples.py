"""The sample workbooks of imports/: filled templates, one file with mistakes, one measurement file.

The partner files are templates filled in the way a partner fills them (totals typed in the
pre-filled rows, rows by category added below, trainings and narrative typed in), so they also
show what a finished report looks like. scripts/make_sample_workbooks.py writes them; a test
checks that the committed files are what the current catalog gives. imports/README.md describes them.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.build import demo_partner_codes
from demo.history import quarterly_report
from demo.measurements import baseline, endline, midline
from demo.quarter_context import SPANISH_PARTNERS, Context
from mel.catalog.models import Partnership
from mel.workbooks.labels import indicator_headers, pillar_labels, section_labels, sheet_names, training_headers
from mel.workbooks.report_writer import IndicatorRow, Report, write_measurements
from mel.workbooks.spec import PartnerSpec, dimension_specs, partner_spec
from mel.workbooks.template import HEADER_ROW, render_template
from mel.workbooks.xlsx import reproducible_bytes

PERIOD = "2021Q3"
MISTAKES = "ilo-2021Q3-errores.xlsx"


def fill_template(spec: PartnerSpec, report: Report) -> Workbook:
    """The partner's template with ``report`` typed in."""
    lang = spec.lang
    wb = render_template(spec)
    names = sheet_names(lang)
    cover = wb[names["cover"]]
    cover["B5"] = report.prepared_by
    cover["B6"] = report.report_date

    ws = wb[names["indicators"]]
    header = [c.value for c in ws[HEADER_ROW]]
    heads = indicator_headers(lang)
    column = {h: i + 1 for i, h in enumerate(header) if h}
    total_row = {
        ws.cell(row=r, column=1).value: r for r in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(spec.indicators))
    }
    free = HEADER_ROW + 1 + len(spec.indicators)
    for item in report.indicators:
        if item.categories:
            row, free = free, free + 1
            ws.cell(row=row, column=1, value=item.code)
            for dim_code, cat in item.categories.items():
                dim = spec.dimensions[dim_code]
                ws.cell(row=row, column=column[dim.label], value=dim.label_of(cat))
        else:
            row = total_row[item.code]
        ws.cell(row=row, column=column[heads["value"]], value=item.value)
        if item.denominator is not None:
            ws.cell(row=row, column=column[heads["numerator"]], value=item.numerator)
            ws.cell(row=row, column=column[heads["denominator"]], value=item.denominator)
        if item.comment:
            ws.cell(row=row, column=column[heads["comment"]], value=item.comment)

    ws = wb[names["trainings"]]
    keys = list(training_headers(lang))
    pillars = pillar_labels(lang)
    for offset, training in enumerate(report.trainings):
        values = dataclasses.asdict(training)
        values["pillar"] = pillars[training.pillar]
        for dim_code in ("region", "modality", "institution"):
            values[dim_code] = spec.dimensions[dim_code].label_of(values[dim_code])
        for col, key in enumerate(keys, start=1):
            if values[key] is not None:
                ws.cell(row=HEADER_ROW + 1 + offset, column=col, value=values[key])

    ws = wb[names["narrative"]]
    sections = section_labels(lang)
    for offset, (section, text) in enumerate(report.narrative):
        ws.cell(row=HEADER_ROW + 1 + offset, column=1, value=sections[section])
        ws.cell(row=HEADER_ROW + 1 + offset, column=2, value=text)
    return wb


def with_mistakes(report: Report) -> Report:
    """The tutorial's three mistakes: a '1.250' count, 'Lima Metropolitana', a training dated in June."""
    rows: list[IndicatorRow] = []
    for row in report.indicators:
        if row.code == "3.1.a":
            if not row.categories:
                rows.append(IndicatorRow(row.code, "1.250"))
            continue
        if row.code == "1.b" and row.categories.get("region") == "lima":
            rows.append(IndicatorRow(row.code, row.value, {"region": "Lima Metropolitana"}))
            continue
        rows.append(row)
    trainings = list(report.trainings)
    trainings[0] = dataclasses.replace(trainings[0], start_date=trainings[0].start_date.replace(month=6, day=28))
    trainings[0].end_date = None
    return dataclasses.replace(report, indicators=rows, trainings=trainings)


def write_samples(session: Session, out: Path) -> list[str]:
    """Write every sample into ``out``; their file names."""
    written = []
    rng = random.Random(7)
    for code in demo_partner_codes(session):
        lang = "es" if code in SPANISH_PARTNERS else "en"
        spec = partner_spec(session, partner_code=code, period=PERIOD, lang=lang)
        report, _ = quarterly_report(Context(code, PERIOD, lang, rng), spec.indicators)
        name = f"{code}-{PERIOD}.xlsx"
        (out / name).write_bytes(reproducible_bytes(fill_template(spec, report)))
        written.append(name)
        if code == "ilo":
            spec_es = partner_spec(session, partner_code=code, period=PERIOD, lang="es")
            report_es, _ = quarterly_report(Context(code, PERIOD, "es", random.Random(8)), spec.indicators)
            wrong = fill_template(spec_es, with_mistakes(report_es))
            (out / MISTAKES).write_bytes(reproducible_bytes(wrong))
            written.append(MISTAKES)
    dims = dimension_specs(session, _partnership_id(session), "en")
    rows = baseline() + midline() + endline("en")
    (out / "measurements-peru-cpc.xlsx").write_bytes(write_measurements(rows, dims, "en"))
    written.append("measurements-peru-cpc.xlsx")
    return written


def _partnership_id(session: Session) -> int:
    found = session.scalar(select(Partnership.id).where(Partnership.code == "peru-cpc"))
    assert found is not None, "the peru-cpc catalog is not loaded"
    return found
