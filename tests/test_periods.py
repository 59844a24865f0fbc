"""Quarters as files write them and as fiscal years label them."""

from __future__ import annotations

import datetime as dt

import pytest

from mel.core.periods import fiscal_label, parse_quarter, quarter_end, quarter_of, quarter_start, quarters


@pytest.mark.parametrize(
    "text", ["2021Q3", "2021-Q3", "2021 Q3", "Q3 2021", "Q3-2021", "T3 2021", "2021-T3", " 2021q3 ", "t3-2021"]
)
def test_parse_quarter_accepts_contract_forms(text: str) -> None:
    assert parse_quarter(text) == "2021Q3"


@pytest.mark.parametrize("text", ["2021Q5", "2021", "Q3", "third quarter", "", None, "21Q3", "2021Q0"])
def test_parse_quarter_rejects(text: object) -> None:
    assert parse_quarter(text) is None


def test_fiscal_labels_october_start() -> None:
    # U.S. government fiscal year: FY2021 Q1 = Oct-Dec 2020; 2021Q3 (Jul-Sep) is FY2021 Q4
    assert fiscal_label("2020Q4", 10) == "FY2021 Q1"
    assert fiscal_label("2021Q1", 10) == "FY2021 Q2"
    assert fiscal_label("2021Q2", 10) == "FY2021 Q3"
    assert fiscal_label("2021Q3", 10) == "FY2021 Q4"
    assert fiscal_label("2021Q3", 1) == "FY2021 Q3"
    assert fiscal_label("2021Q3", 7) == "FY2022 Q1"
    assert fiscal_label("2021Q2", 7) == "FY2021 Q4"


def test_quarter_dates() -> None:
    assert quarter_start("2020Q1") == dt.date(2020, 1, 1)
    assert quarter_end("2020Q1") == dt.date(2020, 3, 31)
    assert quarter_end("2020Q4") == dt.date(2020, 12, 31)
    assert quarter_of(dt.date(2020, 3, 16)) == "2020Q1"
    assert list(quarters("2019Q3", "2020Q2")) == ["2019Q3", "2019Q4", "2020Q1", "2020Q2"]
