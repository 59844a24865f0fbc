"""Catalog loading: every refusal with its file:line: key message, idempotent reloads, no data lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.catalog_file import CatalogError
from mel.catalog.load_shared import TargetReason
from mel.catalog.models import Category, Indicator, Partner, Partnership, Result, Target
from mel.catalog.schema import find_cycle, parse_catalog
from mel.catalog.service import load_catalog
from mel.core.audit import AuditEntry
from mel.core.paths import INDICATORS_DIR

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "peru-cpc.yaml"

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


# --- loading into the database ---------------------------------------------------------------


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_load_is_idempotent_and_updates_in_place(tmp_path: Path, empty_db_url: str) -> None:
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    path = write(tmp_path, BASE)
    with transaction(factory) as s:
        first = load_catalog(session=s, path=path)
    assert first.changed
    with transaction(factory) as s:
        second = load_catalog(session=s, path=path)
        ids = {i.code: i.id for i in s.scalars(select(Indicator))}
    assert not second.changed
    with factory() as s:
        assert _count(s, AuditEntry) == 1  # the unchanged reload writes nothing, not even an audit entry

    changed = BASE.replace("    name: Operators trained\n", "    name: Justice operators trained\n").replace(
        "fiscal_years: {FY2019: 40, FY2020: 60}", "fiscal_years: {FY2019: 50, FY2020: 50}"
    )
    with transaction(factory) as s:
        third = load_catalog(
            session=s, path=write(tmp_path, changed), target_reason=TargetReason("Work plan revised", "2019Q1")
        )
    assert any("indicator 1.1.a" in u for u in third.updated)
    with factory() as s:
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        assert ind.id == ids["1.1.a"]
        assert ind.name == "Justice operators trained"
        assert {t.period: t.value for t in ind.targets} == {"": 100.0, "FY2019": 50.0, "FY2020": 50.0}
        assert _count(s, Target) == 3
        beta = s.scalars(select(Partner).where(Partner.code == "beta")).one()
        assert beta.parent is not None and beta.parent.code == "alpha"
    engine.dispose()


def _store_value(session: Session, indicator_code: str) -> None:
    """Store one real value through the same tables the importer uses."""
    from mel.catalog.combinations import combination_id
    from mel.reports.models import StoredFile, Submission, Value

    ind = session.scalars(select(Indicator).where(Indicator.code == indicator_code)).one()
    partner = session.scalars(select(Partner).where(Partner.code == "alpha")).one()
    female = session.scalars(select(Category).where(Category.code == "female")).one()
    session.add(StoredFile(sha256="0" * 64, size=1, original_name="x.xlsx"))
    sub = Submission(partner_id=partner.id, period="2019Q1", version=1, file_sha256="0" * 64)
    session.add(sub)
    session.flush()
    session.add(
        Value(
            submission_id=sub.id,
            indicator_id=ind.id,
            combination_id=combination_id(session, [female.id]),
            partner_id=partner.id,
            period="2019Q1",
            value=5,
            sheet="Indicators",
            cell="D5",
        )
    )


def test_reload_refuses_to_lose_or_redefine_stored_data(tmp_path: Path, empty_db_url: str) -> None:
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        _store_value(s, "1.1.a")

    removed = BASE.replace(BASE[BASE.index("  - code: 1.1.a") : BASE.index("  - code: 1.a")], "")
    recoded = BASE.replace("  - code: 1.1.a\n", "  - code: 1.1.x\n")
    unit = BASE.replace("    unit: count\n    aggregation: sum\n", "    unit: count\n    aggregation: latest\n")
    dims = BASE.replace("    dimensions: [sex]\n", "")
    category = BASE.replace("      - {code: female, en: Female, es: Femenino, aliases: [f, mujer]}\n", "")
    partner = (
        BASE.replace("  - code: alpha\n    name: Alpha\n", "")
        .replace("    parent: alpha\n", "")
        .replace("partners: [alpha, beta]", "partners: [beta]")
    )
    cases = [
        (removed, "indicators.1.1.a", "cannot be removed or re-coded"),
        (recoded, "indicators.1.1.a", "cannot be removed or re-coded"),
        (unit, "indicators.1.1.a", "aggregation cannot change"),
        (dims, "indicators.1.1.a", "dimensions cannot change"),
        (category, "dimensions.sex.categories.female", "cannot be removed"),
        (partner, "partners.alpha", "has submissions"),
    ]
    for text, key, message in cases:
        with pytest.raises(CatalogError) as info, transaction(factory) as s:
            load_catalog(session=s, path=write(tmp_path, text))
        assert any(f": {key}" in p and message in p for p in info.value.problems), (key, info.value.problems)
    with factory() as s:
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        assert ind.aggregation == "sum" and [d.code for d in ind.dimensions] == ["sex"]
        assert _count(s, Category) == 2
    engine.dispose()


def test_people_trained_flag_puts_the_indicator_in_the_training_consistency_check(
    tmp_path: Path, empty_db_url: str
) -> None:
    """``people_trained: true`` is stored, selects the indicator for the check, and changes as an update."""
    from mel.catalog.combinations import combination_id
    from mel.core.db import make_engine, make_sessionmaker, transaction
    from mel.quality.training_consistency import training_consistency, training_indicators
    from mel.reports.models import StoredFile, Submission, Value
    from mel.results.counting import Scope

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
        partnership_id = s.scalars(select(Partnership.id)).one()
        assert training_indicators(s, partnership_id) == []
        ind = s.scalars(select(Indicator).where(Indicator.code == "1.1.a")).one()
        alpha = s.scalars(select(Partner).where(Partner.code == "alpha")).one()
        s.add(StoredFile(sha256="0" * 64, size=1, original_name="x.xlsx"))
        sub = Submission(partner_id=alpha.id, period="2019Q1", version=1, file_sha256="0" * 64, status="approved")
        s.add(sub)
        s.flush()
        s.add(
            Value(
                submission_id=sub.id,
                indicator_id=ind.id,
                combination_id=combination_id(s, []),
                partner_id=alpha.id,
                period="2019Q1",
                value=12,
                sheet="Indicators",
                cell="D5",
            )
        )
    flagged = BASE.replace("    name: Operators trained\n", "    name: Operators trained\n    people_trained: true\n")
    with transaction(factory) as s:
        summary = load_catalog(session=s, path=write(tmp_path, flagged))
    assert summary.updated == ["indicator 1.1.a (people_trained)"]
    with factory() as s:
        assert [(i.code, pillar) for i, pillar in training_indicators(s, partnership_id)] == [("1.1.a", "prosecution")]
        rows = training_consistency(s, partnership_id=partnership_id, scope=Scope())
        assert [(r.indicator, r.partner, r.period, r.reported, r.trained, r.flag) for r in rows] == [
            ("1.1.a", "alpha", "2019Q1", 12.0, None, "no_trainings")
        ]
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
    with factory() as s:
        assert training_consistency(s, partnership_id=partnership_id) == []
    engine.dispose()


def test_indicator_without_values_can_be_removed(tmp_path: Path, empty_db_url: str) -> None:
    from mel.core.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(empty_db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        load_catalog(session=s, path=write(tmp_path, BASE))
    removed = BASE[: BASE.index("  - code: 1.a")]
    with transaction(factory) as s:
        summary = load_catalog(session=s, path=write(tmp_path, removed))
    assert summary.removed == ["indicator 1.a"]
    engine.dispose()


# --- the shipped catalogs -------------------------------------------------------------------


def _reference() -> dict:
    """The reference framework as its authors meant it (some flow-style statements contain commas)."""
    return yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference catalog is not beside the checkout")
def test_peru_catalog_carries_the_reference_exactly() -> None:
    ref = _reference()
    ours = parse_catalog(INDICATORS_DIR / "peru-cpc.yaml")
    assert ours["partnership"]["code"] == ref["partnership"]["code"]
    assert ours["partnership"]["fiscal_year_starts"] == ref["partnership"]["fiscal_year_starts"]
    assert {p["code"]: p.get("parent") for p in ours["partners"]} == {
        p["code"]: p.get("parent") for p in ref["partners"]
    }
    for code, dim in ref["dimensions"].items():
        assert [c["code"] for c in ours["dimensions"][code]["categories"]] == [c["code"] for c in dim["categories"]]
    assert {r["code"]: (r["level"], r.get("pillar"), r.get("contributes_to")) for r in ours["results"]} == {
        r["code"]: (r["level"], r.get("pillar"), r.get("contributes_to")) for r in ref["results"]
    }
    keys = ("result", "unit", "aggregation", "direction", "dimensions", "partners", "sensitive", "denominator")
    ours_ind = {i["code"]: i for i in ours["indicators"]}
    ref_codes = [i["code"] for i in ref["indicators"]]
    # every reference code, in the reference's order; codes added since (outcomes beyond counts) are new
    # codes under the reference's results, never a reference code redefined
    assert [c for c in ours_ind if c in set(ref_codes)] == ref_codes
    added = [ours_ind[c] for c in ours_ind if c not in set(ref_codes)]
    assert {i["code"] for i in added} == {"1.d", "1.1.c", "4.1.c", "4.1.d"}
    assert all(i["result"] in {r["code"] for r in ref["results"]} for i in added)
    for ref_ind in ref["indicators"]:
        mine = ours_ind[ref_ind["code"]]
        for key in keys:
            assert mine.get(key) == ref_ind.get(key), (ref_ind["code"], key)
        assert (mine.get("baseline") or {}).get("value") == (ref_ind.get("baseline") or {}).get("value")
        assert (mine.get("target") or {}).get("value") == (ref_ind.get("target") or {}).get("value")
        for field in ("definition", "rationale", "data_source", "collection_method", "limitations"):
            assert mine.get(field), (ref_ind["code"], field)


def test_shipped_catalogs_load(session: Session) -> None:
    codes = set(session.scalars(select(Partnership.code)))
    assert {"peru-cpc", "philippines-cpc"} <= codes
    assert (
        session.scalar(select(func.count()).select_from(Result).join(Partnership).where(Partnership.code == "peru-cpc"))
        == 12
    )
