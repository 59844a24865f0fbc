"""Theory-of-change integrity: the gaps evaluators found in these programs' results frameworks.

Evaluations found outcome indicators that "failed to capture the actual changes" and causal
chains missing "intermediate steps". These checks read the stored framework (not the YAML): the
data-quality page and the progress pages show the same list from this one function.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Result, Target, result_link
from mel.core.i18n import N_, t
from mel.reports.models import Measurement

ISSUES: Final = {
    "outcome_without_indicator": N_("Outcome {code} has no outcome-level indicator."),
    "result_without_indicator": N_("Result {code} ({level}) has no indicator."),
    "indicator_without_baseline": N_("Indicator {code} has no baseline."),
    "indicator_without_target": N_("Indicator {code} has no target."),
    "output_skips_outcome": N_("Output {code} reaches the impact without passing through an outcome."),
}
"""Issue kinds, in the order they are listed, with their message."""


@dataclass(frozen=True)
class IntegrityIssue:
    """One gap: its kind (a key of ``ISSUES``) and the result or indicator it concerns.

    The issue holds no language: ``message(lang)`` fills the kind's message where it is shown.
    """

    kind: str
    subject: str
    level: str

    def message(self, lang: str) -> str:
        return t(lang, ISSUES[self.kind], code=self.subject, level=t(lang, _LEVELS[self.level]))


def integrity_issues(session: Session, partnership_id: int) -> list[IntegrityIssue]:
    """Every integrity gap of a partnership's framework, by kind then framework order (five small queries).

    A baseline counts when the catalog records one or an evaluator measured one (a ``baseline``
    measurement); a target when any target (life of partnership, fiscal year or quarter) exists,
    except for context indicators (direction none), which aim at nothing. An output "skips" the
    outcomes when a contribution path from it reaches an impact through outputs only.
    """
    results = session.execute(
        select(Result.id, Result.code, Result.level)
        .where(Result.partnership_id == partnership_id)
        .order_by(Result.position, Result.code)
    ).all()
    indicators = session.execute(
        select(Indicator.id, Indicator.code, Indicator.result_id, Indicator.baseline_value, Indicator.direction)
        .where(Indicator.partnership_id == partnership_id)
        .order_by(Indicator.position, Indicator.code)
    ).all()
    ids = [r.id for r in results]
    links: dict[int, list[int]] = defaultdict(list)
    for source, target in session.execute(
        select(result_link.c.from_result_id, result_link.c.to_result_id).where(
            result_link.c.from_result_id.in_(ids or [-1])
        )
    ):
        links[source].append(target)
    with_target = set(
        session.scalars(select(Target.indicator_id).where(Target.indicator_id.in_([i.id for i in indicators] or [-1])))
    )
    indicator_ids = [i.id for i in indicators] or [-1]
    baseline_measured = set(
        session.scalars(
            select(Measurement.indicator_id)
            .where(Measurement.indicator_id.in_(indicator_ids), Measurement.round == "baseline")
            .distinct()
        )
    )
    measured = {i.result_id for i in indicators}
    level = {r.id: r.level for r in results}
    code = {r.id: r.code for r in results}

    found: dict[str, list[IntegrityIssue]] = {kind: [] for kind in ISSUES}

    def add(kind: str, subject: str, subject_level: str) -> None:
        found[kind].append(IntegrityIssue(kind, subject, subject_level))

    for r in results:
        if r.id in measured:
            continue
        add("outcome_without_indicator" if r.level == "outcome" else "result_without_indicator", r.code, r.level)
    for i in indicators:
        if i.baseline_value is None and i.id not in baseline_measured:
            add("indicator_without_baseline", i.code, "indicator")
        if i.id not in with_target and i.direction != "none":  # a context indicator has nothing to aim at
            add("indicator_without_target", i.code, "indicator")
    for r in results:
        if r.level == "output" and _reaches_impact_through_outputs(r.id, links, level):
            add("output_skips_outcome", code[r.id], "output")
    return [issue for kind in ISSUES for issue in found[kind]]


_LEVELS: Final = {
    "impact": N_("impact"),
    "outcome": N_("outcome"),
    "output": N_("output"),
    "indicator": N_("indicator"),
}


def _reaches_impact_through_outputs(start: int, links: dict[int, list[int]], level: dict[int, str]) -> bool:
    """Whether a path from ``start`` reaches an impact without visiting an outcome (depth-first, visited set)."""
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        for nxt in links.get(node, []):
            kind = level.get(nxt)
            if kind == "impact":
                return True
            if kind == "output" and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
