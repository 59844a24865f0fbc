"""Pre-filled templates: a read-only reference sheet with targets, values to date, last quarter,
open queries and return comments, which the importer ignores."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator
from mel.core.audit import CLI
from mel.core.settings import Settings
from mel.reports.models import Value
from mel.reports.queries_values import ask_query
from mel.reports.review import review_submission
from mel.reports.service import import_workbook
from mel.results.disclosure import operator
from mel.results.prefill import build_template
from mel.workbooks.labels import indicator_headers, sheet_names
from mel.workbooks.prefill import sheet_name
from mel.workbooks.template import HEADER_ROW
from tests.value_factory import add_submission

PERIOD = "2021Q3"
CATALOG = Path(__file__).resolve().parents[1] / "indicators" / "peru-cpc.yaml"


def history(session: Session) -> None:
    """CHS: two approved quarters, then a returned 2021Q3 with an open query on 2.2.a."""
    add_submission(
        session, partner="chs", period="2021Q1", values=[("2.2.a", {}, 10.0), ("2.1.a", {}, 20.0), ("2.a", {}, 7.0)]
    )
    add_submission(
        session, partner="chs", period="2021Q2", values=[("2.2.a", {}, 15.0), ("2.1.a", {}, 30.0), ("2.a", {}, 2.0)]
    )
    current = add_submission(session, partner="chs", period=PERIOD, values=[("2.2.a", {}, 99.0)], status="submitted")
    value_id = session.scalar(select(Value.id).where(Value.submission_id == current.id))
    assert value_id is not None
    ask_query(session=session, value_id=value_id, question="99 is far above your usual 10-15: please check.", actor=CLI)
    review_submission(
        session=session, submission_id=current.id, action="returned", comment="Please check 2.2.a.", actor=CLI
    )
    session.commit()


def reference_rows(data: bytes, lang: str) -> list[tuple[object, ...]]:
    wb = load_workbook(io.BytesIO(data))
    names = wb.sheetnames
    assert names.index(sheet_name(lang)) == names.index(sheet_names(lang)["instructions"]) + 1
    ws = wb[sheet_name(lang)]
    assert ws.protection.sheet
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def targets(code: str) -> dict[str, float]:
    """The catalog's targets of an indicator, read from the YAML itself."""
    for ind in yaml.safe_load(CATALOG.read_text())["indicators"]:
        if ind["code"] == code:
            target = ind.get("target") or {}
            return {"": target.get("value"), **target.get("fiscal_years", {})}
    raise AssertionError(code)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_reference_sheet_carries_targets_values_queries_and_returns(session: Session, lang: str) -> None:
    history(session)
    rows = reference_rows(build_template(session=session, partner_code="chs", period=PERIOD, lang=lang), lang)
    by_code = {r[0]: r for r in rows if r[0] in ("2.a", "2.1.a", "2.2.a")}
    # 2.1.a: FY2021 and life-of-partnership targets; 20 + 30 to date, 30 last quarter
    expected = targets("2.1.a")
    assert by_code["2.1.a"][3:7] == (expected["FY2021"], expected[""], 50, 30)
    assert by_code["2.2.a"][5:7] == (25, 15)  # the returned 2021Q3 (99) does not count
    # 2.a is sensitive: last quarter's 2 is withheld, and with it the value to date (7 + 2)
    assert by_code["2.a"][5:7] == ("x", "<5")
    flat = [str(v) for r in rows for v in r if v is not None]
    assert "99 is far above your usual 10-15: please check." in flat
    assert "Please check 2.2.a." in flat
    instructions = load_workbook(
        io.BytesIO(build_template(session=session, partner_code="chs", period=PERIOD, lang=lang))
    )[sheet_names(lang)["instructions"]]
    notes = [str(c) for row in instructions.iter_rows(values_only=True) for c in row if c]
    assert sheet_name(lang) in notes
    assert any(("ignores it" if lang == "en" else "la importación la ignora") in n for n in notes)


def test_staff_template_shows_small_counts(session: Session) -> None:
    history(session)
    rows = reference_rows(
        build_template(session=session, partner_code="chs", period=PERIOD, viewer=operator(suppress=False)), "en"
    )
    assert next(r for r in rows if r[0] == "2.a")[5:7] == (9, 2)


def _fill(data: bytes, lang: str, numbers: dict[str, int]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet_names(lang)["indicators"]]
    header = [c.value for c in ws[HEADER_ROW]]
    value_col = header.index(indicator_headers(lang)["value"]) + 1
    for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(numbers) + 5):
        code = ws.cell(row=row, column=1).value
        if code in numbers:
            ws.cell(row=row, column=value_col, value=numbers[code])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_prefilled_template_reimports_unchanged(session: Session, settings: Settings, lang: str) -> None:
    history(session)
    numbers = {"2.a": 3, "2.1.a": 41, "2.2.a": 14}
    prefilled = build_template(session=session, partner_code="chs", period=PERIOD, lang=lang)
    blank = build_template(session=session, partner_code="chs", period=PERIOD, lang=lang, prefill=False)
    assert sheet_name(lang) not in load_workbook(io.BytesIO(blank)).sheetnames
    results = [
        import_workbook(
            session=session,
            data=_fill(data, lang, numbers),
            filename=f"{name}.xlsx",
            settings=settings,
            partner_code="chs",
            period=PERIOD,
            lang=lang,
            dry_run=True,
        )
        for name, data in (("prefilled", prefilled), ("blank", blank))
    ]
    for result in results:
        assert result.errors == [] and result.status == "accepted"
    got = {(v.indicator, tuple(sorted(v.categories.items())), v.value) for v in results[0].values}
    assert got == {(code, (), float(n)) for code, n in numbers.items()}
    assert got == {(v.indicator, tuple(sorted(v.categories.items())), v.value) for v in results[1].values}
    ignored = [i for i in results[0].infos if i.code == "ignored_sheet"]
    assert sheet_name(lang) in {i.sheet for i in ignored}

    # stored for real, the numbers are the ones typed, not the reference sheet's
    stored = import_workbook(
        session=session,
        data=_fill(prefilled, lang, numbers),
        filename="prefilled.xlsx",
        settings=settings,
        partner_code="chs",
        period=PERIOD,
        lang=lang,
    )
    session.commit()
    assert stored.status == "accepted"
    rows = session.execute(
        select(Indicator.code, Value.value)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.period == PERIOD, Value.sheet == sheet_names(lang)["indicators"])
    ).all()
    assert {(code, value) for code, value in rows} >= {(code, float(n)) for code, n in numbers.items()}
