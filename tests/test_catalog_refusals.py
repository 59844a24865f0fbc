"""Catalog refusals not covered in test_catalog.py, each checked as `file:line: key: message`.

Lines are computed from the edited text itself; keys and messages are the contract that lets whoever
edits a catalog go straight to the problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mel.catalog.catalog_file import CatalogError
from mel.catalog.combinations import combination_id
from mel.catalog.models import Dimension, Indicator, Partnership
from mel.catalog.service import load_catalog
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.reports.models import Measurement, MeasurementBatch, StoredFile
from tests.catalog_factory import BASE, refusal, write
from tests.value_factory import add_submission

EVENTS = """\
context_events:
  - title: Lockdown
    starts_on: 2020-03-16
    pillars: [prosecution]
"""


def _line(text: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first line containing ``needle`` (after the line containing ``after``)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i + 1 for i, line in enumerate(lines) if i >= start and needle in line)


def _expect(tmp_path: Path, text: str, line: int, key: str, message: str) -> None:
    problems = refusal(tmp_path, text)
    wanted = f"{tmp_path / 'cat.yaml'}:{line}: {key}: "
    assert any(p.startswith(wanted) and message in p for p in problems), (wanted, message, problems)


# --- unknown keys, at every level of the file ------------------------------------------------

UNKNOWN_KEYS = [
    # (where to insert, what to insert, key in the message)
    ("partnership:\n", "partnership:\n  colour: blue\n", "partnership.colour"),
    ("partners:\n", "colour: blue\npartners:\n", "catalog.colour"),
    ("    name: Alpha\n", "    name: Alpha\n    colour: blue\n", "partners.colour"),
    (
        "    name: Alpha\n",
        "    name: Alpha\n    contact: {name: MEL focal point, email: mel@example.org, phone: 1}\n",
        "partners.alpha.contact.phone",
    ),
    ("  sex:\n", "  sex:\n    colour: blue\n", "dimensions.sex.colour"),
    ("{en: Sex, es: Sexo}", "{en: Sex, es: Sexo, fr: Sexe}", "dimensions.sex.label.fr"),
    ("aliases: [m]}", "aliases: [m], colour: blue}", "dimensions.sex.categories.colour"),
    ("    statement: More prosecutions\n", "    statement: More prosecutions\n    colour: blue\n", "results.colour"),
    (
        "    baseline: {value: 10, year: 2017}\n",
        "    baseline: {value: 10, year: 2017, colour: blue}\n",
        "indicators.1.a.baseline.colour",
    ),
    (
        "    target: {value: 100, fiscal_years: {FY2019: 40, FY2020: 60}}\n",
        "    target: {value: 100, months: {2019-01: 5}}\n",
        "indicators.1.1.a.target.months",
    ),
]


@pytest.mark.parametrize(("old", "new", "key"), UNKNOWN_KEYS, ids=[k for _, _, k in UNKNOWN_KEYS])
def test_unknown_key_at_every_level(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    needle = key.rsplit(".", 1)[1] + ":"
    _expect(tmp_path, text, _line(text, needle), key, "unknown key (allowed: ")


def test_unknown_key_in_a_context_event(tmp_path: Path) -> None:
    text = BASE + EVENTS.replace("    pillars: [prosecution]\n", "    pillars: [prosecution]\n    colour: blue\n")
    _expect(tmp_path, text, _line(text, "colour: blue"), "context_events.colour", "unknown key")


# --- duplicate codes -------------------------------------------------------------------------


def test_duplicate_result_code(tmp_path: Path) -> None:
    text = BASE.replace('  - code: "1.1"\n', '  - code: "1"\n', 1).replace(
        'contributes_to: ["1"]', "contributes_to: [IMP]"
    )
    text = text.replace("    level: output\n", "    level: outcome\n").replace('result: "1.1"', 'result: "1"')
    line = _line(text, 'code: "1"', after="statement: More prosecutions")
    _expect(tmp_path, text, line, "results.1", "duplicate code (first defined on line")


def test_duplicate_indicator_code(tmp_path: Path) -> None:
    text = BASE.replace("  - code: 1.a\n", "  - code: 1.1.a\n")
    line = _line(text, "- code: 1.1.a", after="name: Operators trained")
    _expect(
        tmp_path,
        text,
        line,
        "indicators.1.1.a",
        f"duplicate code (first defined on line {_line(text, '- code: 1.1.a')})",
    )


# --- dangling references and other reference rules --------------------------------------------


def test_context_event_with_unknown_region_category(tmp_path: Path) -> None:
    region = (
        "  region:\n    label: {en: Region, es: Región}\n    categories:\n      - {code: lima, en: Lima, es: Lima}\n"
    )
    text = BASE.replace("results:\n", region + "results:\n", 1) + EVENTS.replace(
        "    pillars: [prosecution]\n", "    regions: [lima, cusco]\n    pillars: [prosecution]\n"
    )
    line = _line(text, "regions: [lima, cusco]")
    _expect(tmp_path, text, line, "context_events.Lockdown.regions", "unknown region 'cusco'")
    problems = refusal(tmp_path, text)
    assert not any("'lima'" in p for p in problems), problems


def test_partner_cannot_be_its_own_parent(tmp_path: Path) -> None:
    text = BASE.replace("    parent: alpha\n", "    parent: beta\n")
    _expect(tmp_path, text, _line(text, "parent: beta"), "partners.beta.parent", "cannot be its own parent")


def test_impact_contributing_to_something_is_refused(tmp_path: Path) -> None:
    text = BASE.replace(
        "    statement: Less trafficking\n", '    statement: Less trafficking\n    contributes_to: ["1"]\n'
    )
    line = _line(text, 'contributes_to: ["1"]')
    _expect(tmp_path, text, line, "results.IMP.contributes_to", "the impact contributes to nothing")


def test_cycle_names_the_line_and_the_loop(tmp_path: Path) -> None:
    text = BASE.replace(
        "    statement: More prosecutions\n    contributes_to: [IMP]\n",
        '    statement: More prosecutions\n    contributes_to: [IMP, "1.2"]\n',
    ).replace(
        "indicators:\n",
        '  - code: "1.2"\n    level: outcome\n    statement: Loop\n    contributes_to: ["1"]\nindicators:\n',
    )
    line = _line(text, 'contributes_to: [IMP, "1.2"]')
    _expect(tmp_path, text, line, "results.1.contributes_to", "contribution links form a cycle: 1 -> 1.2 -> 1")


def test_yes_no_indicator_cannot_be_summed(tmp_path: Path) -> None:
    text = BASE.replace("    unit: percent\n    aggregation: latest\n", "    unit: yes_no\n    aggregation: sum\n")
    line = _line(text, "aggregation: sum", after="code: 1.a")
    _expect(tmp_path, text, line, "indicators.1.a.aggregation", "a yes_no indicator cannot be summed over periods")


# --- aliases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aliases", "clash"),
    [("[m, female]", "female"), ("[m, F]", "f"), ("[m, Fémenino]", "femenino")],
    ids=["another-category-code", "another-category-alias", "another-category-label-accents"],
)
def test_alias_colliding_with_another_category(tmp_path: Path, aliases: str, clash: str) -> None:
    text = BASE.replace("aliases: [m]}", f"aliases: {aliases}}}")
    line = _line(text, f"aliases: {aliases}")
    _expect(
        tmp_path,
        text,
        line,
        "dimensions.sex.categories.male.aliases",
        "collides with the code, label or alias of category 'female'",
    )


def test_dimension_name_used_twice(tmp_path: Path) -> None:
    other = "  gender:\n    label: {en: Gender, es: Sexo}\n    categories:\n      - {code: x, en: X, es: X}\n"
    text = BASE.replace("results:\n", other + "results:\n", 1)
    _expect(tmp_path, text, _line(text, "  gender:"), "dimensions.gender", "is also used by dimension 'sex'")


# --- values of the right kind ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "key", "message"),
    [
        ("FY2019: 40", "2019: 40", "2019: 40", "indicators.1.1.a.target.fiscal_years.2019", "write the fiscal year"),
        (
            "FY2020: 60",
            "FY2020: sixty",
            "FY2020: sixty",
            "indicators.1.1.a.target.fiscal_years.FY2020",
            "is not a number",
        ),
        (
            "    name: Operators trained\n",
            "    name: Operators trained\n    sensitive: 1\n",
            "sensitive: 1",
            "indicators.1.1.a.sensitive",
            "write true or false",
        ),
        (
            "  ends_on: 2020-12-31\n",
            "  ends_on: 2017-12-31\n",
            "ends_on: 2017",
            "partnership.ends_on",
            "ends before the partnership starts",
        ),
        ("year: 2017}", "year: 17}", "year: 17}", "indicators.1.a.baseline.year", "four-digit year"),
    ],
)
def test_values_of_the_wrong_kind(tmp_path: Path, old: str, new: str, needle: str, key: str, message: str) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    _expect(tmp_path, text, _line(text, needle), key, message)


def test_context_event_ending_before_it_starts(tmp_path: Path) -> None:
    text = BASE + EVENTS.replace("    starts_on: 2020-03-16\n", "    starts_on: 2020-03-16\n    ends_on: 2020-01-01\n")
    _expect(
        tmp_path, text, _line(text, "ends_on: 2020-01-01"), "context_events.Lockdown.ends_on", "ends before it starts"
    )


# --- stored data is never lost or redefined -----------------------------------------------------


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _refused(factory: sessionmaker[Session], path: Path) -> list[str]:
    with pytest.raises(CatalogError) as info, transaction(factory) as s:
        load_catalog(session=s, path=path)
    return info.value.problems


def test_unit_change_with_stored_values_names_the_indicator_line(tmp_path: Path, empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        add_submission(s, partner="alpha", period="2019Q1", values=[("1.1.a", {"sex": "female"}, 5)])
    text = BASE.replace("    unit: count\n    aggregation: sum\n", "    unit: yes_no\n    aggregation: latest\n")
    path = write(tmp_path, text)
    problems = _refused(factory, path)
    line = _line(text, "- code: 1.1.a")
    assert any(p.startswith(f"{path}:{line}: indicators.1.1.a: unit, aggregation cannot change") for p in problems)
    with factory() as s:
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        assert (ind.unit, ind.aggregation) == ("count", "sum")
    engine.dispose()


def test_indicator_with_only_measurements_cannot_be_removed(tmp_path: Path, empty_db_url: str) -> None:
    """An evaluator's measurement is stored data too, even without any partner report."""
    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        partnership = s.scalars(select(Partnership)).one()
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.a")).one()
        s.add(StoredFile(sha256="1" * 64, size=1, original_name="m.xlsx"))
        s.flush()
        batch = MeasurementBatch(partnership_id=partnership.id, file_sha256="1" * 64)
        s.add(batch)
        s.flush()
        s.add(
            Measurement(
                batch_id=batch.id,
                indicator_id=ind.id,
                combination_id=combination_id(s, []),
                round="baseline",
                date="2018",
                value=10,
                sheet="Measurements",
                cell="D2",
            )
        )
    text = BASE[: BASE.index("  - code: 1.a")]
    path = write(tmp_path, text)
    problems = _refused(factory, path)
    line = _line(text, "indicators:")
    assert any(
        p.startswith(f"{path}:{line}: indicators.1.a: indicator 1.a has 1 stored values and cannot be removed")
        for p in problems
    ), problems
    with factory() as s:
        assert _count(s, Indicator) == 2
    engine.dispose()


def test_dimension_with_stored_values_cannot_be_removed(tmp_path: Path, empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        add_submission(s, partner="alpha", period="2019Q1", values=[("1.1.a", {"sex": "male"}, 3)])
    start = BASE.index("dimensions:\n")
    text = BASE[:start] + BASE[BASE.index("results:\n") :]
    text = text.replace("    dimensions: [sex]\n", "")
    problems = _refused(factory, write(tmp_path, text))
    assert any(": dimensions.sex: this dimension has stored values" in p for p in problems), problems
    with factory() as s:
        assert _count(s, Dimension) == 1
    engine.dispose()


def test_partner_codes_are_unique_across_partnerships(tmp_path: Path, empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
    other = BASE.replace("  code: test-cpc\n", "  code: other-cpc\n")
    path = write(tmp_path, other, name="other.yaml")
    problems = _refused(factory, path)
    assert f"{path}:{_line(other, '- code: alpha')}: partners.alpha: partner codes are unique" in "\n".join(problems)
    with factory() as s:
        assert _count(s, Partnership) == 1
    engine.dispose()
