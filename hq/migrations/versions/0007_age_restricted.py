"""age-restricted products: the flag tills need to ask for the customer's age

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Hand-written; runs on SQLite (batch mode) and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite and PostgreSQL both have it): a batch table copy would
    # drop the table's unnamed CHECK constraints.
    op.add_column(
        "products",
        sa.Column("age_restricted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE products DROP COLUMN age_restricted")
