"""figures: numerators, denominators, survey margins; a measurement upload's partnership

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("numerator_label", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("denominator_label", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("baseline_quarters", sa.Integer(), nullable=True))
    with op.batch_alter_table("value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("numerator", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("denominator", sa.Float(), nullable=True))
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("margin_of_error", sa.Float(), nullable=True))
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partnership_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_column("partnership_code")
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_column("margin_of_error")
        batch_op.drop_column("sample_size")
    with op.batch_alter_table("value", schema=None) as batch_op:
        batch_op.drop_column("denominator")
        batch_op.drop_column("numerator")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_column("baseline_quarters")
        batch_op.drop_column("denominator_label")
        batch_op.drop_column("numerator_label")
