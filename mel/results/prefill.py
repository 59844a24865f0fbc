"""What a pre-filled template's "For reference" sheet says: the period's targets, the approved
values to date and last quarter, open queries and return comments, through the disclosure gate.

The workbook itself is written by ``mel.workbooks.template`` and ``mel.workbooks.prefill``; this
module gathers their content (``build_template`` here is the one the routes and the CLI call).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner, Partnership
from mel.catalog.targets import targets_at
from mel.core.periods import fiscal
from mel.reports.models import Submission, SubmissionReview
from mel.reports.queries_values import list_queries
from mel.reports.vocab import is_personal_header
from mel.results.counting import Scope
from mel.results.disclosure import Viewer, operator
from mel.results.disclosure.solver import is_small
from mel.results.figures import fold
from mel.results.series import TOTAL, Cell, grouped
from mel.workbooks.prefill import IndicatorLine, Prefill, QueryLine, ReturnLine, previous_quarter
from mel.workbooks.spec import PartnerSpec
from mel.workbooks.template import write_template


def build_template(
    *,
    session: Session,
    partner_code: str,
    period: str,
    lang: str = "en",
    prefill: bool = True,
    viewer: Viewer | None = None,
) -> bytes:
    """The .xlsx bytes of the template for ``partner_code`` and ``period`` (SpecError if impossible).

    ``prefill`` adds the read-only reference sheet; ``viewer`` (default: suppressed, as a partner
    reads) decides, through the disclosure gate, whether small counts of sensitive indicators show in it.
    """
    reader = viewer or operator()
    return write_template(
        session=session,
        partner_code=partner_code,
        period=period,
        lang=lang,
        reference=(lambda spec: gather(session, spec, viewer=reader)) if prefill else None,
    )


def gather(session: Session, spec: PartnerSpec, *, viewer: Viewer) -> Prefill:
    """What the sheet shows, from approved reports only; small counts of sensitive indicators are
    withheld as on every page (``<5``, and the value to date ``x`` when last quarter's is withheld)."""
    partner_id, partnership_id, fy_start = session.execute(
        select(Partner.id, Partnership.id, Partnership.fiscal_year_start)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .where(Partner.code == spec.partner_code)
    ).one()
    previous = previous_quarter(spec.period)
    prefill = Prefill(previous, f"FY{fiscal(spec.period, fy_start)[0]}")
    codes = [i.code for i in spec.indicators]
    indicators = {
        ind.code: ind
        for ind in session.scalars(
            select(Indicator).where(Indicator.partnership_id == partnership_id, Indicator.code.in_(codes))
        )
    }
    cells = grouped(
        session,
        Scope(partner_ids=[partner_id], last_period=previous),
        partnership_id=partnership_id,
        indicator_ids=[i.id for i in indicators.values()],
        dimension_ids=[],
    )
    by_indicator: dict[int, list[Cell]] = {}
    for c in cells:
        if c.category_id == TOTAL:
            by_indicator.setdefault(c.indicator_id, []).append(c)
    for spec_ind in spec.indicators:
        ind = indicators[spec_ind.code]
        mine = by_indicator.get(ind.id, [])
        to_date = fold(ind, mine, end=previous).value if mine else None
        last = [c for c in mine if c.period == previous]
        last_value = fold(ind, last, end=previous).value if last else None
        targets = targets_at(ind, spec.period, partner_id=partner_id) or targets_at(ind, spec.period)
        line = IndicatorLine(
            ind.code,
            spec_ind.name,
            targets.get(spec.period),
            targets.get(prefill.fiscal_year),
            targets.get(""),
            to_date,
            last_value,
        )
        if viewer.hides(ind.sensitive):
            _withhold(line)
        prefill.lines.append(line)
    prefill.queries = [
        QueryLine(
            q.period,
            q.indicator,
            [(dim.label(spec.lang), cat.label(spec.lang)) for dim, cat in q.categories],
            q.value,
            _inert(q.question),
            q.status == "answered",
            _inert(q.messages[-1].body) if q.messages else None,
        )
        for q in list_queries(session, partner_ids=[partner_id], up_to=spec.period, open_only=True)
    ]
    prefill.returns = [
        ReturnLine(period, version, _inert(comment), at)
        for period, version, comment, at in session.execute(
            select(Submission.period, Submission.version, SubmissionReview.comment, SubmissionReview.at)
            .join(Submission, Submission.id == SubmissionReview.submission_id)
            .where(
                Submission.partner_id == partner_id,
                SubmissionReview.action == "returned",
                Submission.period <= spec.period,
                or_(Submission.period == spec.period, Submission.status == "returned"),
            )
            .order_by(Submission.period, SubmissionReview.id)
        )
    ]
    return prefill


def _withhold(line: IndicatorLine) -> None:
    if isinstance(line.last_quarter, float) and is_small(line.last_quarter):
        line.last_quarter = "<5"
        if line.to_date is not None:
            line.to_date = "x"  # else to date minus the previous template's would give it away
    if isinstance(line.to_date, float) and is_small(line.to_date):
        line.to_date = "<5"


def _inert(text: str | None) -> str | None:
    """Free text never reads as a personal-data header to the importer's scan of ignored sheets."""
    if text and is_personal_header(text):
        return f"“{text}” (?)".replace("“", "« ").replace("”", " »") + " …"
    return text
