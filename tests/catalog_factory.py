"""A small valid catalog and the helpers that write it and read its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from mel.catalog.catalog_file import CatalogError
from mel.catalog.schema import parse_catalog

BASE = """\
partnership:
  code: test-cpc
  name: Test partnership
  country: PE
  starts_on: 2018-01-01
  ends_on: 2020-12-31
  fiscal_year_starts: 10
  pillars: [prosecution, protection]
partners:
  - code: alpha
    name: Alpha
  - code: beta
    name: Beta
    parent: alpha
dimensions:
  sex:
    label: {en: Sex, es: Sexo}
    categories:
      - {code: female, en: Female, es: Femenino, aliases: [f, mujer]}
      - {code: male, en: Male, es: Masculino, aliases: [m]}
results:
  - code: IMP
    level: impact
    statement: Less trafficking
  - code: "1"
    level: outcome
    pillar: prosecution
    statement: More prosecutions
    contributes_to: [IMP]
  - code: "1.1"
    level: output
    pillar: prosecution
    statement: Operators trained
    contributes_to: ["1"]
indicators:
  - code: 1.1.a
    result: "1.1"
    unit: count
    aggregation: sum
    direction: increase
    name: Operators trained
    dimensions: [sex]
    partners: [alpha, beta]
    target: {value: 100, fiscal_years: {FY2019: 40, FY2020: 60}}
  - code: 1.a
    result: "1"
    unit: percent
    aggregation: latest
    direction: increase
    name: Share of cases prosecuted
    baseline: {value: 10, year: 2017}
"""


def write(tmp_path: Path, text: str, name: str = "cat.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``, computed from the text itself."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[occurrence - 1]


def refusal(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as info:
        parse_catalog(path)
    return info.value.problems
