"""The demo: a full Peru CPC history, built by writing workbooks and importing them like partners do.

Nothing is inserted behind the importer's back: every value, training and measurement of the demo
was validated by ``import_workbook``, so the demo also proves the import path end to end. Files
are byte-identical from one run to the next, so running the demo twice stores nothing twice
(the importer recognizes each file as a duplicate).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from demo.history import CORRECTED, PENDING, quarterly_report, received_on
from demo.measurements import measurement_workbooks
from demo.quarter_context import PERIODS, SPANISH_PARTNERS, Context
from mel.catalog.models import Indicator, Partner, Partnership, indicator_partner
from mel.core.audit import Actor
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.reports.models import Submission
from mel.workbooks.report_writer import Report, write_report
from mel.workbooks.spec import PartnerSpec, dimension_specs, partner_spec

PARTNERSHIP = "peru-cpc"
PARTNER_ACTOR = Actor("demo partner")


class DemoError(Exception):
    """A demo workbook was rejected: the demo data and the importer disagree."""


@dataclass
class DemoSummary:
    imported: int = 0
    duplicates: int = 0
    approved: int = 0
    returned: int = 0
    pending: int = 0
    """Reports left awaiting review, so that the review queue has work: imported = approved + returned + pending."""
    measurement_files: int = 0
    partners: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def already_built(self) -> bool:
        """True when every file was already stored (a second run)."""
        return self.imported == 0 and self.duplicates > 0


def demo_partner_codes(session: Session, partnership: str = PARTNERSHIP) -> list[str]:
    """Codes of the partners that have indicators assigned, in catalog order."""
    rows = session.execute(
        select(Partner.code, Partner.id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .join(indicator_partner, indicator_partner.c.partner_id == Partner.id)
        .join(Indicator, Indicator.id == indicator_partner.c.indicator_id)
        .where(Partnership.code == partnership)
        .distinct()
        .order_by(Partner.id)
    ).all()
    return [code for code, _id in rows]


def build_demo(
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    seed: int = 2022,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Import the whole demo history (quarterly reports, reviews, measurements) for peru-cpc."""
    from demo.followup import add_followup, review_twice
    from mel.reports.service import import_workbook

    started = time.perf_counter()
    summary = DemoSummary()
    with session_factory() as session:
        summary.partners = demo_partner_codes(session)
        specs = {
            code: partner_spec(
                session, partner_code=code, period=PERIODS[0], lang="es" if code in SPANISH_PARTNERS else "en"
            )
            for code in summary.partners
        }
        partnership_id = session.scalar(select(Partnership.id).where(Partnership.code == PARTNERSHIP))
        dims = {lang: dimension_specs(session, partnership_id, lang) for lang in ("en", "es")} if partnership_id else {}
        uploaders = demo_uploaders(session)

    def load(report: Report, spec: PartnerSpec, version: int) -> int | None:
        """Import one report; the new submission's id, or None when it was already stored."""
        data = write_report(report, spec.dimensions, spec.lang)
        name = f"{report.partner}-{report.period}-v{version}.xlsx"
        with transaction(session_factory) as session:
            result = import_workbook(
                session=session,
                data=data,
                filename=name,
                settings=settings,
                partner_code=report.partner,
                period=report.period,
                lang=spec.lang,
                actor=uploaders.get(report.partner, PARTNER_ACTOR),
            )
        if result.status == "rejected":
            raise DemoError(f"{name}: " + "; ".join(f"{e.code} {e.sheet}!{e.cell}: {e.message}" for e in result.errors))
        if result.status == "duplicate":
            summary.duplicates += 1
            return None
        summary.imported += 1
        return _submission_id(result)

    def review(submission_id: int | None, action: str, comment: str | None) -> None:
        if submission_id is None:
            return
        with transaction(session_factory) as session:
            review_twice(session, submission_id, action, comment)  # a sub-recipient's: its prime first
        if action == "approved":
            summary.approved += 1
        else:
            summary.returned += 1

    rng = random.Random(seed)
    arrived: dict[int | None, dt.date] = {}
    for period in PERIODS:
        for code in summary.partners:
            spec = specs[code]
            ctx = Context(partner=code, period=period, lang=spec.lang, rng=rng)
            final, first = quarterly_report(ctx, spec.indicators)
            if first is not None:
                returned = load(first, spec, 1)
                arrived[returned] = received_on(code, period, first.report_date)
                review(returned, "returned", CORRECTED[(code, period)])
            submission = load(final, spec, 2 if first is not None else 1)
            arrived[submission] = received_on(code, period, final.report_date)
            if (code, period) not in PENDING:
                review(submission, "approved", None)
            elif submission is not None:
                summary.pending += 1
        if progress:
            progress(period)

    _record_arrivals(session_factory, arrived)
    for name, lang, data in measurement_workbooks(dims):
        with transaction(session_factory) as session:
            result = import_workbook(
                session=session,
                data=data,
                filename=name,
                settings=settings,
                partnership_code=PARTNERSHIP,
                lang=lang,
                actor=Actor("demo evaluator"),
            )
        if result.status == "rejected":
            raise DemoError(f"{name}: " + "; ".join(f"{e.code} {e.cell}: {e.message}" for e in result.errors))
        summary.measurement_files += 1
        if result.status == "duplicate":
            summary.duplicates += 1
    add_followup(settings=settings, session_factory=session_factory)
    summary.seconds = time.perf_counter() - started
    return summary


def _record_arrivals(session_factory: sessionmaker[Session], arrived: dict[int | None, dt.date]) -> None:
    """The demo's reports were uploaded today but arrived in their quarter's weeks: one bulk update."""
    rows = [{"sid": sid, "day": day} for sid, day in arrived.items() if sid is not None]
    if not rows:
        return
    with transaction(session_factory) as session:
        table = Submission.__table__
        assert isinstance(table, Table)
        session.execute(update(table).where(table.c.id == bindparam("sid")).values(received_on=bindparam("day")), rows)


def demo_uploaders(session: Session) -> dict[str, Actor]:
    """The demo's partner accounts, when they exist: their partners' reports are uploaded by them, so the
    queue and the history name who uploaded."""
    from mel.auth.models import User

    rows = session.execute(
        select(User.id, User.email, User.role, Partner.code)
        .outerjoin(Partner, Partner.id == User.partner_id)
        .where(User.email.like("%@demo.mel"), User.role == "partner")
        .order_by(User.id)
    ).all()
    return {code: Actor(email, user_id=id_, role=role) for id_, email, role, code in rows}


def _submission_id(result: object) -> int | None:
    """The id of the submission an accepted import created."""
    for attr in ("submission_id", "submission"):
        value = getattr(result, attr, None)
        if isinstance(value, int):
            return value
        if value is not None and isinstance(getattr(value, "id", None), int):
            return int(value.id)
    return None


def demo_users(session_factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    """Create the demo users when the auth module offers them: (email, role, password) to print."""
    try:
        from mel.auth.service import create_demo_users
    except ImportError:
        return []
    with transaction(session_factory) as session:
        return list(create_demo_users(session))


def run_demo(settings: Settings, *, echo: Callable[[str], None]) -> DemoSummary:
    """`mel demo` minus the server: build (or recognize) the history, create users, report what was done."""
    from mel.core.db import make_engine, make_sessionmaker
    from mel.core.i18n import t

    lang = settings.default_lang
    engine = make_engine(settings.database_url)
    try:
        factory = make_sessionmaker(engine)
        users = demo_users(factory)  # first: the history's uploads and reviews are theirs
        echo(t(lang, "Building the demo history (quarterly reports 2018Q1-2022Q2, reviews, measurements)..."))
        summary = build_demo(settings=settings, session_factory=factory)
        if summary.already_built:
            echo(t(lang, "The demo history is already in the database: nothing imported."))
        else:
            echo(
                t(
                    lang,
                    "{imported} quarterly reports imported ({approved} approved, {returned} returned and "
                    "corrected, {pending} awaiting review) and {measurements} measurement workbooks in {seconds} s.",
                    imported=summary.imported,
                    approved=summary.approved,
                    returned=summary.returned,
                    pending=summary.pending,
                    measurements=summary.measurement_files,
                    seconds=f"{summary.seconds:.1f}",
                )
            )
    finally:
        engine.dispose()
    if users:
        from mel.auth.service import DEMO_USERS

        details = {email: (partner or "—", user_lang) for email, _role, partner, user_lang in DEMO_USERS}
        echo(t(lang, "Demo users (email, role, partner, language, password):"))
        for email, role, password in users:
            partner, user_lang = details.get(email, ("—", "en"))
            echo(f"  {email:24} {role:10} {partner:10} {user_lang:3} {password}")
    return summary
