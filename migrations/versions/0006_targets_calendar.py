"""targets_calendar: target history, reporting calendar, received dates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_in", sa.String(length=16), nullable=True))
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_on", sa.Date(), nullable=True))
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_target_indicator_id_period", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_target_indicator_id_period_partner_id_category_id"),
            ["indicator_id", "period", "partner_id", "category_id"],
        )
        batch_op.create_index(batch_op.f("ix_target_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_target_category_id"), ["category_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_target_partner_id_partner"), "partner", ["partner_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_target_category_id_category"), "category", ["category_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "target_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("effective_from", sa.String(length=6), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"], ["target.id"], name=op.f("fk_target_revision_target_id_target"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_target_revision_recorded_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_revision")),
    )
    with op.batch_alter_table("target_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_target_revision_target_id"), ["target_id"], unique=False)
    # every stored target gets its history's first entry: the original value, in force from the start
    op.execute(
        "INSERT INTO target_revision (target_id, value, source, recorded_at) "
        "SELECT id, value, 'catalog', CURRENT_TIMESTAMP FROM target"
    )


def downgrade() -> None:
    with op.batch_alter_table("target_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_target_revision_target_id"))
    op.drop_table("target_revision")
    op.execute("DELETE FROM target WHERE partner_id IS NOT NULL OR category_id IS NOT NULL")
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_target_category_id_category"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_target_partner_id_partner"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_target_category_id"))
        batch_op.drop_index(batch_op.f("ix_target_partner_id"))
        batch_op.drop_constraint(batch_op.f("uq_target_indicator_id_period_partner_id_category_id"), type_="unique")
        batch_op.create_unique_constraint("uq_target_indicator_id_period", ["indicator_id", "period"])
        batch_op.drop_column("category_id")
        batch_op.drop_column("partner_id")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("received_on")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_column("reported_in")
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_column("ends_on")
        batch_op.drop_column("starts_on")
