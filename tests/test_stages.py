"""Stage indicators, new and repeat participants, training follow-up: catalog, import, storage, figures, pages.

Workbooks are written with the same writer the demo uses and go through the real importer; expected
numbers are computed here from the rows written, not read back from the code under test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.models import Indicator, Partnership
from mel.catalog.stages import Scale
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.quality.training_consistency import training_consistency
from mel.reports.import_result import ImportResult
from mel.reports.models import Submission, TrainingAttendance, TrainingFollowUp
from mel.reports.service import import_workbook
from mel.results.counting import Scope
from mel.results.figure_change import change_of
from mel.results.figures import measures
from mel.results.followup import followup_rates
from mel.results.participants import new_and_repeat
from mel.results.training_filters import TrainingFilter
from mel.workbooks.report_writer import FollowUpRow, IndicatorRow, Report, TrainingRow, write_report
from mel.workbooks.spec import dimension_specs
from tests.catalog_factory import refusal
from tests.html_soup import soup

STAGE_YAML = """\
partnership: {code: t, name: T, country: PE, starts_on: 2020-01-01, ends_on: 2022-12-31}
partners: [{code: a, name: A}]
dimensions:
  region:
    label: {en: Region, es: Región}
    categories: [{code: lima, en: Lima, es: Lima}]
results: [{code: "1", level: outcome, statement: S}]
indicators:
  - code: s.1
    result: "1"
    unit: stage
    aggregation: latest
    direction: increase
    name: A stage
    levels:
      - {code: drafted, en: Drafted, es: Elaborado, aliases: [draft]}
      - {code: approved, en: Approved, es: Aprobado, aliases: [draft]}
    target: {value: 3}
"""


def test_catalog_refuses_duplicate_level_names_and_a_target_beyond_the_levels(tmp_path: Path) -> None:
    problems = "\n".join(refusal(tmp_path, STAGE_YAML))
    assert "indicators.s.1.levels.2: name 'draft' is also used by level 'drafted'" in problems
    assert "indicators.s.1.target.value: write a level number, 1 to 2" in problems


def test_catalog_refuses_levels_on_a_count_and_a_stage_without_levels(tmp_path: Path) -> None:
    text = STAGE_YAML.replace(
        "aliases: [draft]}\n    target: {value: 3}", "aliases: [aprobada]}\n    target: {value: 2}"
    )
    text = text.replace("unit: stage", "unit: count")
    assert any("only a stage indicator (unit: stage) has levels" in p for p in refusal(tmp_path, text))
    one_level = STAGE_YAML.split("      - {code: approved")[0] + "    target: {value: 1}\n"
    assert any("a stage indicator needs two or more levels" in p for p in refusal(tmp_path, one_level))


def test_scale_reads_names_aliases_and_numbers() -> None:
    scale = Scale.of(
        [
            {"code": "drafted", "en": "Drafted", "es": "Elaborada", "aliases": ["borrador"]},
            {"code": "approved", "en": "Approved", "es": "Aprobada"},
        ]
    )
    assert scale is not None
    found = [scale.find(x) for x in ("drafted", "ELABORADA", "borrador", 2.0, "2", "Aprobada ")]
    assert [lv.number if lv else None for lv in found] == [1, 1, 1, 2, 2, 2]
    assert scale.find(3) is None and scale.find("funded") is None and scale.find(1.5) is None


def _partnership(session: Session) -> Partnership:
    return session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()


def _import(
    factory: sessionmaker[Session], settings: Settings, report: Report, lang: str = "en", dry_run: bool = False
) -> ImportResult:
    with transaction(factory) as session:
        dims = dimension_specs(session, _partnership(session).id, lang)
        data = write_report(report, dims, lang)
        return import_workbook(
            session=session, data=data, filename="r.xlsx", settings=settings, lang=lang, dry_run=dry_run
        )


@pytest.mark.parametrize("lang", ["en", "es"])
def test_import_accepts_level_names_aliases_and_numbers(
    session_factory: sessionmaker[Session], settings: Settings, lang: str
) -> None:
    rows = [
        IndicatorRow("4.1.c", "Aprobada" if lang == "es" else "approved"),
        IndicatorRow("1.d", "básico", {"region": "lima"}),  # an alias
        IndicatorRow("1.d", 3, {"region": "cusco"}),  # a number
        IndicatorRow("4.1.d", "Applied", {"region": "loreto"}),  # the English name in a Spanish report too
    ]
    result = _import(session_factory, settings, Report("ilo", "2021Q4", rows), lang)
    assert result.status == "accepted", [e.message for e in result.errors]
    got = {(v.indicator, tuple(v.categories.values())): v.value for v in result.values}
    assert got == {("4.1.c", ()): 2, ("1.d", ("lima",)): 2, ("1.d", ("cusco",)): 3, ("4.1.d", ("loreto",)): 4}


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "is not a stage of indicator 1.d"), ("es", "no es una etapa del indicador 1.d")],
)
def test_import_refuses_what_names_no_level_in_both_languages(
    session_factory: sessionmaker[Session], settings: Settings, lang: str, words: str
) -> None:
    rows = [IndicatorRow("1.d", "excellent", {"region": "lima"}), IndicatorRow("1.d", 5, {"region": "cusco"})]
    result = _import(session_factory, settings, Report("ilo", "2021Q4", rows), lang)
    assert result.status == "rejected"
    stage_errors = [e for e in result.errors if e.code == "unknown_stage"]
    assert [e.cell for e in stage_errors] == ["C2", "C3"]
    assert all(words in e.message for e in stage_errors)
    assert ("Básica" if lang == "es" else "Basic") in stage_errors[0].message  # the levels are listed
    with transaction(session_factory) as session:
        assert session.scalar(select(Submission.id).where(Submission.period == "2021Q4")) is None


def test_stage_measures_are_reached_or_not_never_a_percent(session: Session) -> None:
    ind = session.scalars(select(Indicator).where(Indicator.code == "1.d")).one()
    reached = measures(ind, 3.0, baseline=1.0, target=3.0, expected=2.0)
    assert (reached.status, reached.pct_of_target, reached.progress_pct, reached.deviation) == (
        "reached",
        None,
        None,
        None,
    )
    assert measures(ind, 2.0, baseline=1.0, target=3.0).status == "not_reached"
    assert measures(ind, None, baseline=1.0, target=3.0).status == "no_data"
    moved = change_of(ind, 3.0, 2.0)
    assert (moved.change, moved.change_unit, moved.percent_change, moved.trend) == (-1.0, "count", None, "worsened")


def _training(institution: str, female: int, male: int, repeat: int | None) -> TrainingRow:
    return TrainingRow(
        title="Oral litigation",
        start_date=dt.date(2020, 8, 12),
        pillar="prosecution",
        region="cusco",
        modality="virtual",
        institution=institution,
        female=female,
        male=male,
        repeat=repeat,
    )


def test_new_and_repeat_participants_and_the_new_only_flag(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    trainings = [_training("mpfn", 10, 6, 4), _training("pnp", 3, 9, 12), _training("judiciary", 5, 0, None)]
    new = (16 - 4) + (12 - 12)
    rows = [
        IndicatorRow("1.1.a", 16 + 12 + 5),
        IndicatorRow("1.1.c", new),
        IndicatorRow("1.1.c", 12, {"institution": "mpfn"}),
    ]
    result = _import(session_factory, settings, Report("ilo", "2020Q3", rows, trainings=trainings))
    assert result.status == "accepted", [e.message for e in result.errors]
    assert [t.repeat for t in result.trainings] == [4, 12, None]
    with transaction(session_factory) as session:
        session.execute(update(Submission).values(status="approved"))
        partnership = _partnership(session)
        filt = TrainingFilter(partnership.id, Scope())
        (overall,) = new_and_repeat(session, filt)
        assert (overall.participants, overall.repeat, overall.new, overall.unrecorded) == (33, 16, 12, 5)
        by_inst = {r.bucket.code: (r.new, r.repeat) for r in new_and_repeat(session, filt, "institution")}
        assert by_inst == {"mpfn": (12, 4), "pnp": (0, 12), "judiciary": (0, 0)}
        checks = {
            r.indicator: (r.reported, r.trained) for r in training_consistency(session, partnership_id=partnership.id)
        }
        # 1.1.c counts new participants only: the judiciary row recorded no repeat, so all 5 count as new
        assert checks["1.1.c"] == (new, new + 5)
        assert checks["1.1.a"] == (33, 33)


def test_import_refuses_more_repeat_than_participants(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    report = Report("ilo", "2020Q3", [], trainings=[_training("mpfn", 2, 1, 4)])
    result = _import(session_factory, settings, report, dry_run=True)
    assert [(e.code, e.sheet) for e in result.errors] == [("out_of_range", "Trainings")]


def test_followup_rates_pool_counts_across_events(session_factory: sessionmaker[Session], settings: Settings) -> None:
    trainings = [_training("mpfn", 10, 10, 0)]
    first = _import(session_factory, settings, Report("ilo", "2020Q3", [], trainings=trainings))
    assert first.status == "accepted"
    follow = [
        FollowUpRow("Oral litigation", dt.date(2020, 8, 12), "mpfn", 6, 20, 10, 9, 8),
        FollowUpRow("Another course", dt.date(2020, 5, 2), None, 6, 100, 90, 45, 30),
    ]
    second = _import(session_factory, settings, Report("ilo", "2021Q1", [], followups=follow), "es")
    assert second.status == "accepted", [e.message for e in second.errors]
    assert [f.reached for f in second.followups] == [10, 90]
    with transaction(session_factory) as session:
        session.execute(update(Submission).values(status="approved"))
        rates = followup_rates(session, TrainingFilter(_partnership(session).id, Scope()))
        assert (rates.reached, rates.in_post, rates.applying) == (100, 54, 38)
        assert rates.retention_pct == pytest.approx(54.0)  # pooled: not (90 % + 50 %) / 2
        assert rates.application_pct == pytest.approx(38.0)
        assert session.scalar(select(TrainingFollowUp.sheet).limit(1)) == "Seguimiento"


def test_followup_refuses_more_in_post_than_reached(session_factory: sessionmaker[Session], settings: Settings) -> None:
    follow = [FollowUpRow("Course", dt.date(2020, 8, 12), None, 6, 20, 10, 11, 3)]
    result = _import(session_factory, settings, Report("ilo", "2021Q1", [], followups=follow), dry_run=True)
    assert [(e.code, e.sheet) for e in result.errors] == [("out_of_range", "Follow-up")]


def test_stored_repeat_respects_the_row_check(session_factory: sessionmaker[Session], settings: Settings) -> None:
    result = _import(session_factory, settings, Report("ilo", "2020Q3", [], trainings=[_training("mpfn", 3, 3, 6)]))
    assert result.status == "accepted"
    with transaction(session_factory) as session:
        assert session.scalar(select(TrainingAttendance.repeat)) == 6


def _stage_history(factory: sessionmaker[Session], settings: Settings) -> None:
    years = {"2020Q4": {"lima": 2, "cusco": 1, "loreto": 2}, "2021Q4": {"lima": 3, "cusco": 3, "loreto": 1}}
    for period, stages in years.items():
        rows = [IndicatorRow("1.d", n, {"region": r}) for r, n in stages.items()]
        assert _import(factory, settings, Report("ilo", period, rows)).status == "accepted"
    with transaction(factory) as session:
        session.execute(update(Submission).values(status="approved"))


@pytest.mark.parametrize(("lang", "stage"), [("en", "Established"), ("es", "Consolidada")])
def test_indicator_page_shows_distribution_and_movement(
    session_factory: sessionmaker[Session], settings: Settings, client: TestClient, login_as: Any, lang: str, stage: str
) -> None:
    _stage_history(session_factory, settings)
    client = login_as(client, "evaluator")
    page = soup(client.get(f"/p/peru-cpc/indicators/1.d?lang={lang}").text)
    counts = {tr["data-level"]: int(tr["data-count"]) for tr in page.select("table.stage-distribution tr.stage-level")}
    assert counts == {"initial": 1, "basic": 0, "established": 2, "advanced": 0}
    assert stage in page.select_one("tr[data-level=established]").get_text()
    moved = page.select_one("p.movement")
    assert (moved["data-up"], moved["data-down"], moved["data-same"]) == ("2", "1", "0")
    assert page.select_one("p.at-target-share")["data-at-target"] == "2"
    # ranks are not drawn as amounts: the explorer keeps its table of level names, without bars
    assert page.select_one("#explorer-data") is None and page.select_one("table.breakdown") is not None
    iptt = soup(client.get(f"/p/peru-cpc/iptt?lang={lang}&granularity=fy").text)
    assert stage in iptt.get_text()  # IPTT cells show the level's name


def test_partner_user_sees_only_its_own_stages(
    session_factory: sessionmaker[Session], settings: Settings, client: TestClient, login_as: Any
) -> None:
    _stage_history(session_factory, settings)
    page = soup(login_as(client, "partner", partner="aba-roli").get("/p/peru-cpc/indicators/1.d").text)
    counts = [int(tr["data-count"]) for tr in page.select("table.stage-distribution tr.stage-level")]
    assert sum(counts) == 0  # ILO's regions are another organization's rows
    assert page.select_one("p.movement") is None or page.select_one("p.movement")["data-up"] == "0"
