"""What the reporting pages read: upload choices, histories, the review queue and one submission.

Every function here only reads; scoping to what a user may see is done by the caller passing the
partner ids (``CurrentUser.visible_partner_ids``) or by ``submission_header`` returning None.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from mel.auth.identity import CurrentUser
from mel.auth.models import User
from mel.catalog.models import (
    Category,
    CombinationMember,
    Dimension,
    Indicator,
    Partner,
    Partnership,
    indicator_partner,
)
from mel.core.periods import fiscal_label, quarter_of, quarter_start, quarters
from mel.reports.import_warnings import warning_message
from mel.reports.models import (
    ImportWarning,
    NarrativeEntry,
    StoredFile,
    Submission,
    SubmissionReview,
    TrainingAttendance,
    TrainingEvent,
    Value,
)
from mel.reports.queries_values import open_counts
from mel.reports.review import level_expression


def _label(lang: str, en: str, es: str | None) -> str:
    return es if lang == "es" and es else en


def last_ended_quarter(today: dt.date) -> str:
    """The quarter a partner reports on now: the last one that has ended."""
    return quarter_of(quarter_start(quarter_of(today)) - dt.timedelta(days=1))


@dataclass(frozen=True)
class PartnerChoice:
    id: int
    code: str
    name: str
    parent_code: str | None
    partnership_code: str
    partnership_name: str
    first_period: str
    last_period: str
    fiscal_year_start: int
    parent_name: str | None = None  # what the page shows: names, not codes

    def fiscal(self, period: str) -> str:
        """The partnership's fiscal label of a calendar quarter (FY2021 Q4 for 2021Q3 when FY starts in October)."""
        return fiscal_label(period, self.fiscal_year_start)


def reporting_partners(session: Session, user: CurrentUser) -> list[PartnerChoice]:
    """Partners this user may download templates and upload reports for (only those with indicators).

    A partner user gets their own organization and, for a prime, its sub-recipients; staff get all.
    """
    sub = select(indicator_partner.c.partner_id).distinct().scalar_subquery()
    parent = aliased(Partner)
    query = (
        select(
            Partner.id,
            Partner.code,
            Partner.name,
            parent.code,
            Partnership.code,
            Partnership.name,
            Partnership.name_es,
            Partnership.starts_on,
            Partnership.ends_on,
            Partnership.fiscal_year_start,
            parent.name,
        )
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .outerjoin(parent, parent.id == Partner.parent_id)
        .where(Partner.id.in_(sub))
        .order_by(Partnership.code, Partner.id)
    )
    if user.is_partner:
        query = query.where(Partner.id.in_(list(user.visible_partner_ids) or [-1]))
    lang = user.lang
    return [
        PartnerChoice(
            pid,
            code,
            name,
            pcode,
            partnership_id,
            _label(lang, name_en, name_es),
            quarter_of(start),
            quarter_of(end),
            fy,
            pname,
        )
        for pid, code, name, pcode, partnership_id, name_en, name_es, start, end, fy, pname in session.execute(query)
    ]


def period_choices(choice: PartnerChoice, today: dt.date) -> list[str]:
    """The partnership's quarters that have ended, newest first (a report is about a past quarter)."""
    last = min(choice.last_period, last_ended_quarter(today))
    return list(reversed(list(quarters(choice.first_period, last))))


@dataclass(frozen=True)
class CurrentVersion:
    id: int
    version: int
    status: str


def current_version(session: Session, partner_id: int, period: str) -> CurrentVersion | None:
    """The version that counts now for a partner and period (None when nothing was uploaded)."""
    row = session.execute(
        select(Submission.id, Submission.version, Submission.status).where(
            Submission.partner_id == partner_id, Submission.period == period, Submission.status != "superseded"
        )
    ).first()
    return CurrentVersion(*row) if row else None


@dataclass
class ReviewView:
    action: str
    comment: str | None
    by: str | None
    at: dt.datetime
    level: str = "officer"


@dataclass
class HistoryRow:
    id: int
    partner: str
    partner_name: str
    period: str
    fiscal_period: str
    version: int
    status: str
    uploaded_by: str | None
    uploaded_at: dt.datetime
    reason: str | None
    filename: str
    reviews: list[ReviewView] = field(default_factory=list)


def _user_name() -> tuple[Any, ColumnElement[str]]:
    """An alias of the user table and the name to show for it (the email when no name is set)."""
    who = aliased(User)
    return who, func.coalesce(who.name, who.email)


def partner_history(session: Session, partner_ids: list[int]) -> list[HistoryRow]:
    """Every version of these partners' reports, newest quarter first, with their reviews."""
    who, who_name = _user_name()
    rows = session.execute(
        select(
            Submission.id,
            Partner.code,
            Partner.name,
            Submission.period,
            Partnership.fiscal_year_start,
            Submission.version,
            Submission.status,
            who_name,
            Submission.uploaded_at,
            Submission.reason,
            StoredFile.original_name,
        )
        .join(Partner, Partner.id == Submission.partner_id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .join(StoredFile, StoredFile.sha256 == Submission.file_sha256)
        .outerjoin(who, who.id == Submission.uploaded_by_id)
        .where(Submission.partner_id.in_(partner_ids or [-1]))
        .order_by(Submission.period.desc(), Partner.code, Submission.version.desc())
    ).all()
    history = [
        HistoryRow(sid, code, name, period, fiscal_label(period, fy), version, status, by, at, reason, filename)
        for sid, code, name, period, fy, version, status, by, at, reason, filename in rows
    ]
    reviews = reviews_of(session, [h.id for h in history])
    for h in history:
        h.reviews = reviews.get(h.id, [])
    return history


def reviews_of(session: Session, submission_ids: list[int]) -> dict[int, list[ReviewView]]:
    if not submission_ids:
        return {}
    who, who_name = _user_name()
    out: dict[int, list[ReviewView]] = defaultdict(list)
    for sid, action, comment, by, at, level in session.execute(
        select(
            SubmissionReview.submission_id,
            SubmissionReview.action,
            SubmissionReview.comment,
            who_name,
            SubmissionReview.at,
            SubmissionReview.level,
        )
        .outerjoin(who, who.id == SubmissionReview.by_id)
        .where(SubmissionReview.submission_id.in_(submission_ids))
        .order_by(SubmissionReview.id)
    ):
        out[sid].append(ReviewView(action, comment, by, at, level))
    return out


@dataclass(frozen=True)
class QueueRow:
    id: int
    partnership: str
    partner: str
    partner_name: str
    period: str
    fiscal_period: str
    version: int
    uploaded_at: dt.datetime
    uploaded_by: str | None
    warnings: int
    reason: str | None
    level: str = "officer"
    """``prime`` while a sub-recipient's report awaits its prime partner's review."""
    prime_id: int | None = None
    open_queries: int = 0


def review_queue(session: Session, *, partnership: str | None = None, partner: str | None = None) -> list[QueueRow]:
    """Current versions awaiting review, oldest upload first, with their count of import warnings."""
    who, who_name = _user_name()
    warnings = (
        select(ImportWarning.submission_id, func.count().label("n")).group_by(ImportWarning.submission_id).subquery()
    )
    query = (
        select(
            Submission.id,
            Partnership.code,
            Partner.code,
            Partner.name,
            Submission.period,
            Partnership.fiscal_year_start,
            Submission.version,
            Submission.uploaded_at,
            who_name,
            func.coalesce(warnings.c.n, 0),
            Submission.reason,
            level_expression(),
            Partner.parent_id,
            Submission.partner_id,
        )
        .join(Partner, Partner.id == Submission.partner_id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .outerjoin(who, who.id == Submission.uploaded_by_id)
        .outerjoin(warnings, warnings.c.submission_id == Submission.id)
        .where(Submission.status == "submitted")
        .order_by(Submission.uploaded_at, Submission.id)
    )
    if partnership:
        query = query.where(Partnership.code == partnership)
    if partner:
        query = query.where(Partner.code == partner)
    rows = session.execute(query).all()
    counts = open_counts(session, list({r[-1] for r in rows}))
    return [
        QueueRow(
            sid,
            found,
            code,
            name,
            period,
            fiscal_label(period, fy),
            version,
            at,
            by,
            int(n),
            reason,
            level,
            prime,
            counts.get((pid, period), 0),
        )
        for sid, found, code, name, period, fy, version, at, by, n, reason, level, prime, pid in rows
    ]


@dataclass(frozen=True)
class FilterOption:
    code: str
    name: str
    partnership: str


def queue_filters(session: Session, lang: str) -> tuple[list[FilterOption], list[FilterOption]]:
    """Partnerships and partners to filter the review queue by."""
    partnerships = [
        FilterOption(code, _label(lang, name, name_es), code)
        for code, name, name_es in session.execute(
            select(Partnership.code, Partnership.name, Partnership.name_es).order_by(Partnership.code)
        )
    ]
    partners = [
        FilterOption(code, name, partnership)
        for code, name, partnership in session.execute(
            select(Partner.code, Partner.name, Partnership.code)
            .join(Partnership, Partnership.id == Partner.partnership_id)
            .order_by(Partnership.code, Partner.code)
        )
    ]
    return partnerships, partners


@dataclass
class SubmissionHeader:
    id: int
    partner_id: int
    partner: str
    partner_name: str
    partnership: str
    period: str
    fiscal_period: str
    version: int
    status: str
    lang: str
    prepared_by: str | None
    report_date: dt.date | None
    reason: str | None
    uploaded_by: str | None
    uploaded_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_comment: str | None
    file_sha256: str
    filename: str
    file_size: int
    newer_id: int | None = None
    reviews: list[ReviewView] = field(default_factory=list)

    @property
    def superseded(self) -> bool:
        return self.status == "superseded"


def submission_header(session: Session, submission_id: int, user: CurrentUser) -> SubmissionHeader | None:
    """One submission's header, or None when it does not exist or this user may not see it.

    Partner users see only their partners' submissions; evaluators only approved ones.
    """
    up, up_name = _user_name()
    rev, rev_name = _user_name()
    row: Any = session.execute(
        select(
            Submission.id,
            Submission.partner_id,
            Partner.code,
            Partner.name,
            Partnership.code,
            Submission.period,
            Partnership.fiscal_year_start,
            Submission.version,
            Submission.status,
            Submission.lang,
            Submission.prepared_by,
            Submission.report_date,
            Submission.reason,
            up_name,
            Submission.uploaded_at,
            rev_name,
            Submission.reviewed_at,
            Submission.review_comment,
            Submission.file_sha256,
            StoredFile.original_name,
            StoredFile.size,
        )
        .join(Partner, Partner.id == Submission.partner_id)
        .join(Partnership, Partnership.id == Partner.partnership_id)
        .join(StoredFile, StoredFile.sha256 == Submission.file_sha256)
        .outerjoin(up, up.id == Submission.uploaded_by_id)
        .outerjoin(rev, rev.id == Submission.reviewed_by_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None:
        return None
    (sid, pid, code, name, partnership, period, fy, version, status, lang, prepared, rdate, reason) = row[:13]
    (by, at, rby, rat, rcomment, sha, filename, size) = row[13:]
    if not user.sees_partner(pid) or (user.role == "evaluator" and status != "approved"):
        return None
    header = SubmissionHeader(
        sid,
        pid,
        code,
        name,
        partnership,
        period,
        fiscal_label(period, fy),
        version,
        status,
        lang,
        prepared,
        rdate,
        reason,
        by,
        at,
        rby,
        rat,
        rcomment,
        sha,
        filename,
        size,
    )
    if header.superseded:
        header.newer_id = session.scalar(
            select(Submission.id).where(
                Submission.partner_id == pid, Submission.period == period, Submission.status != "superseded"
            )
        )
    header.reviews = reviews_of(session, [sid]).get(sid, [])
    return header


@dataclass(frozen=True)
class ValueView:
    indicator: str
    indicator_name: str
    unit: str
    categories: list[tuple[str, str]]
    """(dimension label, category label) pairs; empty for the total."""
    value: float
    comment: str | None
    sheet: str
    cell: str


def combination_labels(session: Session, combination_ids: set[int], lang: str) -> dict[int, list[tuple[str, str]]]:
    """(dimension, category) labels of each combination, dimensions in catalog order."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not combination_ids:
        return out
    for combo, dim_en, dim_es, cat_en, cat_es in session.execute(
        select(
            CombinationMember.combination_id,
            Dimension.label_en,
            Dimension.label_es,
            Category.label_en,
            Category.label_es,
        )
        .join(Category, Category.id == CombinationMember.category_id)
        .join(Dimension, Dimension.id == CombinationMember.dimension_id)
        .where(CombinationMember.combination_id.in_(combination_ids))
        .order_by(CombinationMember.combination_id, Dimension.position)
    ):
        out[combo].append((_label(lang, dim_en, dim_es), _label(lang, cat_en, cat_es)))
    return out


def submission_values(session: Session, submission_id: int, lang: str, limit: int | None = None) -> list[ValueView]:
    """The values of a submission in workbook order (at most ``limit``: pages stay light on slow links)."""
    rows = session.execute(
        select(
            Indicator.code,
            Indicator.name,
            Indicator.name_es,
            Indicator.unit,
            Value.combination_id,
            Value.value,
            Value.comment,
            Value.sheet,
            Value.cell,
        )
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.submission_id == submission_id)
        .order_by(Value.id)
        .limit(limit)
    ).all()
    labels = combination_labels(session, {r[4] for r in rows}, lang)
    return [
        ValueView(code, _label(lang, name, name_es), unit, labels.get(combo, []), value, comment, sheet, cell)
        for code, name, name_es, unit, combo, value, comment, sheet, cell in rows
    ]


@dataclass(frozen=True)
class TrainingView:
    title: str
    start_date: dt.date
    end_date: dt.date | None
    pillar: str
    region: str
    modality: str
    institution: str
    female: int
    male: int
    other: int
    under_18: int | None
    hours: float | None
    pre_score: float | None
    post_score: float | None
    sheet: str
    row: int


def submission_trainings(
    session: Session, submission_id: int, lang: str, limit: int | None = None
) -> list[TrainingView]:
    """The training rows of a submission in workbook order (at most ``limit``)."""
    region, modality, institution = aliased(Category), aliased(Category), aliased(Category)
    rows = session.execute(
        select(
            TrainingEvent.title,
            TrainingEvent.start_date,
            TrainingEvent.end_date,
            TrainingEvent.pillar,
            region.label_en,
            region.label_es,
            modality.label_en,
            modality.label_es,
            institution.label_en,
            institution.label_es,
            TrainingAttendance.female,
            TrainingAttendance.male,
            TrainingAttendance.other,
            TrainingAttendance.under_18,
            TrainingAttendance.hours,
            TrainingAttendance.pre_score,
            TrainingAttendance.post_score,
            TrainingAttendance.sheet,
            TrainingAttendance.row,
        )
        .join(TrainingEvent, TrainingEvent.id == TrainingAttendance.event_id)
        .join(region, region.id == TrainingEvent.region_id)
        .join(modality, modality.id == TrainingEvent.modality_id)
        .join(institution, institution.id == TrainingAttendance.institution_id)
        .where(TrainingEvent.submission_id == submission_id)
        .order_by(TrainingAttendance.row, TrainingAttendance.id)
        .limit(limit)
    ).all()
    views = []
    for r in rows:
        title, start, end, pillar, reg_en, reg_es, mod_en, mod_es, inst_en, inst_es, *counts = r
        female, male, other, under_18, hours, pre, post, sheet, row = counts
        views.append(
            TrainingView(
                title,
                start,
                end,
                pillar,
                _label(lang, reg_en, reg_es),
                _label(lang, mod_en, mod_es),
                _label(lang, inst_en, inst_es),
                female,
                male,
                other,
                under_18,
                hours,
                pre,
                post,
                sheet,
                row,
            )
        )
    return views


def submission_narrative(session: Session, submission_id: int) -> list[tuple[str, str]]:
    return [
        (section, text)
        for section, text in session.execute(
            select(NarrativeEntry.section, NarrativeEntry.text)
            .where(NarrativeEntry.submission_id == submission_id)
            .order_by(NarrativeEntry.position, NarrativeEntry.id)
        )
    ]


@dataclass(frozen=True)
class WarningView:
    code: str
    sheet: str | None
    cell: str | None
    message: str
    explained: bool
    explanation: str | None
    explained_by: str | None
    params: dict[str, Any] | None = None

    def text(self, lang: str) -> str:
        """The warning in the reader's language, whatever the language of the upload."""
        return warning_message(self.code, self.params, lang, self.message)


def submission_warnings(session: Session, submission_id: int) -> list[WarningView]:
    who, who_name = _user_name()
    return [
        WarningView(code, sheet, cell, message, at is not None, explanation, by, params)
        for code, sheet, cell, message, at, explanation, by, params in session.execute(
            select(
                ImportWarning.code,
                ImportWarning.sheet,
                ImportWarning.cell,
                ImportWarning.message,
                ImportWarning.explained_at,
                ImportWarning.explanation,
                who_name,
                ImportWarning.params,
            )
            .outerjoin(who, who.id == ImportWarning.explained_by_id)
            .where(ImportWarning.submission_id == submission_id)
            .order_by(ImportWarning.id)
        )
    ]


def category_labels(session: Session, partnership: str, lang: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(dimension code, category code) -> (dimension label, category label) for one partnership."""
    rows = session.execute(
        select(
            Dimension.code, Dimension.label_en, Dimension.label_es, Category.code, Category.label_en, Category.label_es
        )
        .join(Category, Category.dimension_id == Dimension.id)
        .join(Partnership, Partnership.id == Dimension.partnership_id)
        .where(Partnership.code == partnership)
    )
    return {(d, c): (_label(lang, den, des), _label(lang, cen, ces)) for d, den, des, c, cen, ces in rows}


def labelled(categories: dict[str, str], labels: dict[tuple[str, str], tuple[str, str]]) -> list[tuple[str, str]]:
    """Category codes of a diff line as labels (codes when the catalog no longer has them)."""
    return [labels.get((dim, cat), (dim, cat)) for dim, cat in categories.items()]


def submission_counts(session: Session, submission_id: int) -> tuple[int, int]:
    """How many values and training rows a submission holds."""
    values = session.scalar(select(func.count()).select_from(Value).where(Value.submission_id == submission_id))
    trainings = session.scalar(
        select(func.count())
        .select_from(TrainingAttendance)
        .join(TrainingEvent, TrainingEvent.id == TrainingAttendance.event_id)
        .where(TrainingEvent.submission_id == submission_id)
    )
    return int(values or 0), int(trainings or 0)


def indicator_labels(session: Session, indicator_ids: set[int], lang: str) -> dict[int, str]:
    """ "code · name" of each indicator, in the reader's language: the upload page names an error's row."""
    rows = session.execute(
        select(Indicator.id, Indicator.code, Indicator.name, Indicator.name_es).where(Indicator.id.in_(indicator_ids))
    )
    return {id_: f"{code} · {_label(lang, name, name_es)}" for id_, code, name, name_es in rows}
