"""Baseline against endline, checked against numbers worked out by hand from tests/comparison_scenario.py."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mel.results.comparison import ComparisonRow, as_json, comparison, round1
from mel.results.counting import Scope
from mel.results.disclosure import operator
from mel.results.disclosure.comparison import disclose_comparison
from mel.results.progress import load_partnership
from tests import comparison_scenario


@pytest.fixture
def rows(session: Session) -> dict[tuple[str, str], ComparisonRow]:
    comparison_scenario.build(session)
    partnership = load_partnership(session, "peru-cpc")
    assert partnership is not None
    found = comparison(session, partnership, dimension="sex")
    return {(r.indicator.code, r.category.code if r.category else ""): r for r in found}


def test_count_with_measured_baseline_takes_the_latest_baseline(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("1.a", "")]
    assert row.baseline is not None and row.endline is not None
    assert (row.baseline.value, row.baseline.date, row.baseline.origin) == (9, "2018", "measurement")
    assert (row.endline.value, row.endline.date, row.endline.origin) == (14, "2022", "measurement")
    assert row.change == 5  # 14 - 9
    assert row.change_unit == "count"
    assert row.percent_change == 55.6  # 5 / 9 = 55.55 %
    assert row.target == 16
    assert row.achievement_pct == 71.4  # (14 - 9) / (16 - 9) = 71.43 %
    assert row.trend == "improved"
    assert row.endline.sheet == "Measurements" and row.endline.cell == "D2"


def test_direction_none_and_missing_target(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("IMP.a", "")]
    assert row.baseline is not None and row.baseline.origin == "catalog"
    assert (row.baseline.value, row.baseline.date) == (1480, "2017")
    assert row.change == -375  # 1105 - 1480
    assert row.percent_change == -25.3  # -375 / 1480 = -25.34 %
    assert row.target is None and row.achievement_pct is None
    assert row.trend == "n/a"


def test_percent_in_percentage_points_and_not_comparable(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("3.a", "")]
    assert row.change == 20.9  # 59.4 - 38.5
    assert row.change_unit == "percentage_points"
    assert row.percent_change is None
    assert row.achievement_pct == 66.3  # 20.9 / (70 - 38.5) = 66.35 %
    assert row.endline is not None and row.endline.comparable is False
    assert row.comparable is False
    female = rows[("3.a", "female")]
    assert female.change == 21.9 and female.target is None and female.achievement_pct is None
    assert female.comparable is False


def test_yes_no_with_zero_baseline_from_reports(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("4.1.b", "")]
    assert row.baseline is not None and row.baseline.value == 0
    assert row.endline is not None and row.endline.origin == "reported" and row.endline.value == 1
    assert row.endline.date == "2021Q4"
    # a yes/no reads achieved or not: no "change +1"
    assert row.change is None and row.change_unit == "yes_no" and row.achieved is True
    assert row.percent_change is None
    assert row.progress_pct == 100.0
    assert row.trend == "improved"


def test_count_with_zero_baseline_has_no_percent_change(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("1.2.a", "")]
    # a flow with a yearly baseline (2018: 0) is compared like for like: the four quarters to 2021Q2
    assert row.endline is not None and row.endline.value == 3  # ilo 2 + aba-roli 1
    assert row.endline.span == ("2020Q3", "2021Q2")
    assert row.change == 3 and row.percent_change is None
    assert row.target is None and row.progress_pct is None  # a year is not set against the LOP target


def test_endline_from_reported_results(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("1.1.a", "")]
    assert row.endline is not None and row.endline.origin == "reported"
    # ilo 100 (2021Q1) + 60 (2021Q2 version 2; version 1's 50 is superseded) + idl 30; aba-roli's is not approved
    assert row.endline.value == 190
    assert row.endline.partners == ("idl", "ilo")
    assert row.endline.date == "2021Q2"
    assert row.baseline is None and row.change is None and row.trend is None and row.percent_change is None
    assert row.achievement_pct == 12.7  # 190 / 1500 = 12.67 %
    assert rows[("1.1.a", "female")].endline.value == 60  # type: ignore[union-attr]
    assert rows[("1.1.a", "male")].endline.value == 40  # type: ignore[union-attr]


def test_percents_are_never_added_across_partners(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    row = rows[("1.1.b", "")]
    assert row.endline is not None and row.endline.value is None
    assert row.endline.partners == ("aba-roli", "ilo")


def test_sensitive_small_cells_are_suppressed(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    raw = rows[("2.a", "")]
    assert raw.endline is not None and raw.endline.value == 3  # ilo 2 + chs 1; the returned 7 does not count
    assert raw.endline.span == ("2020Q3", "2021Q2")  # like for like with the 2018 baseline
    shown = disclose_comparison([raw], operator())[0]
    assert shown.suppressed is True
    assert shown.endline is not None and shown.endline.value is None and shown.endline.suppressed
    assert shown.baseline is not None and shown.baseline.value == 0 and not shown.baseline.suppressed
    assert shown.change is None and shown.achievement_pct is None
    data = as_json(shown)
    assert data["endline"]["value"] is None and data["suppressed"] is True and data["baseline"]["value"] == 0
    assert disclose_comparison([rows[("1.a", "")]], operator()) == [rows[("1.a", "")]]


def test_provisional_values_count_only_when_asked(session: Session) -> None:
    comparison_scenario.build(session)
    partnership = load_partnership(session, "peru-cpc")
    assert partnership is not None
    found = comparison(session, partnership, scope=Scope(include_provisional=True))
    row = next(r for r in found if r.indicator.code == "1.1.a")
    assert row.endline is not None and row.endline.value == 210 and row.endline.provisional


def test_filters_by_pillar_and_level(session: Session) -> None:
    comparison_scenario.build(session)
    partnership = load_partnership(session, "peru-cpc")
    assert partnership is not None
    prosecution = {r.indicator.code for r in comparison(session, partnership, pillar="prosecution")}
    assert prosecution == {"1.a", "1.b", "1.c", "1.d", "1.1.a", "1.1.b", "1.1.c", "1.2.a"}
    assert {r.indicator.code for r in comparison(session, partnership, level="impact")} == {"IMP.a"}
    assert {r.indicator.code for r in comparison(session, partnership, pillar="-", level="output")} == {
        "4.1.a",
        "4.1.b",
        "4.1.c",
        "4.1.d",
    }
    totals = comparison(session, partnership)
    assert all(r.category is None for r in totals)
    assert len(totals) == len(partnership.indicators)  # one total row per indicator (22 in the catalog)


def test_json_shape(rows: dict[tuple[str, str], ComparisonRow]) -> None:
    data = as_json(rows[("3.a", "female")])
    assert data["categories"] == {"sex": "female"}
    assert data["baseline"] == {
        "value": 40.2,
        "date": "2018",
        "source": "Survey 2018",
        "from": "measurement",
        "comparable": True,
        "sample_size": None,
        "margin_of_error": None,
        "suppressed": False,
    }
    assert data["endline"]["comparable"] is False and data["endline"]["from"] == "measurement"
    assert data["change_unit"] == "percentage_points"
    # an endline flagged not comparable is never trended "improved"
    assert data["trend"] == "not_comparable" and data["change"] == 21.9
    assert data["progress_pct"] == data["achievement_pct"]


def test_round1_rounds_half_up() -> None:
    assert round1(0.75) == 0.8
    assert round1(-25.35) == -25.4
    assert round1(2.25) == 2.3
