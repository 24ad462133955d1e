"""outlet tenders: an outlet may refuse a tender the chain takes

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outlet_tenders_refused",
        sa.Column("outlet_code", sa.String(16), sa.ForeignKey("outlets.code"), primary_key=True),
        sa.Column("tender_code", sa.String(16), sa.ForeignKey("tenders.code"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("outlet_tenders_refused")
