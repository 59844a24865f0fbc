"""figure_store: stored figures per partnership and data version

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:30:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "figure_version",
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_figure_version_partnership_id_partnership"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partnership_id", name=op.f("pk_figure_version")),
    )
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM partnership"))]
    if ids:
        connection.execute(
            sa.text("INSERT INTO figure_version (partnership_id, version, stamp) VALUES (:id, 0, :stamp)"),
            [{"id": i, "stamp": uuid.uuid4().hex} for i in ids],
        )


def downgrade() -> None:
    op.drop_table("figure_version")
