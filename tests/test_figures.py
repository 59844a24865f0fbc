"""The figures engine: hand-computed measures, and one value per measure in every view of the demo."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator
from mel.results.figure_change import change_of
from mel.results.figure_periods import span_ending
from mel.results.figures import carried_from, deviation, fold, measures, whole
from mel.results.progress import Timeline, expected, load_partnership
from mel.results.series import Cell
from tests.html_soup import soup
from tests.value_factory import add_submission

Login = Callable[..., TestClient]


def indicator(**fields: Any) -> Indicator:
    """A catalog indicator with only what the engine reads."""
    defaults: dict[str, Any] = {
        "code": "X",
        "unit": "count",
        "aggregation": "sum",
        "direction": "increase",
        "numerator_label": None,
        "denominator_label": None,
    }
    return Indicator(**(defaults | fields))


def cell(partner: int, period: str, value: float, num: float | None = None, den: float | None = None) -> Cell:
    return Cell(1, partner, period, 0, value, False, num, den)


# -- hand-computed -----------------------------------------------------------------------------


def test_a_rate_pools_its_counts_across_partners_and_quarters() -> None:
    rate = indicator(unit="percent", aggregation="latest", numerator_label="passed", denominator_label="tested")
    ilo = [(7, 10), (8, 10), (9, 12), (10, 20)]
    aba = [(3, 5), (4, 8), (5, 10), (6, 12)]
    quarters = ["2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    cells = [cell(1, q, n / d * 100, n, d) for q, (n, d) in zip(quarters, ilo, strict=True)]
    cells += [cell(2, q, n / d * 100, n, d) for q, (n, d) in zip(quarters, aba, strict=True)]
    year = fold(rate, cells, set(quarters), end="2021Q4")
    assert (year.numerator, year.denominator) == (52, 87)  # 7+8+9+10+3+4+5+6 over 10+10+12+20+5+8+10+12
    assert year.value == pytest.approx(52 / 87 * 100)
    mean_of_rates = sum(n / d * 100 for n, d in ilo + aba) / 8
    assert abs(year.value - mean_of_rates) > 0.5  # not an average of rates (60.6)
    assert year.partners[1] == pytest.approx(34 / 52 * 100)  # each partner pooled over its quarters
    one_quarter = fold(rate, cells, {"2021Q2"}, end="2021Q2")
    assert one_quarter.value == pytest.approx((8 + 4) / (10 + 8) * 100)  # never one partner's rate for all


def test_a_rate_without_its_counts_stands_for_its_partner_only() -> None:
    rate = indicator(unit="percent", aggregation="latest", numerator_label="passed", denominator_label="tested")
    cells = [cell(1, "2021Q1", 70, 7, 10), cell(2, "2021Q1", 80)]
    folded = fold(rate, cells, end="2021Q1")
    assert folded.value is None and folded.partners == {1: 70.0, 2: 80}


def test_latest_is_carried_four_quarters_with_its_as_of() -> None:
    stock = indicator(aggregation="latest")
    cells = [cell(1, "2020Q4", 5), cell(2, "2021Q2", 3), cell(3, "2019Q4", 9)]
    folded = fold(stock, cells, end="2021Q3")
    assert carried_from("2021Q3") == "2020Q4"
    assert folded.value == 8  # partner 3's 2019Q4 is older than four quarters: not carried
    assert folded.as_of == "2020Q4"
    assert fold(stock, cells, end="2021Q4").value == 3  # 2020Q4 is now five quarters old
    assert fold(stock, [cell(1, "2021Q3", 4)], end="2021Q3").as_of is None  # not carried at all


def test_a_latest_category_comes_from_its_totals_quarter() -> None:
    stock = indicator(aggregation="latest")
    total = fold(stock, [cell(1, "2021Q1", 10), cell(1, "2021Q2", 12)], end="2021Q2")
    female = [cell(1, "2021Q1", 6)]  # no breakdown in 2021Q2
    assert fold(stock, female, end="2021Q2", align=total.periods).value is None
    assert fold(stock, female, end="2021Q2").value == 6  # without the rule it would stand beside 12


def test_decrease_indicators_progress_by_falling_and_have_no_pct_of_target() -> None:
    falling = indicator(aggregation="latest", direction="decrease")
    m = measures(falling, 80, baseline=100, target=50, expected=75)
    assert m.pct_of_target is None
    assert m.progress_pct == pytest.approx(40.0)  # (80 - 100) / (50 - 100)
    assert m.expected_pct == pytest.approx(50.0)  # (75 - 100) / (50 - 100)
    assert m.status == "behind"  # 40 / 50 = 0.8: at least 0.7, below 0.9
    rising = indicator(aggregation="latest")
    r = measures(rising, 14, baseline=8, target=16)
    assert r.pct_of_target == pytest.approx(87.5) and r.progress_pct == pytest.approx(75.0)


def test_deviation_outside_ten_percent() -> None:
    assert deviation(110.0) is None and deviation(90.0) is None
    assert deviation(110.1) == "over" and deviation(89.9) == "under" and deviation(None) is None


def test_comparisons_say_not_comparable_within_margin_and_achieved() -> None:
    survey = indicator(unit="percent", aggregation="latest")
    shown = change_of(survey, 38.5, 59.4, comparable=False, margins=[4.7, 5.0])
    assert shown.change == pytest.approx(20.9) and shown.change_unit == "percentage_points"
    assert shown.trend == "not_comparable"  # flagged: never "improved"
    close = change_of(survey, 40.0, 45.0, margins=[4.0, 3.0])  # √(16 + 9) = 5 covers the change
    assert close.trend == "within_margin"
    assert change_of(survey, 40.0, 45.1, margins=[4.0, 3.0]).trend == "improved"
    policy = indicator(unit="yes_no", aggregation="latest")
    adopted = change_of(policy, 0, 1)
    assert adopted.change is None and adopted.achieved is True and adopted.trend == "improved"
    assert change_of(policy, 0, 0).achieved is False


def test_a_flow_is_compared_over_a_span_like_its_baseline() -> None:
    assert span_ending("2022Q2", 4) == ["2021Q3", "2021Q4", "2022Q1", "2022Q2"]
    assert span_ending("2017Q3", 4, first="2017Q2") == ["2017Q2", "2017Q3"]


def test_pro_rated_count_targets_are_whole_numbers() -> None:
    trained = indicator(code="1.1.a", aggregation="sum")
    trained.targets = []
    time = Timeline(periods=[f"20{18 + i // 4}Q{i % 4 + 1}" for i in range(16)], elapsed=3, fy_start=10)
    assert trained.lop_target is None
    trained.targets.append(_target("", 1150))
    value = expected(trained, None, time)
    assert value == 216  # 1150 × 3 / 16 = 215.625
    assert whole(287.5) == 288


def _target(period: str, value: float) -> Any:
    from mel.catalog.models import Target

    return Target(period=period, value=value)


# -- one value per measure, in every view -------------------------------------------------------


def _dashboard(client: TestClient) -> dict[str, dict[str, str]]:
    page = soup(client.get("/p/peru-cpc").text)
    return {str(tr["data-code"]): {k: str(v) for k, v in tr.attrs.items()} for tr in page.select("tr.indicator")}


def _iati_lop(client: TestClient) -> dict[str, float]:
    root = ET.fromstring(client.get("/p/peru-cpc/exports/iati.xml").content)
    out = {}
    for ind in root.iter("indicator"):
        code = (ind.findtext("title/narrative") or "").split(" ")[0]
        for period in ind.findall("period"):
            if period.find("period-start").get("iso-date") == "2017-04-01":  # type: ignore[union-attr]
                actual = period.find("actual")
                if actual is not None:
                    out[code] = float(actual.get("value"))  # type: ignore[arg-type]
    return out


def close(a: Any, b: Any, what: str) -> None:
    if a in (None, "") or b in (None, ""):
        assert a in (None, "") and b in (None, ""), what
        return
    assert float(a) == pytest.approx(float(b), abs=0.051), what


@pytest.mark.demo_db  # the demo's history, built once per backend into a template
@pytest.mark.xdist_group("demo")
def test_every_view_gives_one_value_per_measure(client: TestClient, login_as: Login, session: Session) -> None:
    officer = login_as(client, "officer")
    partnership = load_partnership(session, "peru-cpc")
    assert partnership is not None
    start = partnership.starts_on.isoformat()
    dashboard = _dashboard(officer)
    iptt = {
        r["indicator"]: r
        for r in json.loads(officer.get("/p/peru-cpc/exports/iptt.json", params={"granularity": "lop"}).text)
        if r["scope"] == "partnership" and r["period"] == "LOP"
    }
    comparison = {r["indicator"]: r for r in json.loads(officer.get("/p/peru-cpc/exports/comparison.json").text)}
    iati = _iati_lop(officer)
    text = officer.get("/p/peru-cpc/exports/values.csv").content.decode("utf-8-sig")
    summed: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(text)):
        if not row["categories"] and row["value"] not in ("<5", "x"):
            summed[row["indicator"]] += float(row["value"])
    assert start
    checked = 0
    for result in partnership.results:
        for ind in result.indicators:
            code = ind.code
            line, table = dashboard[code], iptt[code]
            if table["suppressed"]:  # downloads hide small cells: compare what they show
                continue
            actual = line["data-actual"]
            close(actual, table["actual"], f"{code}: dashboard and IPTT actual")
            close(line["data-pct-of-target"], table["pct_of_target"], f"{code}: dashboard and IPTT % of target")
            if code in iati:
                close(actual, iati[code], f"{code}: dashboard and IATI actual")
            if ind.aggregation == "sum" and ind.partners and actual and not ind.sensitive:  # downloads hide <5
                close(actual, summed[code], f"{code}: dashboard and the sum of the values export")
            row = comparison[code]
            if row["endline"]["from"] == "reported" and not row["endline"]["span"]:
                close(actual, row["endline"]["value"], f"{code}: dashboard and comparison endline")
                close(line["data-progress-pct"], row["progress_pct"], f"{code}: progress from baseline")
                close(line["data-pct-of-target"], row["pct_of_target"], f"{code}: % of target")
            page = soup(officer.get(f"/p/peru-cpc/indicators/{code}").text)
            if ind.unit == "stage" and ind.dimensions:  # one stage per region, no total: the Stages card
                assert page.select("table.series") == [] and page.select_one("table.stage-distribution") is not None
                checked += 1
                continue
            last = page.select("table.series tr[data-period]")[-1]
            if ind.partners and last.select_one("td.to-date")["data-value"]:  # type: ignore[index]
                close(actual, last.select_one("td.to-date")["data-value"], f"{code}: indicator page")  # type: ignore[index]
            checked += 1
    assert checked >= 15


@pytest.mark.demo_db
@pytest.mark.xdist_group("demo")
def test_iati_groups_indicators_under_their_result(client: TestClient, login_as: Login) -> None:
    officer = login_as(client, "officer")
    root = ET.fromstring(officer.get("/p/peru-cpc/exports/iati.xml").content)
    titles = [r.findtext("title/narrative") for r in root.iter("result")]
    assert len(titles) == len(set(titles)), "a result appears more than once"
    outcome_1 = next(r for r in root.iter("result") if "1.a" in [i.findtext("title/narrative", "")[:3] for i in r])
    codes = [(i.findtext("title/narrative") or "").split(" ")[0] for i in outcome_1.findall("indicator")]
    assert codes == ["1.a", "1.b", "1.c", "1.d"]
    # 1.d is a stage (a capacity rubric): an ordinal measure, its values level numbers
    rubric = outcome_1.findall("indicator")[3]
    assert rubric.get("measure") == "4"
    actuals = [float(a.get("value", "")) for a in rubric.iter("actual")]
    assert actuals and all(v.is_integer() and 1 <= v <= 4 for v in actuals)


def test_deviations_are_flagged_with_the_partners_explanation(
    client: TestClient, login_as: Login, session: Session
) -> None:
    # 1.1.a has fiscal-year targets (FY2019: 350); ILO reports 500 in FY2019 with a comment, and
    # 100 in FY2020 (target 300) without one
    add_submission(session, partner="ilo", period="2018Q4", values=[("1.1.a", {}, 500)])
    add_submission(session, partner="ilo", period="2019Q4", values=[("1.1.a", {}, 100)])
    session.commit()
    from sqlalchemy import update

    from mel.reports.models import Value

    session.execute(update(Value).where(Value.period == "2018Q4").values(comment="An extra course for judges"))
    session.commit()
    officer = login_as(client, "officer")
    page = soup(officer.get("/p/peru-cpc/iptt", params={"granularity": "fy"}).text)
    row = page.select_one("tr.indicator[data-code='1.1.a']")
    assert row is not None
    over = row.select_one("td.pct[data-col='FY2019']")
    under = row.select_one("td.pct[data-col='FY2020']")
    assert over is not None and over["data-deviation"] == "over" and over["data-explained"] == "1"
    assert "An extra course for judges" in str(over["title"])
    assert under is not None and under["data-deviation"] == "under" and under["data-explained"] == "0"
    assert over.get_text(strip=True) == f"{500 / 350 * 100:,.1f} %"


def test_a_group_badge_says_what_its_indicators_share() -> None:
    from mel.results.progress import worst

    assert worst(["no_target"]) == "no_target"  # an impact the evaluators measure, without a target
    assert worst(["no_target", "no_data"]) == "no_data"
    assert worst(["on_track", "no_data", "behind"]) == "behind"
    assert worst([]) == "no_indicator"


def test_iptt_numbers_follow_the_readers_language(client: TestClient, login_as: Login, session: Session) -> None:
    add_submission(session, partner="ilo", period="2018Q4", values=[("1.1.a", {}, 1500)])
    session.commit()
    officer = login_as(client, "officer")
    officer.cookies.set("mel_lang", "es")
    page = soup(officer.get("/p/peru-cpc/iptt", params={"granularity": "fy"}).text)
    row = page.select_one("tr.indicator[data-code='1.1.a']")
    assert row is not None
    assert row.select_one("td.actual[data-col='FY2019']").get_text(strip=True) == "1.500"  # type: ignore[union-attr]
    assert row.select_one("td.pct[data-col='FY2019']").get_text(strip=True) == "428,6 %"  # type: ignore[union-attr]
