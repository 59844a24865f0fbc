"""The committed sample workbooks of imports/: each imports as documented, and they match the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from demo.samples import MISTAKES, write_samples
from mel.core.paths import IMPORTS_DIR
from mel.core.settings import Settings
from mel.reports.service import import_workbook

PARTNER_SAMPLES = sorted(p.name for p in IMPORTS_DIR.glob("*-2021Q3.xlsx"))
MEASUREMENTS = "measurements-peru-cpc.xlsx"
EXPECTED_MISTAKES = {
    ("ambiguous_number", "Indicadores", "H15"),
    ("unknown_category", "Indicadores", "G21"),
    ("date_outside_period", "Capacitaciones", "B5"),
}
"""The three mistakes of the tutorial file, as imports/README.md documents them."""


def test_every_partner_has_a_sample() -> None:
    assert {name.split("-2021Q3")[0] for name in PARTNER_SAMPLES} == {"ilo", "chs", "idl", "yanapanakusun", "aba-roli"}


@pytest.mark.parametrize("name", PARTNER_SAMPLES)
def test_partner_sample_is_accepted(session: Session, settings: Settings, name: str) -> None:
    data = (IMPORTS_DIR / name).read_bytes()
    result = import_workbook(session=session, data=data, filename=name, settings=settings)
    assert result.errors == []
    assert result.status == "accepted"


def test_mistakes_file_reports_exactly_the_documented_errors(session: Session, settings: Settings) -> None:
    data = (IMPORTS_DIR / MISTAKES).read_bytes()
    result = import_workbook(session=session, data=data, filename=MISTAKES, settings=settings, lang="es")
    assert result.status == "rejected"
    assert {(e.code, e.sheet, e.cell) for e in result.errors} == EXPECTED_MISTAKES
    assert len(result.errors) == len(EXPECTED_MISTAKES)
    readme = (IMPORTS_DIR / "README.md").read_text(encoding="utf-8")
    for code, sheet, cell in EXPECTED_MISTAKES:
        assert f"`{code}`" in readme and f"{sheet}!{cell}" in readme


def test_measurement_sample_is_accepted(session: Session, settings: Settings) -> None:
    data = (IMPORTS_DIR / MEASUREMENTS).read_bytes()
    result = import_workbook(
        session=session, data=data, filename=MEASUREMENTS, settings=settings, partnership_code="peru-cpc"
    )
    assert result.errors == []
    assert result.status == "accepted"


def test_samples_are_up_to_date(session: Session, tmp_path: Path, backend: str) -> None:
    """Regenerating the samples from the current catalog gives the committed bytes (else rerun the script)."""
    if backend != "sqlite":
        pytest.skip("the files do not depend on the database backend")
    written = write_samples(session, tmp_path)
    stale = [name for name in written if (tmp_path / name).read_bytes() != (IMPORTS_DIR / name).read_bytes()]
    assert not stale, f"run scripts/make_sample_workbooks.py and commit imports/: {stale}"
