"""review_queries_evidence: two-level review, value queries, evidence files

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIOD = "length(period) = 6 AND substr(period, 5, 1) = 'Q' AND substr(period, 6, 1) IN ('1','2','3','4')"


def upgrade() -> None:
    with op.batch_alter_table("submission_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level", sa.String(length=8), server_default="officer", nullable=False))
        batch_op.create_check_constraint(op.f("ck_submission_review_level"), "level IN ('prime', 'officer')")
    op.create_table(
        "value_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("combination_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("sheet", sa.String(length=64), nullable=True),
        sa.Column("cell", sa.String(length=16), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_submission_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'answered', 'resolved')", name=op.f("ck_value_query_status")),
        sa.CheckConstraint("level IN ('prime', 'officer')", name=op.f("ck_value_query_level")),
        sa.CheckConstraint(PERIOD, name=op.f("ck_value_query_period")),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], name=op.f("fk_value_query_partner_id_partner")),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicator.id"], name=op.f("fk_value_query_indicator_id_indicator")),
        sa.ForeignKeyConstraint(
            ["combination_id"], ["combination.id"], name=op.f("fk_value_query_combination_id_combination")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_value_query_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"], ["user_account.id"], name=op.f("fk_value_query_asked_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["user_account.id"], name=op.f("fk_value_query_resolved_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_submission_id"],
            ["submission.id"],
            name=op.f("fk_value_query_resolved_submission_id_submission"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_query")),
    )
    with op.batch_alter_table("value_query", schema=None) as batch_op:
        batch_op.create_index("ix_value_query_report", ["partner_id", "period", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_value_query_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "value_query_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["value_query.id"],
            name=op.f("fk_value_query_message_query_id_value_query"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["by_id"], ["user_account.id"], name=op.f("fk_value_query_message_by_id_user_account")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_value_query_message_submission_id_submission"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_query_message")),
    )
    with op.batch_alter_table("value_query_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_value_query_message_query_id"), ["query_id"], unique=False)
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=True),
        sa.Column("combination_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("original_name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(PERIOD, name=op.f("ck_evidence_file_period")),
        sa.CheckConstraint("combination_id IS NULL OR indicator_id IS NOT NULL", name=op.f("ck_evidence_file_value")),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], name=op.f("fk_evidence_file_partner_id_partner")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_evidence_file_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_evidence_file_indicator_id_indicator")
        ),
        sa.ForeignKeyConstraint(
            ["combination_id"], ["combination.id"], name=op.f("fk_evidence_file_combination_id_combination")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user_account.id"], name=op.f("fk_evidence_file_uploaded_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
    )
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_file_report", ["partner_id", "period"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_file_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_file_submission_id"))
        batch_op.drop_index("ix_evidence_file_report")
    op.drop_table("evidence_file")
    with op.batch_alter_table("value_query_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_value_query_message_query_id"))
    op.drop_table("value_query_message")
    with op.batch_alter_table("value_query", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_value_query_submission_id"))
        batch_op.drop_index("ix_value_query_report")
    op.drop_table("value_query")
    with op.batch_alter_table("submission_review", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_submission_review_level"), type_="check")
        batch_op.drop_column("level")
