"""price schedule: future price steps from HQ, applied by the till at their moment

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_schedule",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("effective_at", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_cents >= 0"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("product_id", "effective_at"),
    )


def downgrade() -> None:
    op.drop_table("price_schedule")
