"""Checked workbooks built directly (no spreadsheet), to test storing apart from parsing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Partnership
from mel.reports.parse_results import ParsedMeasurement, ParsedNarrative, ParsedTraining, ParsedValue, ParsedWorkbook
from tests.value_factory import category_ids

Row = tuple[str, Mapping[str, str], float]


def _indicator_id(session: Session, partnership_id: int, code: str) -> int:
    found = session.scalar(
        select(Indicator.id).where(Indicator.partnership_id == partnership_id, Indicator.code == code)
    )
    assert found is not None, code
    return found


def parsed_report(
    session: Session,
    *,
    partner: str,
    period: str,
    values: list[Row],
    trainings: list[dict[str, object]] | None = None,
    narrative: list[tuple[str, str]] | None = None,
) -> ParsedWorkbook:
    p = session.scalars(select(Partner).where(Partner.code == partner)).one()
    partnership = p.partnership_id
    parsed_values = [
        ParsedValue(
            indicator_id=_indicator_id(session, partnership, code),
            indicator=code,
            categories=dict(cats),
            category_ids=frozenset(category_ids(session, partnership, cats)),
            value=float(number),
            comment=None,
            sheet="Indicators",
            cell=f"F{n + 5}",
        )
        for n, (code, cats, number) in enumerate(values)
    ]
    parsed_trainings = []
    for n, tr in enumerate(trainings or []):
        region, modality, institution = str(tr["region"]), str(tr["modality"]), str(tr["institution"])
        parsed_trainings.append(
            ParsedTraining(
                title=str(tr["title"]),
                start_date=tr["start_date"],  # type: ignore[arg-type]
                end_date=None,
                pillar=str(tr.get("pillar", "prosecution")),
                region=region,
                region_id=category_ids(session, partnership, {"region": region})[0],
                modality=modality,
                modality_id=category_ids(session, partnership, {"modality": modality})[0],
                institution=institution,
                institution_id=category_ids(session, partnership, {"institution": institution})[0],
                female=int(tr["female"]),  # type: ignore[call-overload]
                male=int(tr["male"]),  # type: ignore[call-overload]
                other=0,
                under_18=None,
                hours=8.0,
                pre_score=None,
                post_score=None,
                sheet="Trainings",
                row=n + 5,
            )
        )
    return ParsedWorkbook(
        kind="quarterly_report",
        lang="en",
        partnership_id=partnership,
        partner_id=p.id,
        partner=partner,
        period=period,
        values=parsed_values,
        trainings=parsed_trainings,
        narrative=[ParsedNarrative(s, t) for s, t in narrative or []],
    )


def training(title: str, start: dt.date, institution: str, female: int, male: int) -> dict[str, object]:
    return {
        "title": title,
        "start_date": start,
        "region": "cusco",
        "modality": "virtual",
        "institution": institution,
        "female": female,
        "male": male,
    }


def parsed_measurements(
    session: Session, rows: list[tuple[str, str, str, Mapping[str, str], float]], partnership: str = "peru-cpc"
) -> ParsedWorkbook:
    """(indicator, round, date, categories, value) rows of an evaluator's workbook."""
    found = session.scalars(select(Partnership.id).where(Partnership.code == partnership)).one()
    return ParsedWorkbook(
        kind="measurements",
        lang="en",
        partnership_id=found,
        measurements=[
            ParsedMeasurement(
                indicator_id=_indicator_id(session, found, code),
                indicator=code,
                round=rnd,
                date=date,
                categories=dict(cats),
                category_ids=frozenset(category_ids(session, found, cats)),
                value=float(number),
                source="survey",
                comparable=True,
                note=None,
                sheet="Measurements",
                cell=f"E{n + 2}",
            )
            for n, (code, rnd, date, cats, number) in enumerate(rows)
        ],
    )
