"""Spanish catalog fields: reference sheets and context events; warnings stored with their parameters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHEET_FIELDS = ("definition_es", "rationale_es", "data_source_es", "collection_method_es", "limitations_es")


def upgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        for name in SHEET_FIELDS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
    with op.batch_alter_table("context_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_es", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("description_es", sa.Text(), nullable=True))
    with op.batch_alter_table("import_warning", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_warning", schema=None) as batch_op:
        batch_op.drop_column("params")
    with op.batch_alter_table("context_event", schema=None) as batch_op:
        batch_op.drop_column("description_es")
        batch_op.drop_column("title_es")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        for name in reversed(SHEET_FIELDS):
            batch_op.drop_column(name)
