"""Analysis-ready data: Parquet exports equal the CSV exports, ``mel.exports.analysis`` gives tidy frames,
and the command line does not pay for pandas."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.cli import app
from mel.core.settings import Settings
from mel.exports import analysis
from tests.test_disclosure_matrix import DATA, DB_SCENARIOS, sensitive  # noqa: F401 (the fixture, its values)
from tests.value_factory import add_submission


def _run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(app, ["export", *args], env={"MEL_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def more(session: Session, sensitive: None) -> None:  # noqa: F811
    add_submission(
        session, partner="ilo", period="2021Q3", values=[("1.1.a", {}, 30.5), ("1.1.a", {"sex": "female"}, 18)]
    )
    session.commit()


@pytest.mark.parametrize("kind", ["values", "figures"])
def test_parquet_reads_back_equal_to_the_csv(more: None, settings: Settings, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.parquet"
    _run(
        settings,
        kind,
        "--partnership",
        "peru-cpc",
        "--format",
        "parquet",
        "--out",
        str(out),
        "--granularity",
        "quarter",
    )
    frame = pd.read_parquet(out)
    text = _run(settings, kind, "--partnership", "peru-cpc", "--format", "csv", "--granularity", "quarter")
    csv = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(csv.columns)
    assert len(frame) == len(csv) and len(frame) > 0
    for column in csv.columns:
        for shown, typed in zip(csv[column], frame[column], strict=True):
            if pd.isna(typed):
                assert shown in ("", "<5", "x"), (column, shown)
            elif isinstance(typed, bool | __import__("numpy").bool_):
                assert shown in (("true", "yes") if typed else ("false", "no")), (column, shown)
            elif isinstance(typed, str):
                assert shown.lstrip("'") == typed, (column, shown, typed)
            else:
                assert float(shown) == pytest.approx(float(typed)), (column, shown, typed)
    hidden = frame[frame["suppressed"]]
    assert len(hidden) > 0 and hidden[["value" if kind == "values" else "actual"]].isna().all().all()


def test_analysis_values_are_tidy(more: None, settings: Settings) -> None:
    frame = analysis.values(settings.database_url, "peru-cpc")
    assert {"indicator", "partner", "period", "value", "suppressed", "sex", "region", "institution"} <= set(
        frame.columns
    )
    assert "categories" not in frame.columns
    totals = frame[(frame["indicator"] == "2.a") & frame["sex"].isna() & frame["region"].isna()]
    expected = {(p, q): t for p, quarters in DATA.items() for q, (t, _s, _r) in quarters.items()}
    shown = {(r.partner, r.period): r.value for r in totals.itertuples()}
    assert set(shown) == set(expected)
    for key, value in shown.items():
        if 0 < expected[key] < 5:
            assert pd.isna(value), key  # a small count is always hidden
        elif not pd.isna(value):  # others show their value, unless hidden to protect a small one
            assert value == expected[key]
    raw = analysis.values(settings.database_url, "peru-cpc", suppress=False)
    raw_totals = raw[(raw["indicator"] == "2.a") & raw["sex"].isna() & raw["region"].isna()]
    assert {(r.partner, r.period): r.value for r in raw_totals.itertuples()} == expected
    female = raw[(raw["indicator"] == "1.1.a") & (raw["sex"] == "female")]
    assert female["value"].tolist() == [18]
    assert raw[(raw["indicator"] == "1.1.a") & raw["sex"].isna()]["value"].tolist() == [30.5]


def test_analysis_figures_add_up(more: None, settings: Settings) -> None:
    frame = analysis.figures(settings.database_url, "peru-cpc", suppress=False)
    lop = frame[(frame["indicator"] == "2.a") & (frame["scope"] == "partnership") & (frame["period"] == "LOP")]
    assert lop["actual"].tolist() == [sum(t for quarters in DATA.values() for t, _s, _r in quarters.values())]
    partner = frame[(frame["indicator"] == "2.a") & (frame["scope"] == "partner") & (frame["period"] == "2019Q1")]
    assert dict(zip(partner["partner"], partner["actual"], strict=True)) == {"ilo": 9, "chs": 2}
    with pytest.raises(analysis.UnknownPartnership):
        analysis.values(settings.database_url, "nope")


def test_the_command_line_does_not_import_pandas() -> None:
    code = "import sys, mel.cli, mel.web.app; print('pandas' in sys.modules, 'pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
