"""till reports: each terminal's pending count and app version from its last push

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("terminals", sa.Column("reported_pending", sa.Integer(), nullable=True))
    op.add_column("terminals", sa.Column("app_version", sa.String(40), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE terminals DROP COLUMN app_version")
    op.execute("ALTER TABLE terminals DROP COLUMN reported_pending")
