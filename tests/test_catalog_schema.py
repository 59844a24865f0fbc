"""Catalog validation: every refusal with its file:line: key message, all problems at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mel.catalog.schema import find_cycle, parse_catalog
from tests.catalog_factory import BASE, line_of, refusal, write


def test_base_catalog_is_valid(tmp_path: Path) -> None:
    data = parse_catalog(write(tmp_path, BASE))
    assert data["partnership"]["code"] == "test-cpc"
    assert [i["code"] for i in data["indicators"]] == ["1.1.a", "1.a"]


@pytest.mark.parametrize(
    ("old", "new", "needle", "key", "message"),
    [
        (
            "    name: Operators trained\n",
            "    name: Operators trained\n    colour: blue\n",
            "colour: blue",
            "indicators.colour",
            "unknown key",
        ),
        ("  - code: beta\n", "  - code: alpha\n", "code: alpha", "partners.alpha", "duplicate code"),
        (
            '    result: "1.1"\n',
            '    result: "9.9"\n',
            'result: "9.9"',
            "indicators.1.1.a.result",
            "unknown result '9.9'",
        ),
        (
            "    partners: [alpha, beta]\n",
            "    partners: [alpha, gamma]\n",
            "partners: [alpha, gamma]",
            "indicators.1.1.a.partners",
            "unknown partner 'gamma'",
        ),
        (
            "    dimensions: [sex]\n",
            "    dimensions: [sex, region]\n",
            "dimensions: [sex, region]",
            "indicators.1.1.a.dimensions",
            "unknown dimension 'region'",
        ),
        (
            "    parent: alpha\n",
            "    parent: omega\n",
            "parent: omega",
            "partners.beta.parent",
            "unknown partner 'omega'",
        ),
        (
            '    contributes_to: ["1"]\n',
            '    contributes_to: ["7"]\n',
            'contributes_to: ["7"]',
            "results.1.1.contributes_to",
            "unknown result '7'",
        ),
        (
            "    unit: percent\n    aggregation: latest\n",
            "    unit: percent\n    aggregation: sum\n",
            "aggregation: sum",
            "indicators.1.a.aggregation",
            "cannot be summed",
        ),
        (
            '    contributes_to: ["1"]\n',
            "    contributes_to: [IMP]\n",
            "contributes_to: [IMP]",
            "results.1.1.contributes_to",
            "broken causal chain",
        ),
        (
            "      - {code: male, en: Male, es: Masculino, aliases: [m]}\n",
            "      - {code: male, en: Male, es: Masculino, aliases: [m]}\n"
            "      - {code: female, en: Woman, es: Mujer}\n",
            "code: female, en: Woman",
            "dimensions.sex.categories.female",
            "duplicate code",
        ),
        (
            "aliases: [m]}",
            "aliases: [m, Mujer]}",
            "aliases: [m, Mujer]",
            "dimensions.sex.categories.male.aliases",
            "collides with the code, label or alias of category 'female'",
        ),
        (
            "aliases: [m]}",
            "aliases: [m, FEMENINO]}",
            "aliases: [m, FEMENINO]",
            "dimensions.sex.categories.male.aliases",
            "collides",
        ),
        ("  country: PE\n", "  country: Peru\n", "country: Peru", "partnership.country", "two-letter"),
        ("    unit: count\n", "    unit: people\n", "unit: people", "indicators.1.1.a.unit", "is not one of"),
        (
            "    name: Operators trained\n",
            "    name: Operators trained\n    people_trained: 1\n",
            "people_trained: 1",
            "indicators.1.1.a.people_trained",
            "write true or false",
        ),
    ],
)
def test_refusals_name_file_line_and_key(
    tmp_path: Path, old: str, new: str, needle: str, key: str, message: str
) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    problems = refusal(tmp_path, text)
    start = text.count("\n", 0, BASE.index(old))  # the needle is on a line of the replaced text
    expected_line = next(i + 1 for i, line in enumerate(text.splitlines()) if i >= start and needle in line)
    matching = [p for p in problems if f":{expected_line}: {key}" in p and message in p]
    assert matching, problems
    assert all(p.startswith(str(tmp_path / "cat.yaml") + ":") for p in problems)


def test_cycle_in_contribution_graph_is_refused(tmp_path: Path) -> None:
    text = (
        BASE.replace(
            "    statement: More prosecutions\n    contributes_to: [IMP]\n",
            '    statement: More prosecutions\n    contributes_to: [IMP, "1.2"]\n',
        )
        + ""
    )
    text = text.replace(
        "indicators:\n",
        '  - code: "1.2"\n    level: outcome\n    statement: Loop\n    contributes_to: ["1"]\nindicators:\n',
    )
    problems = refusal(tmp_path, text)
    assert any("form a cycle" in p and ("1 -> 1.2 -> 1" in p or "1.2 -> 1 -> 1.2" in p) for p in problems), problems


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    cycle = find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert find_cycle({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}) is None


def test_duplicate_mapping_key_and_missing_required(tmp_path: Path) -> None:
    text = BASE.replace("  sex:\n", "  sex:\n    aliases: [gender]\n    aliases: [sexo2]\n", 1)
    text = text.replace("    name: Share of cases prosecuted\n", "")
    problems = refusal(tmp_path, text)
    assert any(f":{line_of(text, 'aliases: [sexo2]')}: aliases: key written twice" in p for p in problems), problems
    assert any("indicators.name: required key is missing" in p for p in problems), problems


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = BASE.replace("    unit: count\n", "    unit: people\n").replace("    parent: alpha\n", "    parent: x\n")
    problems = refusal(tmp_path, text)
    assert len(problems) >= 2


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    text = BASE.replace("  name: Test partnership\n", "  name: [unclosed\n")
    problems = refusal(tmp_path, text)
    assert len(problems) == 1 and re.match(rf"{re.escape(str(tmp_path / 'cat.yaml'))}:\d+: yaml: ", problems[0])
