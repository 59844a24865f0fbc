"""`mel import`: the --json contract key by key, human output, exit statuses 0, 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from mel.cli import app
from mel.core.paths import IMPORTS_DIR
from mel.core.settings import Settings

TOP_KEYS = ["status", "kind", "partner", "period", "version", "errors", "warnings", "values", "trainings"]
TOP_KEYS += ["narrative", "measurements"]
ISSUE_KEYS = {"code", "sheet", "cell", "message"}
VALUE_KEYS = {"indicator", "categories", "value", "comment"}
TRAINING_KEYS = {"title", "start_date", "end_date", "pillar", "region", "modality", "institution", "female", "male"}
TRAINING_KEYS |= {"other", "under_18", "hours", "pre_score", "post_score"}
TRAINING_KEYS |= {"repeat"}  # an added key (the contract allows them): repeat participants, null when not recorded
MEASUREMENT_KEYS = {"indicator", "round", "date", "categories", "value", "source", "comparable", "note"}


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MEL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MEL_UPLOAD_DIR", str(settings.upload_dir))
    return settings


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["import", *args])
    return result.exit_code, result.stdout


def _json(stdout: str) -> dict[str, object]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, stdout  # exactly one object, nothing else on stdout
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    return obj


def test_accepted_report_json_shape(env: Settings, session_factory: sessionmaker[Session]) -> None:
    path = IMPORTS_DIR / "ilo-2021Q3.xlsx"
    code, out = _run(str(path), "--json", "--partner", "ilo", "--period", "2021-Q3")
    assert code == 0, out
    obj = _json(out)
    assert list(obj)[: len(TOP_KEYS)] == TOP_KEYS
    assert (obj["status"], obj["kind"], obj["partner"], obj["period"], obj["version"]) == (
        "accepted",
        "quarterly_report",
        "ilo",
        "2021Q3",
        1,
    )
    assert obj["errors"] == [] and obj["measurements"] == []
    values = obj["values"]
    assert isinstance(values, list) and values
    for value in values:
        # the contract's keys; a pooled rate adds its counts (extra keys may be added)
        assert set(value) in (VALUE_KEYS, VALUE_KEYS | {"numerator", "denominator"})
        if "denominator" in value:
            assert abs(value["value"] - value["numerator"] / value["denominator"] * 100) < 1e-9
        assert isinstance(value["categories"], dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in value["categories"].items())
        assert isinstance(value["value"], int | float) and not isinstance(value["value"], bool)
    assert any(v["categories"] == {} for v in values)
    trainings = obj["trainings"]
    assert isinstance(trainings, list) and trainings
    for row in trainings:
        assert set(row) == TRAINING_KEYS
        assert len(row["start_date"]) == 10 and row["start_date"].startswith("2021-")
    narrative = obj["narrative"]
    assert isinstance(narrative, list)
    assert all(set(n) == {"section", "text"} for n in narrative)
    for issue in obj["warnings"]:  # type: ignore[attr-defined]
        assert set(issue) == ISSUE_KEYS
    # what was printed is what was stored
    with session_factory() as session:
        stored = session.execute(text("SELECT count(*) FROM value")).scalar_one()
        events = session.execute(text("SELECT count(*) FROM training_attendance")).scalar_one()
    assert (stored, events) == (len(values), len(trainings))

    code, out = _run(str(path), "--json")
    assert code == 0
    again = _json(out)
    assert (again["status"], again["version"]) == ("duplicate", 1)


def test_rejected_json_lists_every_error(env: Settings, session_factory: sessionmaker[Session]) -> None:
    code, out = _run(str(IMPORTS_DIR / "ilo-2021Q3-errores.xlsx"), "--json", "--lang", "es")
    assert code == 1
    obj = _json(out)
    assert obj["status"] == "rejected"
    errors = obj["errors"]
    assert isinstance(errors, list)
    assert {(e["code"], e["sheet"], e["cell"]) for e in errors} == {
        ("ambiguous_number", "Indicadores", "H15"),
        ("unknown_category", "Indicadores", "G21"),
        ("date_outside_period", "Capacitaciones", "B5"),
    }
    assert all(set(e) == ISSUE_KEYS and e["message"] for e in errors)
    assert obj["values"]  # what was read is listed even when refused
    with session_factory() as session:
        assert session.execute(text("SELECT count(*) FROM submission")).scalar_one() == 0
    assert not Path(env.upload_dir).exists() or not any(Path(env.upload_dir).rglob("*.xlsx"))


def test_dry_run_stores_nothing(env: Settings, session_factory: sessionmaker[Session]) -> None:
    code, out = _run(str(IMPORTS_DIR / "chs-2021Q3.xlsx"), "--json", "--dry-run")
    assert code == 0
    obj = _json(out)
    assert (obj["status"], obj["partner"], obj["version"]) == ("accepted", "chs", 1)
    assert obj["values"]
    with session_factory() as session:
        assert session.execute(text("SELECT count(*) FROM submission")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM stored_file")).scalar_one() == 0


def test_measurements_json(env: Settings) -> None:
    code, out = _run(str(IMPORTS_DIR / "measurements-peru-cpc.xlsx"), "--json", "--partnership", "peru-cpc")
    assert code == 0, out
    obj = _json(out)
    assert (obj["status"], obj["kind"]) == ("accepted", "measurements")
    assert obj["values"] == [] and obj["trainings"] == [] and obj["narrative"] == []
    rows = obj["measurements"]
    assert isinstance(rows, list) and rows
    # the contract's keys; survey rows add their sample size and margin of error (extra keys may be added)
    assert all(MEASUREMENT_KEYS <= set(m) <= MEASUREMENT_KEYS | {"sample_size", "margin_of_error"} for m in rows)
    assert any(m.get("margin_of_error") == 4.7 and m.get("sample_size") == 412 for m in rows)
    assert any(m["comparable"] is False for m in rows)


def test_human_output_has_an_error_table(env: Settings) -> None:
    code, out = _run(str(IMPORTS_DIR / "ilo-2021Q3-errores.xlsx"), "--lang", "es")
    assert code == 1
    lines = [line.split() for line in out.splitlines()]
    table = {(cells[0], cells[1]) for cells in lines if len(cells) >= 3 and "!" in cells[0]}
    assert ("Indicadores!H15", "ambiguous_number") in table
    assert ("Capacitaciones!B5", "date_outside_period") in table
    assert "rechazado" in out


def test_not_a_workbook_is_rejected(env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("just text", encoding="utf-8")
    code, out = _run(str(path), "--json")
    assert code == 1
    obj = _json(out)
    assert obj["status"] == "rejected"
    assert [e["code"] for e in obj["errors"]] == ["not_a_workbook"]  # type: ignore[union-attr]


def test_file_too_large(env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEL_MAX_UPLOAD_MB", "0.001")
    code, out = _run(str(IMPORTS_DIR / "ilo-2021Q3.xlsx"), "--json")
    assert code == 1
    assert [e["code"] for e in _json(out)["errors"]] == ["file_too_large"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "args",
    [
        ["missing.xlsx"],
        [str(IMPORTS_DIR / "ilo-2021Q3.xlsx"), "--lang", "fr"],
        [str(IMPORTS_DIR / "ilo-2021Q3.xlsx"), "--period", "2021Q5"],
        [str(IMPORTS_DIR / "ilo-2021Q3.xlsx"), "--no-such-option"],
        [],
    ],
)
def test_usage_errors_exit_2(env: Settings, args: list[str]) -> None:
    code, out = _run(*args)
    assert code == 2
    assert out.strip() == "" or "--json" not in args


def test_no_database_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one backend is enough")
    monkeypatch.setenv("MEL_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    code, _out = _run(str(IMPORTS_DIR / "ilo-2021Q3.xlsx"), "--json")
    assert code == 2
    assert not (tmp_path / "none.sqlite3").exists()


def test_unmigrated_database_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one backend is enough")
    import sqlite3

    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    monkeypatch.setenv("MEL_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    code, _out = _run(str(IMPORTS_DIR / "ilo-2021Q3.xlsx"))
    assert code == 2
