"""Every mapped class, imported in one place so that Alembic and tests see the whole schema."""

from mel.auth.models import LoginAttempt, LoginSession, User
from mel.auth.tokens import ApiToken
from mel.catalog.models import (
    Category,
    Combination,
    CombinationMember,
    ContextEvent,
    Dimension,
    Indicator,
    Partner,
    Partnership,
    Result,
    Target,
    TargetRevision,
    indicator_dimension,
    indicator_partner,
    result_link,
)
from mel.core.audit import AuditEntry
from mel.core.db import Base
from mel.core.versions import FigureVersion
from mel.reports.job_models import ImportJob
from mel.reports.models import (
    ImportWarning,
    Measurement,
    MeasurementBatch,
    NarrativeEntry,
    StoredFile,
    Submission,
    SubmissionReview,
    TrainingAttendance,
    TrainingEvent,
    Value,
)
from mel.reports.review_models import EvidenceFile, ValueQuery, ValueQueryMessage

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Category",
    "Combination",
    "CombinationMember",
    "ContextEvent",
    "Dimension",
    "EvidenceFile",
    "FigureVersion",
    "ImportJob",
    "ImportWarning",
    "Indicator",
    "LoginAttempt",
    "LoginSession",
    "Measurement",
    "MeasurementBatch",
    "NarrativeEntry",
    "Partner",
    "Partnership",
    "Result",
    "StoredFile",
    "Submission",
    "SubmissionReview",
    "Target",
    "TargetRevision",
    "TrainingAttendance",
    "TrainingEvent",
    "User",
    "Value",
    "ValueQuery",
    "ValueQueryMessage",
    "indicator_dimension",
    "indicator_partner",
    "result_link",
]
