"""member merge: a member merged into another keeps its row, marked with the survivor

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite and PostgreSQL both have it): no batch table copy.
    op.add_column("customers", sa.Column("merged_into", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE customers DROP COLUMN merged_into")
