"""One submission as its page shows it: header, values, trainings, narrative, warnings, counts.

Every function here only reads; ``submission_header`` returns None for a submission the user may
not see, and the other functions are called only after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from mel.auth.identity import CurrentUser
from mel.catalog.models import Category, Dimension, Indicator, Partner, Partnership
from mel.core.i18n import Bilingual
from mel.core.periods import fiscal_label
from mel.reports.display_names import combination_labels, user_name
from mel.reports.history import ReviewView, reviews_of
from mel.reports.import_warnings import warning_message
from mel.reports.models import (
    ImportWarning,
    NarrativeEntry,
    StoredFile,
    Submission,
    TrainingAttendance,
    TrainingEvent,
    Value,
)
from mel.workbooks.attendance import Attendance


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
    up, up_name = user_name()
    rev, rev_name = user_name()
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
    indicator_name: Bilingual
    unit: str
    categories: list[tuple[Bilingual, Bilingual]]
    """(dimension label, category label) pairs; empty for the total."""
    value: float
    comment: str | None
    sheet: str
    cell: str


def submission_values(session: Session, submission_id: int, limit: int | None = None) -> list[ValueView]:
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
    labels = combination_labels(session, {r[4] for r in rows})
    return [
        ValueView(code, Bilingual(name, name_es), unit, labels.get(combo, []), value, comment, sheet, cell)
        for code, name, name_es, unit, combo, value, comment, sheet, cell in rows
    ]


@dataclass
class TrainingView(Attendance):
    title: str
    start_date: dt.date
    end_date: dt.date | None
    pillar: str
    region: Bilingual
    modality: Bilingual
    institution: Bilingual
    sheet: str
    row: int


def submission_trainings(session: Session, submission_id: int, limit: int | None = None) -> list[TrainingView]:
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
            TrainingAttendance.repeat,
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
        female, male, other, under_18, hours, pre, post, repeat, sheet, row = counts
        views.append(
            TrainingView(
                title,
                start,
                end,
                pillar,
                Bilingual(reg_en, reg_es),
                Bilingual(mod_en, mod_es),
                Bilingual(inst_en, inst_es),
                sheet,
                row,
                female=female,
                male=male,
                other=other,
                under_18=under_18,
                hours=hours,
                pre_score=pre,
                post_score=post,
                repeat=repeat,
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
    who, who_name = user_name()
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


def category_labels(session: Session, partnership: str) -> dict[tuple[str, str], tuple[Bilingual, Bilingual]]:
    """(dimension code, category code) -> (dimension label, category label) for one partnership."""
    rows = session.execute(
        select(
            Dimension.code, Dimension.label_en, Dimension.label_es, Category.code, Category.label_en, Category.label_es
        )
        .join(Category, Category.dimension_id == Dimension.id)
        .join(Partnership, Partnership.id == Dimension.partnership_id)
        .where(Partnership.code == partnership)
    )
    return {(d, c): (Bilingual(den, des), Bilingual(cen, ces)) for d, den, des, c, cen, ces in rows}


def labelled(
    categories: dict[str, str], labels: dict[tuple[str, str], tuple[Bilingual, Bilingual]]
) -> list[tuple[Bilingual, Bilingual]]:
    """Category codes of a diff line as labels (codes when the catalog no longer has them)."""
    return [labels.get((dim, cat), (Bilingual(dim), Bilingual(cat))) for dim, cat in categories.items()]


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
