"""Training consistency: people-trained indicators against the participants of the training rows.

A data-quality check: a partner's reported "people trained" should equal the participants (female
+ male + other) of its training rows of the same quarter, in the pillar of the indicator's result
(every pillar when the result has none). Which indicators count people trained is a catalog flag,
``people_trained: true`` (and ``new_participants_only: true``, which compares new participants).
Rows hold no language: indicator names come in English and Spanish, and pages show the reader's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Result, indicator_partner
from mel.core.i18n import in_language
from mel.reports.models import Submission, TrainingAttendance, TrainingEvent
from mel.results.counting import Scope, counted_values
from mel.results.training_filters import TrainingFilter, _rows_from
from mel.results.training_groups import PARTICIPANTS

_A = TrainingAttendance


@dataclass(frozen=True)
class ConsistencyRow:
    """A people-trained indicator's reported total next to the participants of the matching training rows."""

    indicator: str
    name_en: str
    """The indicator's name in English and Spanish: shown with ``indicator_name(lang)``."""
    name_es: str
    pillar: str | None
    partner: str
    partner_name: str
    period: str
    status: str
    reported: float | None
    trained: int | None

    def indicator_name(self, lang: str) -> str:
        return in_language(lang, self.name_en, self.name_es)

    @property
    def difference(self) -> float | None:
        if self.reported is None or self.trained is None:
            return None
        return self.reported - self.trained

    @property
    def flag(self) -> str:
        """``match``, ``mismatch``, ``no_value`` (trainings but no total) or ``no_trainings``."""
        if self.reported is None:
            return "no_value"
        if self.trained is None:
            return "no_trainings"
        return "match" if self.difference == 0 else "mismatch"


def training_indicators(session: Session, partnership_id: int) -> list[tuple[Indicator, str | None]]:
    """The people-trained indicators of a partnership (catalog flag ``people_trained`` or
    ``new_participants_only``) with the pillar of trainings they count."""
    flagged = Indicator.people_trained.is_(True) | Indicator.new_participants_only.is_(True)
    rows = session.execute(
        select(Indicator, Result.pillar)
        .join(Result, Result.id == Indicator.result_id)
        .where(Indicator.partnership_id == partnership_id, flagged)
        .order_by(Indicator.position, Indicator.code)
    )
    return [(ind, pillar) for ind, pillar in rows]


def training_consistency(
    session: Session,
    *,
    partnership_id: int,
    scope: Scope | None = None,
    pillar: str | None = None,
    mismatches_only: bool = False,
) -> list[ConsistencyRow]:
    """For each people-trained indicator, partner and quarter: reported total vs training participants.

    A difference is a data-quality signal (an event left out of the Trainings sheet, people counted
    twice), not an error. Training rows are matched by partner, quarter and the indicator's pillar,
    and only for partners the indicator is assigned to. Two grouped queries, merged here.
    """
    scope = scope or Scope()
    indicators = [(i, p) for i, p in training_indicators(session, partnership_id) if not pillar or p in (None, pillar)]
    if not indicators:
        return []
    by_id = {ind.id: (ind, p) for ind, p in indicators}
    values = counted_values(scope, partnership_id=partnership_id, totals_only=True).subquery()
    reported: dict[tuple[int, int, str], tuple[float, str]] = {}
    for ind_id, partner_id, period, number, status in session.execute(
        select(
            values.c.indicator_id,
            values.c.partner_id,
            values.c.period,
            func.sum(values.c.value),
            func.max(values.c.status),
        )
        .where(values.c.indicator_id.in_(list(by_id)))
        .group_by(values.c.indicator_id, values.c.partner_id, values.c.period)
    ):
        reported[(ind_id, partner_id, period)] = (float(number), status)
    filt = TrainingFilter(partnership_id, scope, pillar)
    trained: dict[tuple[int, str, str], tuple[int, str]] = {}
    new_only: dict[tuple[int, str, str], int] = {}
    for partner_id, period, event_pillar, people, status, new in session.execute(
        _rows_from(
            select(
                Submission.partner_id,
                Submission.period,
                TrainingEvent.pillar,
                func.sum(PARTICIPANTS),
                func.max(Submission.status),
                func.sum(PARTICIPANTS - func.coalesce(_A.repeat, 0)),
            ),
            filt,
        ).group_by(Submission.partner_id, Submission.period, TrainingEvent.pillar)
    ):
        trained[(partner_id, period, event_pillar)] = (int(people or 0), status)
        new_only[(partner_id, period, event_pillar)] = int(new or 0)
    assigned: dict[int, set[int]] = defaultdict(set)
    for ind_id, partner_id in session.execute(
        select(indicator_partner.c.indicator_id, indicator_partner.c.partner_id).where(
            indicator_partner.c.indicator_id.in_(list(by_id))
        )
    ):
        assigned[ind_id].add(partner_id)
    partners = {p.id: p for p in session.scalars(select(Partner).where(Partner.partnership_id == partnership_id))}
    result: list[ConsistencyRow] = []
    for ind_id, (ind, ind_pillar) in by_id.items():
        sums: dict[tuple[int, str], tuple[int, str]] = {}
        for (partner_id, period, event_pillar), (people, status) in trained.items():
            if ind.new_participants_only:  # participants minus those the project had trained before
                people = new_only[(partner_id, period, event_pillar)]
            if ind_pillar not in (None, event_pillar):
                continue
            if assigned[ind_id] and partner_id not in assigned[ind_id]:
                continue
            before = sums.get((partner_id, period), (0, status))
            sums[(partner_id, period)] = (before[0] + people, status)
        keys = {(p, q) for (i, p, q) in reported if i == ind_id} | set(sums)
        for partner_id, period in keys:
            value = reported.get((ind_id, partner_id, period))
            people = sums.get((partner_id, period))
            partner = partners[partner_id]
            row = ConsistencyRow(
                indicator=ind.code,
                name_en=ind.label("en"),
                name_es=ind.label("es"),
                pillar=ind_pillar,
                partner=partner.code,
                partner_name=partner.name,
                period=period,
                status=(value or people or (0, "approved"))[1],
                reported=value[0] if value else None,
                trained=people[0] if people else None,
            )
            if not mismatches_only or row.flag != "match":
                result.append(row)
    order = {ind.code: n for n, (ind, _p) in enumerate(indicators)}
    return sorted(result, key=lambda r: (r.period, r.partner, order[r.indicator]))
