"""sale lines record a price override and the age check; sales found by receipt number

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL. The index serves a till's sale lookup
(``GET /v1/sync/sale``), which refunds a sale made at another till.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite and PostgreSQL both have them): no batch table copy.
    op.add_column("sale_lines", sa.Column("list_price_cents", sa.BigInteger(), nullable=True))
    op.add_column("sale_lines", sa.Column("price_override_by", sa.Uuid(), nullable=True))
    op.add_column(
        "sale_lines",
        sa.Column("age_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_sales_receipt_no", "sales", ["receipt_no"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sales_receipt_no", table_name="sales")
    for column in ("age_confirmed", "price_override_by", "list_price_cents"):
        op.execute(f"ALTER TABLE sale_lines DROP COLUMN {column}")
