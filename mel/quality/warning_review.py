"""Import warnings (outliers, cumulative values by mistake) and their explanations by program officers.

The import writes a warning and never blocks; an officer who has checked it with the partner marks
it explained, with a comment, and the change goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partner
from mel.core.audit import Actor, record
from mel.core.db import utcnow
from mel.reports.import_warnings import warning_message
from mel.reports.models import ImportWarning, Submission, Value


@dataclass(frozen=True)
class WarningLine:
    id: int
    code: str
    message: str
    sheet: str | None
    cell: str | None
    partner: str
    partner_name: str
    partner_id: int
    period: str
    submission_id: int
    submission_version: int
    explanation: str | None
    explained_at: dt.datetime | None
    params: dict[str, Any] | None = None

    def text(self, lang: str) -> str:
        """The warning in the reader's language, whatever the language of the upload."""
        return warning_message(self.code, self.params, lang, self.message)


class WarningNotFound(LookupError):
    """No such warning in this partnership (or not visible to the user)."""


def import_warnings(
    session: Session,
    *,
    partnership_id: int,
    partner_ids: list[int] | None = None,
    include_explained: bool = False,
    approved_only: bool = False,
    hide_sensitive: bool = False,
) -> list[WarningLine]:
    """Warnings of the current (non-superseded) reports of a partnership, open ones only by default.

    For evaluators: ``approved_only`` leaves out reports never approved, and ``hide_sensitive``
    the warnings on cells of sensitive indicators, whose messages quote the reported number.
    """
    query = (
        select(
            ImportWarning.id,
            ImportWarning.code,
            ImportWarning.message,
            ImportWarning.sheet,
            ImportWarning.cell,
            Partner.code.label("partner"),
            Partner.name.label("partner_name"),
            Partner.id.label("partner_id"),
            Submission.period,
            Submission.id.label("submission_id"),
            Submission.version.label("submission_version"),
            ImportWarning.explanation,
            ImportWarning.explained_at,
            ImportWarning.params,
        )
        .join(Submission, Submission.id == ImportWarning.submission_id)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(Partner.partnership_id == partnership_id, Submission.status != "superseded")
        .order_by(Submission.period.desc(), Partner.code, ImportWarning.id)
    )
    if partner_ids is not None:
        query = query.where(Partner.id.in_(partner_ids or [-1]))
    if not include_explained:
        query = query.where(ImportWarning.explained_at.is_(None))
    if approved_only:
        query = query.where(Submission.status == "approved")
    if hide_sensitive:
        on_sensitive = (
            select(Value.id)
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(
                Value.submission_id == ImportWarning.submission_id,
                Value.sheet == ImportWarning.sheet,
                Value.cell == ImportWarning.cell,
                Indicator.sensitive.is_(True),
            )
            .exists()
        )
        query = query.where(~on_sensitive)
    return [WarningLine(**row._asdict()) for row in session.execute(query)]


def explain_warning(
    *,
    session: Session,
    warning_id: int,
    partnership_id: int,
    explanation: str,
    user_id: int | None,
    actor: Actor,
) -> ImportWarning:
    """Mark a warning explained with the officer's comment; audited. An empty comment is refused."""
    text = explanation.strip()
    if not text:
        raise ValueError("an explanation is required")
    warning = session.scalars(
        select(ImportWarning)
        .join(Submission, Submission.id == ImportWarning.submission_id)
        .join(Partner, Partner.id == Submission.partner_id)
        .where(ImportWarning.id == warning_id, Partner.partnership_id == partnership_id)
    ).one_or_none()
    if warning is None:
        raise WarningNotFound(warning_id)
    before = {"explanation": warning.explanation, "explained_by_id": warning.explained_by_id}
    warning.explanation = text
    warning.explained_by_id = user_id
    warning.explained_at = utcnow()
    record(
        session,
        actor=actor,
        action="warning.explain",
        entity="import_warning",
        entity_id=warning.id,
        summary=f"{warning.code}: {text[:200]}",
        before=before,
        after={"explanation": text, "explained_by_id": user_id},
    )
    session.flush()
    return warning
