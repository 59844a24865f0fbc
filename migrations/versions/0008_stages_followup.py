"""stages_followup: stage indicators, repeat participants, training follow-up

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PERIOD = (
    "length(training_period) = 6 AND substr(training_period, 5, 1) = 'Q' "
    "AND substr(training_period, 6, 1) IN ('1','2','3','4')"
)


def upgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("levels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("new_participants_only", sa.Boolean(), server_default="0", nullable=False))
        batch_op.drop_constraint(op.f("ck_indicator_unit"), type_="check")
        batch_op.create_check_constraint(op.f("ck_indicator_unit"), "unit IN ('count', 'percent', 'yes_no', 'stage')")
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_training_attendance_repeat"),
            '"repeat" IS NULL OR ("repeat" >= 0 AND "repeat" <= female + male + other)',
        )
    op.create_table(
        "training_followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("training_period", sa.String(length=6), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("in_post", sa.Integer(), nullable=False),
        sa.Column("applying", sa.Integer(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("sheet", sa.String(length=64), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.CheckConstraint("months > 0", name=op.f("ck_training_followup_months")),
        sa.CheckConstraint("reached >= 0 AND in_post >= 0 AND applying >= 0", name=op.f("ck_training_followup_counts")),
        sa.CheckConstraint(
            "in_post <= reached AND applying <= reached", name=op.f("ck_training_followup_within_reached")
        ),
        sa.CheckConstraint(
            "participants IS NULL OR reached <= participants", name=op.f("ck_training_followup_participants")
        ),
        sa.CheckConstraint("title IS NOT NULL OR training_period IS NOT NULL", name=op.f("ck_training_followup_what")),
        sa.CheckConstraint("training_period IS NULL OR " + PERIOD, name=op.f("ck_training_followup_training_period")),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["user_account.id"], name=op.f("fk_training_followup_entered_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["category.id"], name=op.f("fk_training_followup_institution_id_category")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], name=op.f("fk_training_followup_partner_id_partner")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_training_followup_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_followup")),
    )
    with op.batch_alter_table("training_followup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_followup_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_followup_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_followup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_followup_submission_id"))
        batch_op.drop_index(batch_op.f("ix_training_followup_partner_id"))
    op.drop_table("training_followup")
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_training_attendance_repeat"), type_="check")
        batch_op.drop_column("repeat")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_indicator_unit"), type_="check")
        batch_op.create_check_constraint(op.f("ck_indicator_unit"), "unit IN ('count', 'percent', 'yes_no')")
        batch_op.drop_column("new_participants_only")
        batch_op.drop_column("levels")
