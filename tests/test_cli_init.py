"""`mel init` through the command line: loads every shipped catalog, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from mel.cli import app
from mel.core.db import make_engine
from mel.core.paths import INDICATORS_DIR

CATALOG_TABLES = (
    "partnership",
    "partner",
    "dimension",
    "category",
    "result",
    "result_link",
    "indicator",
    "indicator_dimension",
    "indicator_partner",
    "target",
    "context_event",
    "audit_log",
)


def _shipped() -> dict[str, dict]:
    """Every shipped catalog, read with plain YAML (independently of the loader under test)."""
    out = {}
    for path in sorted(INDICATORS_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["partnership"]["code"]] = data
    return out


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in CATALOG_TABLES}
    finally:
        engine.dispose()


def _target_keys(target: dict) -> set[tuple[str, str, str]]:
    """The distinct targets a ``target:`` block sets: (period, partner, category), revisions included."""

    def scope(block: dict, partner: str = "", category: str = "") -> set[tuple[str, str, str]]:
        keys = {("", partner, category)} if "value" in block else set()
        for kind in ("fiscal_years", "quarters"):
            keys |= {(str(k), partner, category) for k in block.get(kind) or {}}
        return keys

    keys: set[tuple[str, str, str]] = set()
    for block in [target, *(target.get("revisions") or [])]:
        keys |= scope(block)
        keys |= {k for code, sub in (block.get("partners") or {}).items() for k in scope(sub, partner=code)}
        keys |= {k for code, sub in (block.get("categories") or {}).items() for k in scope(sub, category=code)}
    return keys


def _expected_counts(catalogs: dict[str, dict]) -> dict[str, int]:
    """What one load of the shipped catalogs must store, counted from the YAML itself."""
    inds = [i for c in catalogs.values() for i in c["indicators"]]
    return {
        "partnership": len(catalogs),
        "partner": sum(len(c["partners"]) for c in catalogs.values()),
        "dimension": sum(len(c.get("dimensions") or {}) for c in catalogs.values()),
        "category": sum(len(d["categories"]) for c in catalogs.values() for d in (c.get("dimensions") or {}).values()),
        "result": sum(len(c["results"]) for c in catalogs.values()),
        "result_link": sum(len(r.get("contributes_to") or []) for c in catalogs.values() for r in c["results"]),
        "indicator": len(inds),
        "indicator_dimension": sum(len(i.get("dimensions") or []) for i in inds),
        "indicator_partner": sum(len(i.get("partners") or []) for i in inds),
        "target": sum(len(_target_keys(i["target"])) for i in inds if "target" in i),
        "context_event": sum(len(c.get("context_events") or []) for c in catalogs.values()),
        "audit_log": len(catalogs),  # one entry per partnership that changed
    }


def _init(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> list[str]:
    monkeypatch.setenv("MEL_DATABASE_URL", url)
    monkeypatch.setenv("MEL_CATALOG_DIR", str(INDICATORS_DIR))
    monkeypatch.setenv("MEL_UPLOAD_DIR", str(tmp_path / "uploads"))
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _check_init_twice(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> None:
    catalogs = _shipped()
    assert {"peru-cpc", "philippines-cpc"} <= set(catalogs)

    first = _init(monkeypatch, url, tmp_path)
    for code in catalogs:
        line = next(line for line in first if line.startswith(f"{code}: "))
        assert line.endswith(" updated, 0 removed") and " created, 0 updated" in line, first
    after_first = _counts(url)
    assert after_first == _expected_counts(catalogs)

    second = _init(monkeypatch, url, tmp_path)
    assert sorted(second) == sorted(f"{code}: unchanged" for code in catalogs)
    assert _counts(url) == after_first


def test_init_twice_on_a_fresh_sqlite_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """From no database file at all: the first run migrates and loads, the second writes nothing."""
    path = tmp_path / "fresh.sqlite3"
    assert not path.exists()
    _check_init_twice(monkeypatch, f"sqlite:///{path}", tmp_path)


def test_init_twice_on_each_backend(monkeypatch: pytest.MonkeyPatch, empty_db_url: str, tmp_path: Path) -> None:
    _check_init_twice(monkeypatch, empty_db_url, tmp_path)


def test_catalog_load_refusal_names_file_line_and_key(
    monkeypatch: pytest.MonkeyPatch, empty_db_url: str, tmp_path: Path
) -> None:
    """A refused file exits 1, prints `file:line: key: message` and stores nothing."""
    source = (INDICATORS_DIR / "philippines-cpc.yaml").read_text(encoding="utf-8")
    broken = source.replace(
        "    unit: yes_no\n    aggregation: latest\n", "    unit: yes_no\n    aggregation: sum\n", 1
    )
    assert broken != source
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    lines = broken.splitlines()
    line = lines.index("    aggregation: sum", lines.index("  - code: 4.1.a")) + 1

    monkeypatch.setenv("MEL_DATABASE_URL", empty_db_url)
    before = _counts(empty_db_url)
    result = CliRunner().invoke(app, ["catalog", "load", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{line}: indicators.4.1.a.aggregation: a yes_no indicator cannot be summed" in result.output
    assert _counts(empty_db_url) == before

    missing = CliRunner().invoke(app, ["catalog", "load", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
